"""The emulator's rules, driven over real HTTP with a plain aiohttp session."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from nuextract_async.emulator import (
    DEFAULT_SETTINGS,
    TEMPLATES,
    ApiError,
    Identity,
    RunningEmulator,
    Store,
    route,
    run_emulator,
)

TEMPLATE = TEMPLATES["order-delivery"]
BAD_BODY = "Invalid value for: body"
BAD_REFERENCE = "Invalid value for: query parameter reference"
BAD_PROJECT_ID = "Invalid value for: path parameter projectId"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
PROJECT_KEYS = {
    "id",
    "name",
    "description",
    "template",
    "ownerUser",
    "ownerOrganization",
    "createdAt",
    "updatedAt",
    "lockState",
    "shared",
    "settings",
}

# (method, path after /api/projects) of the 13 endpoints; {id} is the project.
ENDPOINTS = [
    ("GET", ""),
    ("POST", ""),
    ("GET", "/{id}"),
    ("PATCH", "/{id}"),
    ("DELETE", "/{id}"),
    ("PATCH", "/{id}/settings"),
    ("PUT", "/{id}/template"),
    ("POST", "/{id}/reset-settings"),
    ("POST", "/{id}/duplicate"),
    ("POST", "/{id}/lock"),
    ("POST", "/{id}/unlock"),
    ("POST", "/{id}/share"),
    ("POST", "/{id}/unshare"),
]
LOCK_BLOCKED = [
    ("PATCH", "", {"name": "x"}),
    ("PATCH", "/settings", {"temperature": 0.5}),
    ("PUT", "/template", {"template": {"a": "string"}}),
    ("POST", "/reset-settings", None),
    ("DELETE", "", None),
]


class Answer:
    """A response read whole: status, content type, headers, text."""

    def __init__(self, response: aiohttp.ClientResponse, text: str) -> None:
        self.status = response.status
        self.content_type = response.headers.get("Content-Type")
        self.headers = response.headers
        self.text = text

    def json(self) -> Any:
        assert self.content_type == "application/json", self.content_type
        return json.loads(self.text)

    def error_code(self) -> str:
        body = self.json()
        assert set(body) == {"code", "message"}
        assert isinstance(body["message"], str)
        return str(body["code"])


class Api:
    """Sends raw requests to one emulator."""

    def __init__(self, session: aiohttp.ClientSession, emu: RunningEmulator) -> None:
        self.session = session
        self.emu = emu

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "test-token",
        body: Any = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = URL(self.emu.base_url + path, encoded=True)
        if params:
            url = url.with_query(params)
        async with self.session.request(
            method, url, headers=headers, data=data
        ) as response:
            return Answer(response, await response.text())

    async def project(self, method: str, pid: str, tail: str = "", **kw: Any) -> Answer:
        return await self.call(
            method, f"/api/projects/{quote(pid, safe='')}{tail}", **kw
        )

    async def create(self, token: str = "test-token", **body: Any) -> dict[str, Any]:
        payload = {"name": "Orders", "description": "", "template": TEMPLATE, **body}
        answer = await self.call("POST", "/api/projects", token=token, body=payload)
        assert answer.status == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture
async def emu() -> AsyncIterator[RunningEmulator]:
    identities = {
        "test-token": Identity("user-1", frozenset({"org-1"})),
        "other-token": Identity("user-2", frozenset({"org-2"})),
        "team-token": Identity("user-3", frozenset({"org-1", "org-2"})),
        "admin-token": Identity("admin", admin=True),
    }
    async with run_emulator(identities=identities) as running:
        yield running


@pytest.fixture
async def api(emu: RunningEmulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, emu)


def seed(emu: RunningEmulator, **kw: Any) -> str:
    kw.setdefault("owner_user", "user-1")
    kw.setdefault("name", "Orders")
    kw.setdefault("template", TEMPLATE)
    return str(emu.store.add_project(**kw)["id"])


# Authentication


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer nope", "Basic test-token", "test-token"]
)
async def test_every_endpoint_needs_a_known_bearer_token(
    api: Api, method: str, path: str, authorization: str | None
) -> None:
    pid = seed(api.emu)
    headers = {} if authorization is None else {"Authorization": authorization}
    url = api.emu.base_url + "/api/projects" + path.format(id=pid)

    async with api.session.request(method, url, headers=headers) as response:
        answer = Answer(response, await response.text())

    assert answer.status == 401
    assert answer.error_code() == "Unauthorized"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert api.emu.store.get(pid) is not None


async def test_bearer_scheme_is_case_insensitive(api: Api) -> None:
    url = api.emu.base_url + "/api/projects"
    headers = {"Authorization": "bearer test-token"}
    async with api.session.get(url, headers=headers) as response:
        assert response.status == 200


# Create


async def test_create_answers_a_new_project_with_defaults(api: Api) -> None:
    project = await api.create(name="Orders", description="All orders")

    assert set(project) == PROJECT_KEYS
    assert uuid.UUID(project["id"]).version == 4
    assert project["name"] == "Orders"
    assert project["description"] == "All orders"
    assert project["template"] == TEMPLATE
    assert project["ownerUser"] == "user-1"
    assert project["ownerOrganization"] is None
    assert project["lockState"] is False
    assert project["shared"] is False
    assert project["settings"] == DEFAULT_SETTINGS
    assert STAMP.match(project["createdAt"])
    assert project["updatedAt"] == project["createdAt"]
    assert api.emu.store.get(project["id"]) == project
    assert api.emu.stats.created == 1


async def test_create_twice_makes_two_projects(api: Api) -> None:
    first = await api.create()
    second = await api.create()

    assert first["id"] != second["id"]
    assert len(api.emu.store) == 2


async def test_create_in_an_organization_needs_membership(api: Api) -> None:
    project = await api.create(ownerOrganization="org-1")
    assert project["ownerOrganization"] == "org-1"
    assert project["ownerUser"] == "user-1"

    body = {
        "name": "x",
        "description": "",
        "template": {},
        "ownerOrganization": "org-2",
    }
    answer = await api.call("POST", "/api/projects", body=body)
    assert answer.status == 403
    assert answer.error_code() == "Forbidden"
    assert api.emu.stats.created == 1


async def test_admin_may_create_in_any_organization(api: Api) -> None:
    project = await api.create(token="admin-token", ownerOrganization="org-9")
    assert project["ownerOrganization"] == "org-9"
    assert project["ownerUser"] == "admin"


async def test_create_ignores_unknown_keys_and_null_organization(api: Api) -> None:
    project = await api.create(ownerOrganization=None, colour="blue", lockState=True)
    assert project["ownerOrganization"] is None
    assert project["lockState"] is False
    assert "colour" not in project


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'"text"',
        b"1",
        b"null",
        b"\xff\xfe",
        b'{"name": NaN}',
        b'{"name": "x", "description": "", "template": {}, "a": Infinity}',
        # Overflows to inf: stored, it would poison every later answer.
        b'{"name": "x", "description": "", "template": {"n": 1e400}}',
    ],
)
async def test_create_rejects_bodies_that_are_no_json_object(
    api: Api, data: bytes
) -> None:
    answer = await api.call("POST", "/api/projects", data=data)
    assert answer.status == 400
    assert answer.content_type == "text/plain; charset=utf-8"
    assert answer.text == BAD_BODY


@pytest.mark.parametrize(
    "change",
    [
        {"name": None},
        {"name": 1},
        {"name": True},
        {"name": ["x"]},
        {"description": None},
        {"description": 0},
        {"template": None},
        {"template": []},
        {"template": "{}"},
        {"ownerOrganization": 1},
    ],
    ids=repr,
)
async def test_create_validates_each_field(api: Api, change: dict[str, Any]) -> None:
    body = {"name": "x", "description": "", "template": {}, **change}
    body = {k: v for k, v in body.items() if v is not None}

    answer = await api.call("POST", "/api/projects", body=body)

    assert (answer.status, answer.text) == (400, BAD_BODY)
    assert len(api.emu.store) == 0


# Read and list


async def test_get_answers_the_project(api: Api) -> None:
    pid = seed(api.emu, description="d")
    answer = await api.project("GET", pid)
    assert answer.status == 200
    assert answer.json() == api.emu.store.get(pid)


async def test_get_of_an_unknown_id_is_404(api: Api) -> None:
    answer = await api.project("GET", "no-such-project")
    assert answer.status == 404
    assert answer.error_code() == "NotFound"


@pytest.mark.parametrize(
    ("owner", "organization", "shared", "readers", "strangers"),
    [
        ("user-1", None, False, ["test-token", "admin-token"], ["other-token"]),
        ("user-9", "org-1", False, ["test-token", "team-token"], ["other-token"]),
        ("user-9", "org-2", True, ["test-token", "other-token"], []),
        ("user-9", None, False, ["admin-token"], ["test-token", "team-token"]),
    ],
)
async def test_visibility(
    api: Api,
    owner: str,
    organization: str | None,
    shared: bool,
    readers: list[str],
    strangers: list[str],
) -> None:
    pid = seed(
        api.emu, owner_user=owner, owner_organization=organization, shared=shared
    )

    for token in readers:
        assert (await api.project("GET", pid, token=token)).status == 200, token
    for token in strangers:
        answer = await api.project("GET", pid, token=token)
        assert answer.status == 403, token
        assert answer.error_code() == "Forbidden"


async def test_list_variants(api: Api) -> None:
    mine = seed(api.emu, name="mine")
    mine_shared = seed(api.emu, name="mine shared", shared=True)
    seed(api.emu, name="mine in org-1", owner_organization="org-1")
    team = seed(api.emu, owner_user="user-3", name="team", owner_organization="org-1")
    theirs = seed(api.emu, owner_user="user-2", name="theirs")
    reference = seed(
        api.emu, owner_user="user-2", owner_organization="org-2", shared=True
    )

    async def ids(token: str = "test-token", **params: str) -> list[str]:
        answer = await api.call("GET", "/api/projects", token=token, params=params)
        assert answer.status == 200, answer.text
        return [p["id"] for p in answer.json()]

    assert await ids() == [mine, mine_shared]
    assert await ids(reference="false") == [mine, mine_shared]
    assert len(await ids(organizationId="org-1")) == 2
    assert team in await ids(organizationId="org-1")
    assert await ids(reference="true") == [mine_shared, reference]
    assert await ids(reference="true", organizationId="org-9") == [
        mine_shared,
        reference,
    ]
    assert await ids("other-token") == [theirs]
    assert await ids("other-token", organizationId="org-2") == [reference]
    assert await ids("admin-token", organizationId="org-2") == [reference]
    assert await ids("admin-token") == []


async def test_list_of_a_foreign_organization_is_forbidden(api: Api) -> None:
    params = {"organizationId": "org-2"}
    answer = await api.call("GET", "/api/projects", params=params)
    assert answer.status == 403
    assert answer.error_code() == "Forbidden"


@pytest.mark.parametrize("value", ["True", "TRUE", "1", "yes", "", "false "])
async def test_list_rejects_a_reference_other_than_true_or_false(
    api: Api, value: str
) -> None:
    answer = await api.call("GET", "/api/projects", params={"reference": value})
    assert answer.status == 400
    assert answer.content_type == "text/plain; charset=utf-8"
    assert answer.text == BAD_REFERENCE


# Update, settings, template, reset


async def test_update_changes_only_the_given_keys(api: Api) -> None:
    pid = seed(api.emu, description="keep me")
    before = api.emu.store.get(pid)
    assert before is not None

    answer = await api.project("PATCH", pid, body={"name": "Renamed"})
    assert answer.status == 200
    after = answer.json()
    assert after["name"] == "Renamed"
    assert after["description"] == "keep me"
    assert after["template"] == TEMPLATE
    assert after["updatedAt"] >= before["updatedAt"]
    assert after["createdAt"] == before["createdAt"]

    answer = await api.project("PATCH", pid, body={"description": ""})
    assert answer.json()["description"] == ""
    assert answer.json()["name"] == "Renamed"

    template = {"total": "number"}
    body = {"template": template, "name": None, "lockState": True, "shared": True}
    answer = await api.project("PATCH", pid, body=body)
    project = answer.json()
    assert project["template"] == template
    assert project["name"] == "Renamed"
    assert (project["lockState"], project["shared"]) == (False, False)
    assert api.emu.store.get(pid) == project


async def test_update_with_an_empty_object_changes_nothing(api: Api) -> None:
    pid = seed(api.emu)
    answer = await api.project("PATCH", pid, body={})
    assert answer.status == 200
    assert answer.json()["name"] == "Orders"


@pytest.mark.parametrize(
    "body", [[], {"name": 1}, {"description": False}, {"template": []}], ids=repr
)
async def test_update_rejects_wrong_types(api: Api, body: Any) -> None:
    pid = seed(api.emu)
    answer = await api.project("PATCH", pid, body=body)
    assert (answer.status, answer.text) == (400, BAD_BODY)
    assert api.emu.store.get(pid) is not None
    assert api.emu.store.records[pid]["name"] == "Orders"


async def test_settings_change_only_the_given_keys(api: Api) -> None:
    pid = seed(api.emu)
    body = {"temperature": 0.5, "maxOutputTokens": 100}

    answer = await api.project("PATCH", pid, "/settings", body=body)

    assert answer.status == 200
    settings = answer.json()["settings"]
    assert settings == {**DEFAULT_SETTINGS, **body}

    body = {"rasterizationDPI": 300, "degradedMode": "Accept", "temperature": None}
    answer = await api.project("PATCH", pid, "/settings", body=body)
    settings = answer.json()["settings"]
    assert settings["temperature"] == 0.5
    assert settings["rasterizationDPI"] == 300
    assert settings["degradedMode"] == "Accept"


@pytest.mark.parametrize(
    "body",
    [
        {"temperature": 0},
        {"temperature": 1},
        {"temperature": 1.0},
        {"temperature": 0.0},
        {"rasterizationDPI": 1},
        {"rasterizationDPI": 300},
        {"maxOutputTokens": 0},
        {"maxOutputTokens": 2**31 - 1},
        {"maxTokensSmartExample": 0},
        {"maxTokensSmartExample": 32000},
        {"degradedMode": ""},
        {"degradedMode": "SomethingNew"},
        {"enableThinking": True},
    ],
    ids=repr,
)
async def test_settings_accept_values_within_bounds(
    api: Api, body: dict[str, Any]
) -> None:
    pid = seed(api.emu)
    answer = await api.project("PATCH", pid, "/settings", body=body)
    assert answer.status == 200
    settings = answer.json()["settings"]
    for key, value in body.items():
        if key in DEFAULT_SETTINGS:
            assert settings[key] == value
            assert type(settings[key]) is type(value)
    assert "enableThinking" not in settings


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"temperature": -0.1},
        {"temperature": 1.01},
        {"temperature": 2},
        {"temperature": True},
        {"temperature": "0.5"},
        {"rasterizationDPI": 301},
        {"rasterizationDPI": 0},
        {"rasterizationDPI": -1},
        {"rasterizationDPI": 115.0},
        {"rasterizationDPI": True},
        {"maxOutputTokens": -1},
        {"maxOutputTokens": 1.5},
        {"maxOutputTokens": 2**31},
        {"maxOutputTokens": False},
        {"maxTokensSmartExample": 32001},
        {"maxTokensSmartExample": -1},
        {"maxTokensSmartExample": "16000"},
        {"degradedMode": 1},
        {"degradedMode": ["Reject"]},
        {"temperature": 0.5, "rasterizationDPI": 1000},
    ],
    ids=repr,
)
async def test_settings_reject_values_out_of_bounds(api: Api, body: Any) -> None:
    pid = seed(api.emu)
    answer = await api.project("PATCH", pid, "/settings", body=body)
    assert answer.status == 400
    assert answer.content_type == "text/plain; charset=utf-8"
    assert answer.text == BAD_BODY
    assert api.emu.store.records[pid]["settings"] == DEFAULT_SETTINGS


async def test_replace_template(api: Api) -> None:
    pid = seed(api.emu)
    template = TEMPLATES["vacation"]

    answer = await api.project("PUT", pid, "/template", body={"template": template})

    assert answer.status == 200
    assert answer.json()["template"] == template
    assert api.emu.store.records[pid]["template"] == template


@pytest.mark.parametrize(
    "body", [{}, {"template": None}, {"template": []}, {"template": 1}, []], ids=repr
)
async def test_replace_template_needs_an_object(api: Api, body: Any) -> None:
    pid = seed(api.emu)
    answer = await api.project("PUT", pid, "/template", body=body)
    assert (answer.status, answer.text) == (400, BAD_BODY)


async def test_reset_settings_restores_the_defaults(api: Api) -> None:
    pid = seed(api.emu, settings={"temperature": 0.9, "rasterizationDPI": 300})

    answer = await api.project("POST", pid, "/reset-settings")

    assert answer.status == 200
    assert answer.json()["settings"] == DEFAULT_SETTINGS
    assert api.emu.store.records[pid]["settings"] == DEFAULT_SETTINGS


@pytest.mark.parametrize(("method", "tail", "body"), LOCK_BLOCKED)
async def test_changes_by_others_are_forbidden(
    api: Api, method: str, tail: str, body: Any
) -> None:
    pid = seed(api.emu, owner_user="user-2")
    answer = await api.project(method, pid, tail, body=body)
    assert answer.status == 403
    assert answer.error_code() == "Forbidden"
    assert pid in api.emu.store


@pytest.mark.parametrize(("method", "tail", "body"), LOCK_BLOCKED)
async def test_reference_projects_are_changed_by_admins_only(
    api: Api, method: str, tail: str, body: Any
) -> None:
    pid = seed(api.emu, shared=True)

    answer = await api.project(method, pid, tail, body=body)
    assert answer.status == 403
    assert answer.error_code() == "Forbidden"

    answer = await api.project(method, pid, tail, body=body, token="admin-token")
    assert answer.status == 200


@pytest.mark.parametrize(("method", "tail", "body"), LOCK_BLOCKED)
async def test_a_lock_blocks_changes(
    api: Api, method: str, tail: str, body: Any
) -> None:
    pid = seed(api.emu, settings={"temperature": 0.3})
    before = api.emu.store.get(pid)
    assert (await api.project("POST", pid, "/lock")).status == 200

    for token in ("test-token", "admin-token"):
        answer = await api.project(method, pid, tail, body=body, token=token)
        assert answer.status == 403
        assert answer.error_code() == "Locked"
        assert "lock" in answer.json()["message"].lower()
    after = api.emu.store.get(pid)
    assert after is not None
    assert before is not None
    assert after["settings"] == before["settings"]
    assert after["name"] == before["name"]

    assert (await api.project("POST", pid, "/unlock")).status == 200
    assert (await api.project(method, pid, tail, body=body)).status == 200


@pytest.mark.parametrize(("method", "tail", "body"), LOCK_BLOCKED)
async def test_unknown_ids_are_404_for_every_change(
    api: Api, method: str, tail: str, body: Any
) -> None:
    answer = await api.project(method, "missing", tail, body=body)
    assert answer.status == 404
    assert answer.error_code() == "NotFound"


# Delete, lock, share: empty 200 answers


async def test_delete_answers_an_empty_200_and_removes_the_project(api: Api) -> None:
    pid = seed(api.emu)

    answer = await api.project("DELETE", pid)

    assert answer.status == 200
    assert answer.text == ""
    assert answer.headers["Content-Length"] == "0"
    assert pid not in api.emu.store
    assert api.emu.stats.deleted == 1
    assert (await api.project("GET", pid)).status == 404
    assert (await api.project("DELETE", pid)).status == 404


async def test_lock_and_unlock(api: Api) -> None:
    pid = seed(api.emu)

    for _ in range(2):
        answer = await api.project("POST", pid, "/lock")
        assert (answer.status, answer.text) == (200, "")
        assert api.emu.store.records[pid]["lockState"] is True

    project = (await api.project("GET", pid)).json()
    assert project["lockState"] is True

    answer = await api.project("POST", pid, "/unlock")
    assert (answer.status, answer.text) == (200, "")
    assert api.emu.store.records[pid]["lockState"] is False


@pytest.mark.parametrize("tail", ["/lock", "/unlock"])
async def test_lock_needs_write_rights(api: Api, tail: str) -> None:
    theirs = seed(api.emu, owner_user="user-2")
    reference = seed(api.emu, shared=True)
    team = seed(api.emu, owner_user="user-3", owner_organization="org-1")

    assert (await api.project("POST", theirs, tail)).status == 403
    assert (await api.project("POST", reference, tail)).status == 403
    answer = await api.project("POST", reference, tail, token="admin-token")
    assert answer.status == 200
    assert (await api.project("POST", team, tail)).status == 200
    assert (await api.project("POST", "missing", tail)).status == 404


@pytest.mark.parametrize("tail", ["/share", "/unshare"])
@pytest.mark.parametrize("token", ["test-token", "other-token", "team-token"])
async def test_share_and_unshare_are_for_admins_only(
    api: Api, tail: str, token: str
) -> None:
    pid = seed(api.emu, shared=tail == "/unshare")
    answer = await api.project("POST", pid, tail, token=token)
    assert answer.status == 403
    assert answer.error_code() == "Forbidden"
    assert api.emu.store.records[pid]["shared"] is (tail == "/unshare")


async def test_admin_shares_and_unshares_keeping_owner_and_lock(api: Api) -> None:
    pid = seed(api.emu, locked=True)

    answer = await api.project("POST", pid, "/share", token="admin-token")
    assert (answer.status, answer.text) == (200, "")
    record = api.emu.store.records[pid]
    assert (record["shared"], record["lockState"]) == (True, True)

    other = await api.project("GET", pid, token="other-token")
    assert other.status == 200

    answer = await api.project("POST", pid, "/unshare", token="admin-token")
    assert (answer.status, answer.text) == (200, "")
    record = api.emu.store.records[pid]
    assert (record["shared"], record["lockState"]) == (False, True)
    assert record["ownerUser"] == "user-1"

    answer = await api.project("POST", "missing", "/share", token="admin-token")
    assert answer.status == 404


# Duplicate


async def test_duplicate_personal_to_personal(api: Api) -> None:
    pid = seed(api.emu, description="d", settings={"temperature": 0.7}, locked=True)
    source = api.emu.store.get(pid)
    assert source is not None

    answer = await api.project("POST", pid, "/duplicate")

    assert answer.status == 200
    copy = answer.json()
    assert set(copy) == PROJECT_KEYS
    assert copy["id"] != pid
    assert uuid.UUID(copy["id"]).version == 4
    assert copy["name"] == "Orders (copy)"
    assert copy["description"] == "d"
    assert copy["template"] == source["template"]
    assert copy["settings"] == source["settings"]
    assert copy["ownerUser"] == "user-1"
    assert copy["ownerOrganization"] is None
    assert (copy["lockState"], copy["shared"]) == (False, False)
    assert api.emu.store.get(pid) == source
    assert api.emu.stats.duplicated == {pid: 1}


async def test_duplicate_is_not_idempotent(api: Api) -> None:
    pid = seed(api.emu)
    first = (await api.project("POST", pid, "/duplicate")).json()
    second = (await api.project("POST", pid, "/duplicate")).json()
    assert first["id"] != second["id"]
    assert len(api.emu.store) == 3
    assert api.emu.stats.duplicated == {pid: 2}
    assert api.emu.stats.duplicated_total == 2


@pytest.mark.parametrize(
    ("source_org", "target_org", "name"),
    [
        (None, None, "Orders (copy)"),
        ("org-1", "org-1", "Orders (copy)"),
        (None, "org-1", "Orders"),
        ("org-1", None, "Orders"),
        ("org-1", "org-2", "Orders"),
    ],
)
async def test_duplicate_naming_and_ownership(
    api: Api, source_org: str | None, target_org: str | None, name: str
) -> None:
    pid = seed(api.emu, owner_user="user-9", owner_organization=source_org)
    if source_org is None:
        api.emu.store.records[pid]["ownerUser"] = "user-3"
    params = None if target_org is None else {"organizationId": target_org}

    answer = await api.project(
        "POST", pid, "/duplicate", token="team-token", params=params
    )

    assert answer.status == 200, answer.text
    copy = answer.json()
    assert copy["name"] == name
    assert copy["ownerUser"] == "user-3"
    assert copy["ownerOrganization"] == target_org


async def test_duplicate_into_a_foreign_organization_is_forbidden(api: Api) -> None:
    pid = seed(api.emu)
    params = {"organizationId": "org-2"}

    answer = await api.project("POST", pid, "/duplicate", params=params)

    assert answer.status == 403
    assert answer.error_code() == "Forbidden"
    assert len(api.emu.store) == 1
    assert api.emu.stats.duplicated == {}


async def test_duplicate_of_a_reference_project_belongs_to_the_caller(
    api: Api,
) -> None:
    pid = seed(api.emu, owner_user="user-2", owner_organization="org-2", shared=True)

    answer = await api.project("POST", pid, "/duplicate")

    copy = answer.json()
    assert copy["ownerUser"] == "user-1"
    assert copy["ownerOrganization"] is None
    assert copy["name"] == "Orders"
    assert copy["shared"] is False


async def test_duplicate_needs_read_rights(api: Api) -> None:
    pid = seed(api.emu, owner_user="user-2")
    answer = await api.project("POST", pid, "/duplicate")
    assert answer.status == 403
    assert (await api.project("POST", "missing", "/duplicate")).status == 404


async def test_a_copy_does_not_share_settings_with_its_source(api: Api) -> None:
    pid = seed(api.emu)
    copy = (await api.project("POST", pid, "/duplicate")).json()

    body = {"temperature": 1}
    answer = await api.project("PATCH", copy["id"], "/settings", body=body)
    assert answer.status == 200
    assert api.emu.store.records[pid]["settings"]["temperature"] == 0.0


# Path ids and routing

ODD_IDS = ["a/b", "x?y=1", "q#f", "s p", "é", "100%", "a%2Fb", "..x", "日本", "+&=;"]


@pytest.mark.parametrize("pid", ODD_IDS)
async def test_percent_encoded_ids_round_trip(api: Api, pid: str) -> None:
    api.emu.store.add_project(owner_user="user-1", project_id=pid)

    answer = await api.project("GET", pid)
    assert answer.status == 200, answer.text
    assert answer.json()["id"] == pid

    assert (await api.project("POST", pid, "/lock")).status == 200
    assert api.emu.store.records[pid]["lockState"] is True
    assert (await api.project("POST", pid, "/unlock")).status == 200
    assert (await api.project("DELETE", pid)).status == 200
    assert pid not in api.emu.store


async def test_an_encoded_slash_is_part_of_the_id() -> None:
    assert route("GET", "/api/projects/a%2Fb") == ("get", "a/b")
    assert route("POST", "/api/projects/a%2Fb/lock?x=1") == ("lock", "a/b")
    assert route("GET", "/api/projects/100%25") == ("get", "100%")
    assert route("GET", "/api/projects/%C3%A9") == ("get", "é")


@pytest.mark.parametrize(
    "raw", ["100%", "100%2", "%zz", "%FF", "%C3", "a b", "é", 'a"b', "a\\b", "a{b}"]
)
def test_ids_that_are_not_percent_encoded_are_400(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        route("GET", "/api/projects/" + raw)

    assert (info.value.status, info.value.code) == (400, None)
    assert info.value.message == BAD_PROJECT_ID


@pytest.mark.parametrize(
    ("method", "raw"),
    [("GET", "100%"), ("GET", "%zz"), ("DELETE", "%FF"), ("POST", "a%C3/lock")],
)
async def test_bad_escapes_over_http_are_400(api: Api, method: str, raw: str) -> None:
    answer = await api.call(method, "/api/projects/" + raw)
    assert answer.status == 400
    assert answer.content_type == "text/plain; charset=utf-8"
    assert answer.text == BAD_PROJECT_ID


@pytest.mark.parametrize("raw", ["", ".", "..", "%2E", "%2E%2E"])
async def test_empty_and_dot_ids_name_no_project(api: Api, raw: str) -> None:
    answer = await api.call("GET", "/api/projects/" + raw)
    assert answer.status == 404
    with pytest.raises(ValueError, match="never name"):
        api.emu.store.add_project(
            owner_user="user-1", project_id=raw.replace("%2E", ".")
        )


@pytest.mark.parametrize(
    "path", ["/api/project", "/api/projects/x/y/z", "/api/projects/x/copy", "/"]
)
async def test_unknown_paths_are_404(api: Api, path: str) -> None:
    answer = await api.call("GET", path)
    assert answer.status == 404
    assert answer.error_code() == "NotFound"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/projects", "GET, POST"),
        ("POST", "/api/projects/x", "GET, PATCH, DELETE"),
        ("GET", "/api/projects/x/lock", "POST"),
        ("POST", "/api/projects/x/settings", "PATCH"),
        ("PATCH", "/api/projects/x/template", "PUT"),
    ],
)
async def test_wrong_methods_are_405(
    api: Api, method: str, path: str, allow: str
) -> None:
    answer = await api.call(method, path)
    assert answer.status == 405
    assert answer.headers["Allow"] == allow
    assert answer.error_code() == "MethodNotAllowed"


# Store


def test_store_hands_out_copies() -> None:
    store = Store()
    project = store.add_project(owner_user="u", template={"a": ["x"]})

    project["template"]["a"].append("y")
    fetched = store.get(project["id"])
    assert fetched is not None
    fetched["name"] = "changed"

    assert store.records[project["id"]]["template"] == {"a": ["x"]}
    assert store.projects()[0]["name"] == "Project"
    with pytest.raises(ValueError, match="already exists"):
        store.add_project(owner_user="u", project_id=project["id"])


def test_store_seeds_unknown_keys() -> None:
    store = Store()
    project = store.add_project(
        owner_user="u", settings={"enableThinking": True}, extra={"archived": False}
    )
    assert project["settings"]["enableThinking"] is True
    assert project["archived"] is False
    store.clear()
    assert len(store) == 0
