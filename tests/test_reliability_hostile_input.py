"""Hostile ids and arguments: refused before any I/O, or delivered exactly.

A project id travels as one path segment and an organization id as one
query value. Each hostile value is either rejected with InvalidRequestError
while the server sees nothing, or reaches the emulator as the very same
string: the project seeded under that id is the one read, locked, copied.
No argument can add a header or a second request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from badserver import Reply, Seen, http, json_reply, raw_server
from core_support import project_wire

from nuextract_async import (
    AsyncNuExtract,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
)
from nuextract_async.emulator import Identity, RunningEmulator, run_emulator

TOKEN = "hostile-token"
CRLF_HEADER = "\r\nX-Injected: yes\r\n\r\nGET /evil HTTP/1.1\r\nHost: x\r\n\r\n"

# Ids a user may well have (C01): these must reach the server, never fail.
MUST_REACH = [
    "a/b",
    "x?y=1",
    "q#f",
    "s p",
    "é",
    "100%",
    "%2e%2e",
    "%2E%2E%2F",
    "%",
    "%%41",
    "../admin",
    "..%2f..",
    "...",
    "/",
    "//",
    "?",
    "#",
    "&",
    "a&organizationId=org-2",
    "a+b",
    "a;b=c",
    "@:!$'()*,=",
    "~-._",
    "\\",
    " ",
    " padded ",
    "\n",
    "\r",
    "a\r\nb",
    "x" + CRLF_HEADER,
    "\t",
    "\x7f",
    "\x1b[31m",
    "\u2028",
    "\ufeff",
    "日本語",
    "😀",
    "a" * 1024,
]
# Ids that cannot name anything or cannot be sent: refused before I/O.
MUST_REFUSE = [
    "",
    ".",
    "..",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "a" * 1025,
    "x" * 10**5,
]
REFUSED_TYPES: list[Any] = [None, 7, b"bytes", ["a"], True]


def shown(value: object) -> str:
    """A short, printable test id for a hostile value."""
    text = ascii(value)
    return text if len(text) <= 40 else f"{text[:24]}...{len(text)}"


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    orgs = frozenset({"org-1", *MUST_REACH})
    identity = Identity("user-h", orgs)
    async with run_emulator(identities={TOKEN: identity}) as emu:
        yield emu


def client_for(emu: RunningEmulator) -> AsyncNuExtract:
    return AsyncNuExtract(api_key=TOKEN, base_url=emu.base_url, max_retries=0)


def nothing_reached(emu: RunningEmulator) -> bool:
    stats = emu.stats.snapshot()
    return not any(stats["requests"].values()) and not stats["responses"]


EMULATOR_IDS = MUST_REACH


@pytest.mark.parametrize("project_id", MUST_REACH, ids=shown)
async def test_a_project_id_travels_as_one_segment_and_an_org_as_one_value(
    project_id: str,
) -> None:
    async with (
        raw_server(_recorder) as server,
        AsyncNuExtract(api_key="k", base_url=server.url, max_retries=0) as client,
    ):
        await client.projects.get(project_id)
        await client.projects.lock(project_id)
        await client.projects.list(project_id)

    get, lock, listing = (s.target for s in server.seen)
    prefix = "/api/projects/"
    assert get.startswith(prefix)
    segment = get.removeprefix(prefix)
    assert "/" not in segment
    assert "?" not in segment
    assert unquote(segment, errors="strict") == project_id
    assert lock == f"{prefix}{segment}/lock"
    path, _, query = listing.partition("?")
    assert path == "/api/projects"
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    assert pairs == [("organizationId", project_id)]


@pytest.mark.parametrize("project_id", EMULATOR_IDS, ids=shown)
async def test_a_project_id_reaches_the_server_as_itself(
    emulator: RunningEmulator, project_id: str
) -> None:
    emulator.store.add_project(owner_user="user-h", project_id=project_id, name="H")
    emulator.store.add_project(owner_user="user-h", project_id="a", name="decoy")

    async with client_for(emulator) as client:
        got = await client.projects.get(project_id)
        await client.projects.lock(project_id)
        copy = await client.projects.duplicate(project_id)
        await client.projects.unlock(project_id)
        await client.projects.delete(project_id)
        with pytest.raises(NotFoundError):
            await client.projects.get(project_id)

    assert got.id == project_id
    assert got.name == "H"
    assert copy.name == "H (copy)"
    assert emulator.stats.duplicated == {project_id: 1}
    assert project_id not in emulator.store
    assert emulator.store.get("a") is not None
    assert emulator.store.get("a")["lockState"] is False


@pytest.mark.parametrize("organization_id", MUST_REACH, ids=shown)
async def test_an_organization_id_reaches_the_server_as_itself(
    emulator: RunningEmulator, organization_id: str
) -> None:
    source = emulator.store.add_project(owner_user="user-h", name="S")
    emulator.store.add_project(
        owner_user="user-h", owner_organization=organization_id, name="In it"
    )
    emulator.store.add_project(
        owner_user="user-h", owner_organization="org-1", name="Elsewhere"
    )

    async with client_for(emulator) as client:
        listed = await client.projects.list(organization_id)
        copy = await client.projects.duplicate(source["id"], organization_id)

    assert [p.name for p in listed] == ["In it"]
    assert copy.owner_organization == organization_id
    assert emulator.store.get(copy.id)["ownerOrganization"] == organization_id


@pytest.mark.parametrize("bad_id", MUST_REFUSE + REFUSED_TYPES, ids=shown)
async def test_an_unsendable_id_is_refused_before_any_io(
    emulator: RunningEmulator, bad_id: Any
) -> None:
    async with client_for(emulator) as client:
        projects = client.projects
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: projects.get(bad_id),
            lambda: projects.delete(bad_id),
            lambda: projects.lock(bad_id),
            lambda: projects.duplicate(bad_id),
            lambda: projects.update(bad_id, name="n"),
        ]
        if bad_id is not None:  # None means "no organization" to these two
            calls.append(lambda: projects.duplicate("p-1", bad_id))
            calls.append(lambda: projects.list(bad_id))
        for call in calls:
            with pytest.raises(InvalidRequestError):
                await call()

    assert nothing_reached(emulator)


# Header injection: a recording server shows exactly what went on the wire.

INJECTIONS = [
    "x\r\nX-Injected: yes",
    "x\nX-Injected: yes",
    "x\rX-Injected: yes",
    CRLF_HEADER,
    "x\x85X-Injected: yes",
    "x\u2028X-Injected: yes",
]


def _recorder(seen: Seen) -> Reply:
    path = seen.target.partition("?")[0]
    if seen.method == "GET" and path == "/api/projects":
        return json_reply([])
    if path.endswith(("/lock", "/unlock", "/share", "/unshare")):
        return Reply(http(204, "", content_type=None, length=False))
    return json_reply(project_wire())


def _one_clean_request_each(seen: list[Seen], calls: int) -> None:
    assert len(seen) == calls
    for request in seen:
        assert not any(k.lower().startswith("x-injected") for k, _ in request.headers)
        assert not any(c in request.target for c in " \r\n\t")
        assert request.target.isascii()
        assert "/evil" not in request.target.partition("?")[0]
        names = [k.lower() for k, _ in request.headers]
        assert names.count("authorization") == 1


@pytest.mark.parametrize("text", INJECTIONS, ids=shown)
async def test_no_argument_can_add_a_header_or_a_request(text: str) -> None:
    template = {text: "verbatim-string", "k": text}

    async with (
        raw_server(_recorder) as server,
        AsyncNuExtract(api_key="k", base_url=server.url, max_retries=0) as client,
    ):
        await client.projects.get(text)
        await client.projects.lock(text)
        await client.projects.list(text)
        await client.projects.duplicate(text, text)
        await client.projects.create(text, template, text, text)
        await client.projects.update(text, name=text, template=template)
        await client.projects.replace_template(text, template)

    _one_clean_request_each(server.seen, 7)
    bodies = [json.loads(s.body) for s in server.seen if s.body]
    assert bodies == [
        {
            "name": text,
            "template": template,
            "description": text,
            "ownerOrganization": text,
        },
        {"name": text, "template": template},
        {"template": template},
    ]


@pytest.mark.parametrize(
    "api_key",
    [
        "k\r\nX-Injected: yes",
        "k\nX-Injected: yes",
        "k\rX",
        "k\x00",
        "k\x85X",
        "k\u2028X",
        "k X",
        "k\tX",
        "ké",
    ],
    ids=shown,
)
def test_an_api_key_that_could_break_the_header_is_refused(api_key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncNuExtract(api_key=api_key, base_url="http://127.0.0.1:9")

    assert api_key not in str(caught.value)


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb"], ids=shown)
async def test_a_body_json_cannot_carry_is_refused_before_any_io(text: str) -> None:
    async with (
        raw_server(_recorder) as server,
        AsyncNuExtract(api_key="k", base_url=server.url) as client,
    ):
        projects = client.projects
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: projects.create(text, {}),
            lambda: projects.create("n", {text: "verbatim-string"}),
            lambda: projects.update("p-1", description=text),
            lambda: projects.replace_template("p-1", {"k": [text]}),
            lambda: projects.update_settings("p-1", degraded_mode=text),
        ]
        for call in calls:
            with pytest.raises(InvalidRequestError):
                await call()

    assert server.seen == []
