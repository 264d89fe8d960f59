"""Properties of decoding: any answer is a model or a ResponseValidationError.

The pure decode path gets many generated bodies per operation, from random
JSON to valid projects with one field broken; a real loopback server gets
fewer, to show the socket path adds no other outcome. Models built with
hostile extra keys survive model -> wire -> model unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import pytest_asyncio
from badserver import RawServer, Reply, http, raw_server
from core_support import project_wire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuextract_async import (
    NOT_GIVEN,
    AsyncNuExtract,
    CreateProjectRequest,
    ProjectResponse,
    ProjectSettingsResponse,
    ResponseValidationError,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)
from nuextract_async._converter import WIRE_NAMES, dump_json, from_wire, to_wire
from nuextract_async._operations import OPERATIONS, Answer, build_request
from nuextract_async._projects import decode_answer

URL = "https://nuextract.test/api/projects"
REQUESTS = {
    name: build_request(op, "p-1" if op.needs_project_id else None)
    for name, op in OPERATIONS.items()
}

# Any text, lone surrogates included (JSON can carry them as \ud800 escapes).
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4)
    ),
    max_leaves=12,
)

WIRE = project_wire()
SETTINGS_WIRE = WIRE["settings"]


@st.composite
def damaged_projects(draw: st.DrawFn) -> Any:
    """A valid project wire with some keys removed, retyped or added."""
    wire = json.loads(json.dumps(WIRE))
    for _ in range(draw(st.integers(0, 3))):
        inner = wire.get("settings")
        target = draw(st.sampled_from([wire, inner] if inner else [wire]))
        if type(target) is not dict:
            continue
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(json_values)
    extra = draw(st.dictionaries(any_text, json_values, max_size=2))
    return wire | extra


answers = st.one_of(
    json_values,
    damaged_projects(),
    st.lists(damaged_projects(), max_size=3),
    st.just(WIRE),
    st.just([WIRE, WIRE]),
)


def encode(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode(errors="surrogatepass")


def check_decoded(name: str, body: bytes) -> Any:
    """Decode ``body`` as ``name``'s answer; assert it is one of the two outcomes."""
    request = REQUESTS[name]
    answer = request.operation.answer
    try:
        result = decode_answer(request, URL, 200, body)
    except ResponseValidationError as error:
        result = error
    if isinstance(result, ResponseValidationError):
        assert result.body == body.decode("utf-8", errors="replace")
        assert result.status == 200
        assert result.may_have_been_applied is (not request.operation.idempotent)
    elif answer is Answer.NOTHING:
        assert result is None
    elif answer is Answer.PROJECT:
        assert type(result) is ProjectResponse
        says_what_was_served(result, json.loads(body))
    else:
        data = json.loads(body)
        assert type(result) is list
        assert type(data) is list
        assert len(result) == len(data)
        for project, served in zip(result, data, strict=True):
            says_what_was_served(project, served)
    return result


def says_what_was_served(project: ProjectResponse, data: Any) -> None:
    """A decoded project holds what the JSON said, nothing more or less."""
    wire = to_wire(project)
    assert type(data) is dict
    assert set(data) <= set(wire) <= set(data) | {"ownerOrganization"}
    assert type(data["settings"]) is dict
    assert set(wire["settings"]) == set(data["settings"])
    for key in ("id", "name", "description", "template", "ownerUser", "shared"):
        assert wire[key] == data[key]
    assert wire["lockState"] is data["lockState"]
    for key in ("createdAt", "updatedAt"):
        assert from_wire(datetime, data[key]) == getattr(project, WIRE_KEYS[key])
    assert from_wire(ProjectResponse, wire) == project


WIRE_KEYS = {"createdAt": "created_at", "updatedAt": "updated_at"}


@settings(max_examples=300)
@given(st.sampled_from(sorted(REQUESTS)), answers, st.booleans())
def test_any_json_answer_is_a_model_or_a_validation_error(
    name: str, value: Any, ascii_only: bool
) -> None:
    check_decoded(name, encode(value, ascii_only))


@given(st.sampled_from(sorted(REQUESTS)), st.binary(max_size=64))
def test_any_bytes_are_a_model_or_a_validation_error(name: str, body: bytes) -> None:
    check_decoded(name, body)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_valid_answer_of_each_operation_decodes(name: str) -> None:
    body = {
        Answer.PROJECT: encode(WIRE, True),
        Answer.PROJECTS: encode([WIRE], True),
        Answer.NOTHING: b"",
    }[REQUESTS[name].operation.answer]

    assert not isinstance(check_decoded(name, body), ResponseValidationError)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("list", b"{}"),
        ("list", b'""'),
        ("list", b'{"a": 1}'),
        ("get", b"[]"),
        ("get", json.dumps(WIRE).replace("0.0", "NaN").encode()),
        ("get", json.dumps(WIRE).replace("0.0", "-Infinity").encode()),
    ],
)
def test_shapes_that_only_look_decodable_are_refused(name: str, body: bytes) -> None:
    assert isinstance(check_decoded(name, body), ResponseValidationError)


