"""Every endpoint on the wire (aioresponses): what is sent, and what comes back."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aioresponses import aioresponses
from core_support import TOKEN, client, mocked_api, only_request, project_wire

from nuextract_async import (
    AsyncProjects,
    CreateProjectRequest,
    InvalidRequestError,
    ProjectManagementApi,
    ProjectResponse,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)
from nuextract_async._converter import from_wire

ANY_URL = re.compile(r".*")
LIST_URL = re.compile(r"^[^?]*/api/projects(\?.*)?$")
TEMPLATE = {"orderId": "verbatim-string", "status": ["pending", "shipped"]}
PROJECT = project_wire()
COPY = project_wire(id="p-2", name="Invoices (copy)")

Call = Callable[[AsyncProjects], Awaitable[Any]]


def _answer(mocked: aioresponses, method: str, body: Any, status: int = 200) -> None:
    text = "" if body is None else json.dumps(body)
    mocked.add(ANY_URL, method, status=status, body=text, repeat=True)


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with mocked_api() as mocked:
        yield mocked


def _sent(mocked: aioresponses) -> tuple[str, str, dict[str, str], Any, Any]:
    """Method, raw path, query, JSON body and headers of the one request made."""
    ((method, url),) = mocked.requests
    kwargs = only_request(mocked)
    data = kwargs["data"]
    body = None if data is None else json.loads(data)
    return method, url.raw_path, dict(url.query), body, kwargs["headers"]


# call, method, path, query, wire body sent, answer
ENDPOINTS: list[tuple[str, Call, str, str, dict[str, str], Any, Any]] = [
    ("list", lambda p: p.list(), "GET", "/api/projects", {}, None, [PROJECT]),
    (
        "list in an organization",
        lambda p: p.list("org-1"),
        "GET",
        "/api/projects",
        {"organizationId": "org-1"},
        None,
        [],
    ),
    (
        "list reference projects",
        lambda p: p.list(reference=True),
        "GET",
        "/api/projects",
        {"reference": "true"},
        None,
        [PROJECT, COPY],
    ),
    (
        "create",
        lambda p: p.create("Invoices", TEMPLATE),
        "POST",
        "/api/projects",
        {},
        {"name": "Invoices", "template": TEMPLATE, "description": ""},
        PROJECT,
    ),
    (
        "create in an organization",
        lambda p: p.create(
            "Invoices", TEMPLATE, description="d", owner_organization="org-1"
        ),
        "POST",
        "/api/projects",
        {},
        {
            "name": "Invoices",
            "template": TEMPLATE,
            "description": "d",
            "ownerOrganization": "org-1",
        },
        PROJECT,
    ),
    ("get", lambda p: p.get("p-1"), "GET", "/api/projects/p-1", {}, None, PROJECT),
    (
        "update the name",
        lambda p: p.update("p-1", name="New"),
        "PATCH",
        "/api/projects/p-1",
        {},
        {"name": "New"},
        PROJECT,
    ),
    (
        "update the description to empty",
        lambda p: p.update("p-1", description=""),
        "PATCH",
        "/api/projects/p-1",
        {},
        {"description": ""},
        PROJECT,
    ),
    (
        "update everything",
        lambda p: p.update("p-1", name="N", description="D", template=TEMPLATE),
        "PATCH",
        "/api/projects/p-1",
        {},
        {"name": "N", "description": "D", "template": TEMPLATE},
        PROJECT,
    ),
    (
        "delete",
        lambda p: p.delete("p-1"),
        "DELETE",
        "/api/projects/p-1",
        {},
        None,
        None,
    ),
    (
        "update one setting",
        lambda p: p.update_settings("p-1", rasterization_dpi=200),
        "PATCH",
        "/api/projects/p-1/settings",
        {},
        {"rasterizationDPI": 200},
        PROJECT,
    ),
    (
        "update every setting",
        lambda p: p.update_settings(
            "p-1",
            temperature=0.5,
            rasterization_dpi=300,
            max_output_tokens=0,
            degraded_mode="Reject",
            max_tokens_smart_example=32000,
        ),
        "PATCH",
        "/api/projects/p-1/settings",
        {},
        {
            "temperature": 0.5,
            "rasterizationDPI": 300,
            "maxOutputTokens": 0,
            "degradedMode": "Reject",
            "maxTokensSmartExample": 32000,
        },
        PROJECT,
    ),
    (
        "replace the template",
        lambda p: p.replace_template("p-1", TEMPLATE),
        "PUT",
        "/api/projects/p-1/template",
        {},
        {"template": TEMPLATE},
        PROJECT,
    ),
    (
        "reset settings",
        lambda p: p.reset_settings("p-1"),
        "POST",
        "/api/projects/p-1/reset-settings",
        {},
        None,
        PROJECT,
    ),
    (
        "duplicate",
        lambda p: p.duplicate("p-1"),
        "POST",
        "/api/projects/p-1/duplicate",
        {},
        None,
        COPY,
    ),
    (
        "duplicate into an organization",
        lambda p: p.duplicate("p-1", "org-2"),
        "POST",
        "/api/projects/p-1/duplicate",
        {"organizationId": "org-2"},
        None,
        COPY,
    ),
    ("lock", lambda p: p.lock("p-1"), "POST", "/api/projects/p-1/lock", {}, None, None),
    (
        "unlock",
        lambda p: p.unlock("p-1"),
        "POST",
        "/api/projects/p-1/unlock",
        {},
        None,
        None,
    ),
    (
        "share",
        lambda p: p.share("p-1"),
        "POST",
        "/api/projects/p-1/share",
        {},
        None,
        None,
    ),
    (
        "unshare",
        lambda p: p.unshare("p-1"),
        "POST",
        "/api/projects/p-1/unshare",
        {},
        None,
        None,
    ),
]


def _decoded(answer: Any) -> Any:
    if isinstance(answer, list):
        return [from_wire(ProjectResponse, item) for item in answer]
    return None if answer is None else from_wire(ProjectResponse, answer)


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body", "answer"),
    [row[1:] for row in ENDPOINTS],
    ids=[row[0] for row in ENDPOINTS],
)
async def test_endpoint_on_the_wire(
    mocked: aioresponses,
    call: Call,
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
    answer: Any,
) -> None:
    _answer(mocked, method, answer)

    async with client() as nuextract:
        result = await call(nuextract.projects)

    sent_method, sent_path, sent_query, sent_body, headers = _sent(mocked)
    assert (sent_method, sent_path, sent_query, sent_body) == (
        method,
        path,
        query,
        body,
    )
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/json"
    assert ("Content-Type" in headers) is (body is not None)
    assert result == _decoded(answer)


async def test_bodies_are_compact_json(mocked: aioresponses) -> None:
    _answer(mocked, "PATCH", PROJECT)

    async with client() as nuextract:
        await nuextract.projects.update("p-1", name="Invoices é")

    kwargs = only_request(mocked)
    assert kwargs["data"] == '{"name":"Invoices é"}'.encode()
    assert kwargs["headers"]["Content-Type"] == "application/json"


# A method, the keywords it was given, and the equal request model.
MODEL_CALLS = [
    (
        "create",
        (),
        {"name": "n", "template": TEMPLATE, "owner_organization": "org-1"},
        CreateProjectRequest(name="n", template=TEMPLATE, owner_organization="org-1"),
    ),
    ("update", ("p-1",), {"name": "n"}, UpdateProjectRequest(name="n")),
    (
        "update_settings",
        ("p-1",),
        {"temperature": 1, "max_output_tokens": 10},
        UpdateProjectSettingsRequest(temperature=1, max_output_tokens=10),
    ),
    (
        "replace_template",
        ("p-1",),
        {"template": TEMPLATE},
        UpdateProjectTemplateRequest(template=TEMPLATE),
    ),
]


@pytest.mark.parametrize(("name", "args", "keywords", "model"), MODEL_CALLS)
async def test_a_request_model_sends_what_keywords_send(
    name: str, args: tuple[str, ...], keywords: dict[str, Any], model: object
) -> None:
    bodies = []
    async with client() as nuextract:
        for given in (keywords, {"request": model}):
            with mocked_api() as mocked:
                mocked.add(ANY_URL, body=json.dumps(PROJECT))
                mocked.add(ANY_URL, "POST", body=json.dumps(PROJECT))
                mocked.add(ANY_URL, "PATCH", body=json.dumps(PROJECT))
                mocked.add(ANY_URL, "PUT", body=json.dumps(PROJECT))
                await getattr(nuextract.projects, name)(*args, **given)
                bodies.append(only_request(mocked)["data"])

    assert bodies[0] == bodies[1]


@pytest.mark.parametrize(("name", "args", "keywords", "model"), MODEL_CALLS)
async def test_a_model_and_keywords_together_are_rejected(
    mocked: aioresponses,
    name: str,
    args: tuple[str, ...],
    keywords: dict[str, Any],
    model: object,
) -> None:
    async with client() as nuextract:
        with pytest.raises(InvalidRequestError, match="not both"):
            await getattr(nuextract.projects, name)(*args, request=model, **keywords)

    assert mocked.requests == {}


BAD_CALLS: list[tuple[str, Call]] = [
    ("create without a name", lambda p: p.create(template={})),
    ("create without a template", lambda p: p.create("n")),
    ("create with a number as name", lambda p: p.create(1, {})),  # type: ignore[arg-type]
    ("create with a list template", lambda p: p.create("n", [])),  # type: ignore[arg-type]
    (
        "create with the wrong model",
        lambda p: p.create(request=UpdateProjectRequest(name="n")),  # type: ignore[arg-type]
    ),
    (
        "create with a dict as model",
        lambda p: p.create(request={"name": "n", "template": {}}),  # type: ignore[arg-type]
    ),
    ("update with a None name", lambda p: p.update("p-1", name=None)),  # type: ignore[arg-type]
    (
        "settings with a string temperature",
        lambda p: p.update_settings("p-1", temperature="0.1"),  # type: ignore[arg-type]
    ),
    (
        "settings with a bool dpi",
        lambda p: p.update_settings("p-1", rasterization_dpi=True),
    ),
    ("template that is None", lambda p: p.replace_template("p-1", None)),  # type: ignore[arg-type]
    ("template that is not JSON", lambda p: p.replace_template("p-1", {"x": {1}})),
    ("list with a string reference", lambda p: p.list(reference="true")),  # type: ignore[arg-type]
    ("duplicate into org ''", lambda p: p.duplicate("p-1", "")),
    ("get with an int id", lambda p: p.get(12)),  # type: ignore[arg-type]
    ("delete '..'", lambda p: p.delete("..")),
]


@pytest.mark.parametrize(
    "call", [c for _, c in BAD_CALLS], ids=[n for n, _ in BAD_CALLS]
)
async def test_bad_arguments_fail_before_any_io(
    mocked: aioresponses, call: Call
) -> None:
    async with client() as nuextract:
        with pytest.raises(InvalidRequestError) as caught:
            await call(nuextract.projects)

    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)
    assert mocked.requests == {}


@pytest.mark.parametrize("project_id", ["", ".", "..", "a\x00b", None, 5, b"p-1"])
@pytest.mark.parametrize("name", ["get", "delete", "lock", "reset_settings"])
async def test_unusable_ids_fail_before_any_io(
    mocked: aioresponses, name: str, project_id: object
) -> None:
    async with client() as nuextract:
        with pytest.raises(InvalidRequestError, match="project_id"):
            await getattr(nuextract.projects, name)(project_id)

    assert mocked.requests == {}


@pytest.mark.parametrize(
    ("status", "content_type"),
    [(200, "application/json"), (200, "text/plain"), (204, "application/json")],
)
@pytest.mark.parametrize("name", ["delete", "lock", "unlock", "share", "unshare"])
async def test_empty_answers_return_none(
    mocked: aioresponses, name: str, status: int, content_type: str
) -> None:
    mocked.add(
        ANY_URL,
        "DELETE" if name == "delete" else "POST",
        status=status,
        body=b"",
        content_type=content_type,
    )

    async with client() as nuextract:
        result = await getattr(nuextract.projects, name)("p-1")

    assert result is None


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
async def test_a_json_answer_under_another_label_is_decoded(
    mocked: aioresponses, content_type: str
) -> None:
    mocked.get(ANY_URL, body=json.dumps(PROJECT), content_type=content_type)

    async with client() as nuextract:
        project = await nuextract.projects.get("p-1")

    assert project == from_wire(ProjectResponse, PROJECT)


# Upstream name, its arguments, and the same call on client.projects.
COMPAT: list[tuple[str, tuple[Any, ...], Call]] = [
    ("get_api_projects", (), lambda p: p.list()),
    ("get_api_projects", ("org-1", False), lambda p: p.list("org-1", False)),
    (
        "post_api_projects",
        ({"name": "n", "description": "", "template": TEMPLATE},),
        lambda p: p.create("n", TEMPLATE),
    ),
    (
        "post_api_projects",
        (CreateProjectRequest(name="n", template=TEMPLATE, owner_organization="o"),),
        lambda p: p.create("n", TEMPLATE, owner_organization="o"),
    ),
    (
        "post_api_projects",
        ({"name": "n", "template": TEMPLATE, "ownerOrganization": "o"},),
        lambda p: p.create("n", TEMPLATE, owner_organization="o"),
    ),
    ("get_api_projects_projectid", ("a/b",), lambda p: p.get("a/b")),
    (
        "patch_api_projects_projectid",
        ("p-1", {"description": ""}),
        lambda p: p.update("p-1", description=""),
    ),
    (
        "patch_api_projects_projectid",
        ("p-1", UpdateProjectRequest(name="n")),
        lambda p: p.update("p-1", name="n"),
    ),
    ("delete_api_projects_projectid", ("p-1",), lambda p: p.delete("p-1")),
    (
        "patch_api_projects_projectid_settings",
        ("p-1", {"rasterizationDPI": 150, "degradedMode": "Reject"}),
        lambda p: p.update_settings(
            "p-1", rasterization_dpi=150, degraded_mode="Reject"
        ),
    ),
    (
        "put_api_projects_projectid_template",
        ("p-1", {"template": TEMPLATE}),
        lambda p: p.replace_template("p-1", TEMPLATE),
    ),
    (
        "post_api_projects_projectid_reset_settings",
        ("p-1",),
        lambda p: p.reset_settings("p-1"),
    ),
    ("post_api_projects_projectid_duplicate", ("p-1",), lambda p: p.duplicate("p-1")),
    (
        "post_api_projects_projectid_duplicate",
        ("p-1", "org-2"),
        lambda p: p.duplicate("p-1", "org-2"),
    ),
    ("post_api_projects_projectid_lock", ("p-1",), lambda p: p.lock("p-1")),
    ("post_api_projects_projectid_unlock", ("p-1",), lambda p: p.unlock("p-1")),
    ("post_api_projects_projectid_share", ("p-1",), lambda p: p.share("p-1")),
    ("post_api_projects_projectid_unshare", ("p-1",), lambda p: p.unshare("p-1")),
]


async def _record(call: Callable[[], Awaitable[Any]]) -> tuple[Any, Any]:
    with mocked_api() as mocked:
        mocked.get(LIST_URL, body=json.dumps([PROJECT]))
        for method in ("GET", "POST", "PATCH", "PUT"):
            mocked.add(ANY_URL, method, body=json.dumps(PROJECT))
        mocked.add(ANY_URL, "DELETE", body="")
        result = await call()
        (key,) = mocked.requests
        return (key, only_request(mocked)["data"]), result


@pytest.mark.parametrize(("upstream", "args", "same"), COMPAT)
async def test_compat_names_delegate(
    upstream: str, args: tuple[Any, ...], same: Call
) -> None:
    async with client() as nuextract:
        api = ProjectManagementApi(nuextract)

        via_compat = await _record(lambda: getattr(api, upstream)(*args))
        via_projects = await _record(lambda: same(nuextract.projects))

    assert via_compat == via_projects


def test_compat_covers_every_operation() -> None:
    names = {name for name in dir(ProjectManagementApi) if not name.startswith("_")}

    assert names == {row[0] for row in COMPAT}
    assert len(names) == 13


@pytest.mark.parametrize(
    ("upstream", "body"),
    [
        ("post_api_projects", {"name": "n", "template": {}, "nmae": "typo"}),
        ("post_api_projects", {"name": "n", "template": {}, "owner_organization": "o"}),
        ("post_api_projects", {"name": 1, "template": {}}),
        ("post_api_projects", {"template": {}}),
        ("post_api_projects", [("name", "n")]),
        ("patch_api_projects_projectid", {"lockState": True}),
        ("patch_api_projects_projectid_settings", {"rasterization_dpi": 100}),
        ("patch_api_projects_projectid_settings", {"temperature": "0.2"}),
        ("put_api_projects_projectid_template", {"template": {}, "extra": 1}),
        ("put_api_projects_projectid_template", UpdateProjectRequest(name="n")),
    ],
)
async def test_compat_rejects_bad_bodies_before_any_io(
    mocked: aioresponses, upstream: str, body: Any
) -> None:
    async with client() as nuextract:
        api = ProjectManagementApi(nuextract)
        args = (body,) if upstream == "post_api_projects" else ("p-1", body)

        with pytest.raises(InvalidRequestError):
            await getattr(api, upstream)(*args)

    assert mocked.requests == {}


async def test_compat_names_the_key_it_does_not_know(mocked: aioresponses) -> None:
    async with client() as nuextract:
        api = ProjectManagementApi(nuextract)

        with pytest.raises(InvalidRequestError, match="rasterizationDpi"):
            await api.patch_api_projects_projectid_settings(
                "p-1", {"rasterizationDpi": 100}
            )

    assert mocked.requests == {}
