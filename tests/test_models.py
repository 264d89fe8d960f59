"""Models and the converter: wire names, strict types, extras, round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import cattrs
import pytest
from core_support import API, client, mocked_api, project_wire
from hypothesis import given
from hypothesis import strategies as st

from nuextract_async import (
    NOT_GIVEN,
    CreateProjectRequest,
    InvalidRequestError,
    ProjectResponse,
    ProjectSettingsResponse,
    ResponseValidationError,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)
from nuextract_async._converter import WIRE_NAMES, dump_json, from_wire, to_wire

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
templates = st.dictionaries(st.text(max_size=10), json_values, max_size=4)
texts = st.text(max_size=20)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=zones
)
numbers = st.floats(0, 1) | st.sampled_from([0, 1])


def _extras(known: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(min_size=1, max_size=10).filter(lambda k: k not in known)
    return st.dictionaries(keys, json_values, max_size=3)


SETTINGS_KEYS = {"temperature", *WIRE_NAMES.values()}
PROJECT_KEYS = set(project_wire())

settings = st.builds(
    ProjectSettingsResponse,
    temperature=st.floats(0, 1),
    rasterization_dpi=st.integers(1, 300),
    max_output_tokens=st.integers(0, 10**6),
    degraded_mode=texts,
    max_tokens_smart_example=st.integers(0, 32000),
    extra_fields=_extras(SETTINGS_KEYS),
)
projects = st.builds(
    ProjectResponse,
    id=texts,
    name=texts,
    description=texts,
    template=templates,
    owner_user=texts,
    created_at=instants,
    updated_at=instants,
    lock_state=st.booleans(),
    shared=st.booleans(),
    settings=settings,
    owner_organization=st.none() | texts,
    extra_fields=_extras(PROJECT_KEYS),
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(NOT_GIVEN) | strategy


requests = st.one_of(
    st.builds(
        CreateProjectRequest,
        name=texts,
        template=templates,
        description=texts,
        owner_organization=st.none() | texts,
    ),
    st.builds(
        UpdateProjectRequest,
        name=_maybe(texts),
        description=_maybe(texts),
        template=_maybe(templates),
    ),
    st.builds(
        UpdateProjectSettingsRequest,
        temperature=_maybe(numbers),
        rasterization_dpi=_maybe(st.integers(1, 300)),
        max_output_tokens=_maybe(st.integers(0, 10**6)),
        degraded_mode=_maybe(texts),
        max_tokens_smart_example=_maybe(st.integers(0, 32000)),
    ),
    st.builds(UpdateProjectTemplateRequest, template=templates),
)


def _through_json(value: Any) -> Any:
    return json.loads(json.dumps(value, allow_nan=False))


@given(projects)
def test_project_wire_round_trip(project: ProjectResponse) -> None:
    wire = _through_json(to_wire(project))

    assert from_wire(ProjectResponse, wire) == project
    assert set(wire) == PROJECT_KEYS | set(project.extra_fields)


@given(settings)
def test_settings_wire_round_trip(value: ProjectSettingsResponse) -> None:
    wire = _through_json(to_wire(value))

    assert from_wire(ProjectSettingsResponse, wire) == value


@given(requests)
def test_request_wire_round_trip(request: Any) -> None:
    wire = json.loads(dump_json(request))

    assert from_wire(type(request), wire) == request
    assert all(v is not NOT_GIVEN for v in wire.values())


def test_sample_body_decodes_to_the_expected_model() -> None:
    project = from_wire(ProjectResponse, project_wire())

    assert project.id == "p-1"
    assert project.owner_user == "user-1"
    assert project.settings.degraded_mode == "Reject"
    assert project.settings.max_tokens_smart_example == 16000
    assert project.extra_fields == {}
    assert to_wire(project) == project_wire(
        createdAt="2026-12-04T15:28:47.976578Z", updatedAt="2026-12-04T15:28:47Z"
    )


@pytest.mark.parametrize("temperature", [0, 1, 0.5])
def test_integral_temperature_is_a_float(temperature: float) -> None:
    body = project_wire()
    body["settings"] = body["settings"] | {"temperature": temperature}

    project = from_wire(ProjectResponse, body)

    assert project.settings.temperature == temperature
    assert type(project.settings.temperature) is float


def test_a_time_without_offset_is_utc() -> None:
    project = from_wire(ProjectResponse, project_wire(createdAt="2026-01-02T03:04:05"))

    assert project.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _settings(**changes: Any) -> dict[str, Any]:
    return project_wire()["settings"] | changes  # type: ignore[no-any-return]


# A body that does not fit, and the attribute the cattrs detail names.
MISFITS = [
    (project_wire(lockState="false"), "lock_state"),
    (project_wire(shared=0), "shared"),
    (project_wire(name=1), "name"),
    (project_wire(ownerOrganization=7), "owner_organization"),
    (project_wire(createdAt="yesterday"), "created_at"),
    (project_wire(createdAt=1764861727), "created_at"),
    (project_wire(template=["not", "an", "object"]), "template"),
    (project_wire(settings=_settings(rasterizationDPI=True)), "rasterization_dpi"),
    (project_wire(settings=_settings(maxOutputTokens=1.0)), "max_output_tokens"),
    (project_wire(settings=_settings(temperature="0.5")), "temperature"),
    (project_wire(settings=None), "settings"),
    ({k: v for k, v in project_wire().items() if k != "updatedAt"}, "updated_at"),
]


@pytest.mark.parametrize(("body", "field"), MISFITS)
async def test_misfit_answers_raise_response_validation_error(
    body: dict[str, Any], field: str
) -> None:
    raw = json.dumps(body)
    with mocked_api() as mocked:
        mocked.get(API + "/api/projects/p-1", body=raw)
        async with client() as nuextract:
            with pytest.raises(ResponseValidationError) as caught:
                await nuextract.projects.get("p-1")

    error = caught.value
    assert error.status == 200
    assert error.body == raw
    assert isinstance(error.detail, cattrs.BaseValidationError)
    assert field in "\n".join(cattrs.transform_error(error.detail))
    assert not error.may_have_been_applied


@pytest.mark.parametrize("body", ["", "not json", "[1, 2", "null", "[]", '"p-1"'])
async def test_a_project_answer_that_is_not_a_project(body: str) -> None:
    with mocked_api() as mocked:
        mocked.post(API + "/api/projects/p-1/duplicate", body=body)
        async with client() as nuextract:
            with pytest.raises(ResponseValidationError) as caught:
                await nuextract.projects.duplicate("p-1")

    assert caught.value.body == body
    assert caught.value.detail is not None
    assert caught.value.may_have_been_applied


async def test_one_bad_project_in_a_list_fails_the_list() -> None:
    body = json.dumps([project_wire(), project_wire(id=None)])
    with mocked_api() as mocked:
        mocked.get(API + "/api/projects", body=body)
        async with client() as nuextract:
            with pytest.raises(ResponseValidationError) as caught:
                await nuextract.projects.list()

    assert "id" in "\n".join(cattrs.transform_error(caught.value.detail))


@pytest.mark.parametrize(
    "build",
    [
        lambda: CreateProjectRequest(name=1, template={}),
        lambda: CreateProjectRequest(name="n", template=[1]),
        lambda: CreateProjectRequest(name="n", template={1: "x"}),
        lambda: CreateProjectRequest(name="n", template={}, description=None),
        lambda: CreateProjectRequest(name="n", template={}, owner_organization=3),
        lambda: UpdateProjectRequest(name=None),
        lambda: UpdateProjectRequest(template="{}"),
        lambda: UpdateProjectSettingsRequest(temperature=True),
        lambda: UpdateProjectSettingsRequest(temperature="0.5"),
        lambda: UpdateProjectSettingsRequest(temperature=float("nan")),
        lambda: UpdateProjectSettingsRequest(temperature=float("inf")),
        lambda: UpdateProjectSettingsRequest(rasterization_dpi=1.5),
        lambda: UpdateProjectSettingsRequest(max_output_tokens=False),
        lambda: UpdateProjectSettingsRequest(degraded_mode=None),
        lambda: UpdateProjectTemplateRequest(template=None),
    ],
)
def test_request_models_check_types(build: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        build()

    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)


@pytest.mark.parametrize(
    "template", [{"a": {1, 2}}, {"a": float("nan")}, {"a": object()}]
)
def test_a_template_json_cannot_carry_is_rejected(template: dict[str, Any]) -> None:
    # Refused when the model is built or, for NaN, when it is encoded.
    with pytest.raises(InvalidRequestError):
        dump_json(UpdateProjectTemplateRequest(template=template))


def test_the_template_is_copied_when_the_request_is_built() -> None:
    template = {"a": "string"}
    request = CreateProjectRequest(name="n", template=template)

    template["b"] = "number"

    assert request.template == {"a": "string"}


def test_partial_requests_carry_only_what_was_given() -> None:
    assert to_wire(UpdateProjectRequest()) == {}
    assert to_wire(UpdateProjectRequest(description="")) == {"description": ""}
    assert to_wire(UpdateProjectSettingsRequest(max_output_tokens=0)) == {
        "maxOutputTokens": 0
    }
    assert to_wire(CreateProjectRequest(name="n", template={})) == {
        "name": "n",
        "template": {},
        "description": "",
    }


def test_dump_json_is_compact_utf8() -> None:
    body = dump_json(UpdateProjectRequest(name="é"))

    assert body == '{"name":"é"}'.encode()


def test_request_dicts_with_unknown_keys_do_not_structure() -> None:
    with pytest.raises(cattrs.BaseValidationError):
        from_wire(UpdateProjectRequest, {"name": "n", "lockState": True})


def test_not_given_is_falsy_and_named() -> None:
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


def _nested(depth: int) -> dict[str, Any]:
    template: dict[str, Any] = {"leaf": "string"}
    for _ in range(depth):
        template = {"child": template}
    return template


@pytest.mark.parametrize(
    "template",
    [
        {"a": {1: "int key", "1": "string key"}},  # both would become "1"
        {"a": [{"b": {2: "x"}}]},
        {"a": {"b": {1, 2}}},
        {"a": object()},
    ],
    ids=["colliding keys", "int key in a list", "a set", "an object"],
)
def test_every_level_of_a_template_must_be_json(template: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError):
        CreateProjectRequest(name="n", template=template)
    with pytest.raises(InvalidRequestError):
        UpdateProjectRequest(template=template)


def test_a_template_too_deep_for_json_is_refused_with_a_typed_error() -> None:
    # Accepted by the shape check, which needs no recursion, then refused by
    # the encoder: an InvalidRequestError, not a bare RecursionError.
    request = CreateProjectRequest(name="n", template=_nested(5_000))

    with pytest.raises(InvalidRequestError):
        dump_json(request)


def test_a_known_field_wins_over_an_extra_field_of_the_same_name() -> None:
    project = from_wire(ProjectResponse, project_wire())
    tampered = attrs.evolve(project, extra_fields={"name": "EVIL", "more": 1})

    wire = to_wire(tampered)

    assert wire["name"] == project.name
    assert wire["more"] == 1