# The same property over a socket: the served value is switched per example.


class Served:
    value: bytes = b"null"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served_client() -> AsyncIterator[tuple[AsyncNuExtract, RawServer]]:
    def answer(_: Any) -> Reply:
        return Reply(http(200, Served.value))

    async with (
        raw_server(answer) as server,
        AsyncNuExtract(api_key="k", base_url=server.url, max_retries=0) as client,
    ):
        yield client, server


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(answers)
async def test_over_a_socket_an_answer_is_a_model_or_a_validation_error(
    served_client: tuple[AsyncNuExtract, RawServer], value: Any
) -> None:
    client, server = served_client
    Served.value = encode(value, True)
    expected = check_decoded("get", Served.value)

    try:
        got: Any = await client.projects.get("p-1")
    except ResponseValidationError as error:
        got = error

    if isinstance(expected, ResponseValidationError):
        assert type(got) is ResponseValidationError
        assert got.body == expected.body
    else:
        assert got == expected
    assert server.connections == 1


# Round trips with hostile extras: keys named like attributes, like the other
# model's wire keys, like ``extra_fields`` itself, and any text at all.

SETTINGS_KEYS = set(SETTINGS_WIRE)
PROJECT_KEYS = set(WIRE)
TRICKY_KEYS = sorted(
    {"extra_fields", "owner_user", "rasterization_dpi", "__class__", ""}
    | set(WIRE_NAMES)
    | SETTINGS_KEYS
    | PROJECT_KEYS
)


def extras(known: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = (st.sampled_from(TRICKY_KEYS) | any_text).filter(lambda k: k not in known)
    return st.dictionaries(keys, json_values, max_size=4)


zones = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 1, 1), timezones=zones
)
temperatures = st.floats(allow_nan=False, allow_infinity=False)
settings_models = st.builds(
    ProjectSettingsResponse,
    temperature=temperatures,
    rasterization_dpi=st.integers(),
    max_output_tokens=st.integers(),
    degraded_mode=any_text,
    max_tokens_smart_example=st.integers(),
    extra_fields=extras(SETTINGS_KEYS),
)
templates = st.dictionaries(any_text, json_values, max_size=4)
project_models = st.builds(
    ProjectResponse,
    id=any_text,
    name=any_text,
    description=any_text,
    template=templates,
    owner_user=any_text,
    created_at=instants,
    updated_at=instants,
    lock_state=st.booleans(),
    shared=st.booleans(),
    settings=settings_models,
    owner_organization=st.none() | any_text,
    extra_fields=extras(PROJECT_KEYS),
)


@settings(max_examples=200)
@given(project_models, st.booleans())
def test_a_project_survives_the_wire_through_the_decode_path(
    project: ProjectResponse, ascii_only: bool
) -> None:
    one = encode(to_wire(project), ascii_only)
    many = encode([to_wire(project)] * 2, ascii_only)

    assert decode_answer(REQUESTS["get"], URL, 200, one) == project
    assert decode_answer(REQUESTS["list"], URL, 200, many) == [project, project]


@given(settings_models)
def test_settings_survive_the_wire(value: ProjectSettingsResponse) -> None:
    wire = json.loads(encode(to_wire(value), True))

    assert from_wire(ProjectSettingsResponse, wire) == value


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(NOT_GIVEN) | strategy


printable = st.text(st.characters(codec="utf-8"), max_size=12)
encodable_values = st.recursive(
    st.none() | st.booleans() | st.integers() | temperatures | printable,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(printable, inner, max_size=3)
    ),
    max_leaves=8,
)
encodable_templates = st.dictionaries(printable, encodable_values, max_size=4)


request_models = st.one_of(
    st.builds(
        CreateProjectRequest,
        name=printable,
        template=encodable_templates,
        description=printable,
        owner_organization=st.none() | printable,
    ),
    st.builds(
        UpdateProjectRequest,
        name=_maybe(printable),
        description=_maybe(printable),
        template=_maybe(encodable_templates),
    ),
    st.builds(
        UpdateProjectSettingsRequest,
        temperature=_maybe(temperatures),
        rasterization_dpi=_maybe(st.integers()),
        max_output_tokens=_maybe(st.integers()),
        degraded_mode=_maybe(printable),
        max_tokens_smart_example=_maybe(st.integers()),
    ),
    st.builds(UpdateProjectTemplateRequest, template=encodable_templates),
)


@given(request_models)
def test_a_request_survives_the_wire(request: Any) -> None:
    assert from_wire(type(request), json.loads(dump_json(request))) == request
