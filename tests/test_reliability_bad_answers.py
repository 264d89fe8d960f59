"""Malformed answers over real sockets: each gives its typed error, the pool survives.

Every case is served by a loopback server that writes the exact bytes of a
misbehaving service. The client must raise the documented error (keeping
the raw text where there is one), never resend or follow it, and serve the
next call on the same client and pool as if nothing had happened.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import pytest
from badserver import Reply, Seen, http, json_reply, pool_is_idle, raw_server
from core_support import project_wire

import nuextract_async._transport
from nuextract_async import (
    APIConnectionError,
    APIStatusError,
    AsyncNuExtract,
    AsyncProjects,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    ProjectLockedError,
    ProjectResponse,
    RateLimitError,
    ResponseValidationError,
)
from nuextract_async._converter import from_wire

PROJECT = project_wire(id="good")
GOOD = from_wire(ProjectResponse, PROJECT)
BODY_LIMIT = 1024 * 1024
HTML = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1>nginx</body></html>"

CALLS: dict[str, Callable[[AsyncProjects], Awaitable[Any]]] = {
    "get": lambda p: p.get("bad"),
    "list": lambda p: p.list(),
    "duplicate": lambda p: p.duplicate("bad"),
    "delete": lambda p: p.delete("bad"),
    "lock": lambda p: p.lock("bad"),
    "unlock": lambda p: p.unlock("bad"),
    "share": lambda p: p.share("bad"),
    "unshare": lambda p: p.unshare("bad"),
}
NOTHING_ANSWERED = ["delete", "lock", "unlock", "share", "unshare"]


class Case(NamedTuple):
    """A reply, the call it answers, and what the caller must get.

    ``error`` None means success with ``result``; ``raw`` is the text the
    error's ``body`` must hold.
    """

    reply: Reply
    error: type[Exception] | None
    raw: str | None = None
    call: str = "get"
    result: Any = None


def status(code: int, body: str, content_type: str | None = "text/plain") -> Case:
    """A non-2xx answer; the error keeps its body verbatim."""
    error = {
        400: BadRequestError,
        401: AuthenticationError,
        404: NotFoundError,
        429: RateLimitError,
    }.get(code, InternalServerError if 500 <= code < 600 else APIStatusError)
    return Case(Reply(http(code, body, content_type=content_type)), error, raw=body)


def misfit(body: str | bytes, call: str = "get", **options: Any) -> Case:
    """A 200 whose body is no model; the error keeps the body as text."""
    data = body.encode() if isinstance(body, str) else body
    raw = data.decode("utf-8", errors="replace")
    reply = Reply(http(200, data, **options))
    return Case(reply, ResponseValidationError, raw=raw, call=call)


def broken(data: bytes, close: bool = True, call: str = "get") -> Case:
    """Bytes no HTTP parser accepts, or an answer cut short."""
    return Case(Reply(data, close), APIConnectionError, call=call)


def project_with(**changes: Any) -> str:
    return json.dumps(project_wire(**changes))


def project_without(*keys: str) -> str:
    wire = project_wire()
    for key in keys:
        del wire[key]
    return json.dumps(wire)


def settings_with(**changes: Any) -> str:
    wire = project_wire()
    wire["settings"] = wire["settings"] | changes
    return json.dumps(wire)


GOOD_BODY = json.dumps(PROJECT)
TOO_BIG = json.dumps([project_wire(description="x" * 1000)] * 1100)
BOMB = gzip.compress(b"[" + b" " * 20 * BODY_LIMIT + b"]")
GZIP = [("Content-Encoding", "gzip")]

CASES: dict[str, Case] = {
    # Error statuses with the bodies gateways and frameworks really send.
    "C04 401 with an HTML page": status(401, "<html><h1>401</h1></html>", "text/html"),
    "C04 403 plain Locked": Case(
        Reply(http(403, "Locked", content_type="text/plain")),
        ProjectLockedError,
        raw="Locked",
    ),
    "C04 502 with an empty body": status(502, "", None),
    "C04 400 text/plain": status(400, "Invalid value for: body"),
    "502 gateway HTML": status(502, HTML, "text/html"),
    "404 HTML": status(404, "<html>Not Found</html>", "text/html"),
    "429 without Retry-After": status(429, "slow down"),
    "503 labelled JSON that is not": status(503, "upstream {oops", "application/json"),
    "500 JSON that is not an error object": status(500, "[1, 2]", "application/json"),
    "a status past 599": status(600, "{}", "application/json"),
    "redirect loop": Case(
        Reply(http(302, "", headers=[("Location", "/api/projects/bad")])),
        APIStatusError,
        raw="",
    ),
    "permanent redirect": Case(
        Reply(http(308, "", headers=[("Location", "/api/v2/projects/bad")])),
        APIStatusError,
        raw="",
    ),
    # 2xx answers whose body is not what the operation returns.
    "HTML error page with 200": misfit(HTML, content_type="text/html"),
    "C05 text/plain that is not JSON": misfit("OK", content_type="text/plain"),
    "truncated JSON": misfit(GOOD_BODY[: len(GOOD_BODY) // 2]),
    "a JSON array where an object belongs": misfit("[]"),
    "a JSON object where an array belongs": misfit("{}", call="list"),
    "a string where an array belongs": misfit('""', call="list"),
    "a 200 with an error body": misfit('{"code":"NotFound","message":"No project"}'),
    "null": misfit("null"),
    "null for a list": misfit("null", call="list"),
    "a number": misfit("42"),
    "a string": misfit('"ok"'),
    "true": misfit("true"),
    "null everywhere": misfit(json.dumps(dict.fromkeys(project_wire()))),
    "null settings fields": misfit(
        settings_with(**dict.fromkeys(project_wire()["settings"]))
    ),
    "missing name": misfit(project_without("name")),
    "missing settings": misfit(project_without("settings")),
    "missing every field but id": misfit('{"id": "good"}'),
    "id is a number": misfit(project_with(id=7)),
    "lockState is a string": misfit(project_with(lockState="false")),
    "createdAt is no date": misfit(project_with(createdAt="yesterday")),
    "createdAt is a number": misfit(project_with(createdAt=1764862127)),
    "template is a list": misfit(project_with(template=["orderId"])),
    "settings is a list": misfit(project_with(settings=[])),
    "rasterizationDPI is a string": misfit(settings_with(rasterizationDPI="115")),
    "temperature is a bool": misfit(settings_with(temperature=True)),
    "NaN is not JSON": misfit(settings_with(temperature=0.0).replace("0.0", "NaN")),
    "a null inside a list": misfit(f"[{GOOD_BODY}, null]", call="list"),
    "a list of strings": misfit('["good"]', call="list"),
    "empty 200 for get": misfit("", content_type=None),
    "empty 200 labelled JSON for get": misfit(""),
    "bytes that are not UTF-8": misfit(b'{"id": "\xff\xfe"}'),
    "nesting deeper than any parser": misfit("[" * 100_000 + "]" * 100_000),
    "HTML 200 for a duplicate": misfit(HTML, call="duplicate"),
    "larger than the limit, declared": Case(
        Reply(http(200, TOO_BIG[: BODY_LIMIT + 1])), ResponseValidationError, raw=""
    ),
    "larger than the limit, until close": Case(
        Reply(http(200, TOO_BIG, length=None), close=True),
        ResponseValidationError,
        raw="",
    ),
    "several megabytes, until close": Case(
        Reply(http(200, TOO_BIG * 5, length=None), close=True),
        ResponseValidationError,
        raw="",
    ),
    "gzip that inflates past the limit, declared": Case(
        Reply(http(200, BOMB, headers=GZIP)),
        ResponseValidationError,
        raw="",
    ),
    "gzip that inflates past the limit, until close": Case(
        Reply(http(200, BOMB, headers=GZIP, length=None), close=True),
        ResponseValidationError,
        raw="",
    ),
    # Answers that are not HTTP at all, or end too early.
    "garbage instead of HTTP": broken(b"SSH-2.0-OpenSSH_9.6\r\n"),
    "HTML without a status line": broken(b"<html>hi</html>\r\n\r\n", close=False),
    "closed mid-body": broken(http(200, GOOD_BODY[:40], length=len(GOOD_BODY))),
    "closed mid-body of a duplicate": broken(
        http(200, GOOD_BODY[:40], length=len(GOOD_BODY)), call="duplicate"
    ),
    "closed before any answer": broken(b""),
    "closed before any answer to a duplicate": broken(b"", call="duplicate"),
    "closed mid-headers": broken(b"HTTP/1.1 200 OK\r\nContent-Ty"),
    "Content-Length is not a number": broken(
        http(200, "{}", length=None, headers=[("Content-Length", "abc")])
    ),
    "two Content-Lengths": broken(
        http(200, "{}", headers=[("Content-Length", "3")]), close=False
    ),
    "a chunk size that is not hex": broken(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    ),
    "gzip-labelled garbage": broken(
        http(200, "not gzip", headers=[("Content-Encoding", "gzip")]), close=False
    ),
    # Odd but valid answers: decoded as usual.
    "C05 JSON without a Content-Type": Case(
        Reply(http(200, GOOD_BODY, content_type=None)), None, result=GOOD
    ),
    "C05 JSON labelled text/plain": Case(
        Reply(http(200, GOOD_BODY, content_type="text/plain")), None, result=GOOD
    ),
    "JSON with a UTF-8 byte-order mark": Case(
        Reply(http(200, "\ufeff" + GOOD_BODY)), None, result=GOOD
    ),
    "gzip JSON": Case(
        Reply(http(200, gzip.compress(GOOD_BODY.encode()), headers=GZIP)),
        None,
        result=GOOD,
    ),
    "HTTP/1.0 body until close": Case(
        Reply(b"HTTP/1.0 200 OK\r\n\r\n" + GOOD_BODY.encode(), close=True),
        None,
        result=GOOD,
    ),
    "100 Continue before the answer": Case(
        Reply(b"HTTP/1.1 100 Continue\r\n\r\n" + http(200, GOOD_BODY)),
        None,
        result=GOOD,
    ),
}
# C03: operations that answer nothing return None however the nothing comes.
for _call in NOTHING_ANSWERED:
    CASES[f"C03 {_call}: 204"] = Case(
        Reply(http(204, "", content_type=None, length=False)), None, call=_call
    )
    CASES[f"C03 {_call}: empty 200"] = Case(
        Reply(http(200, "", content_type=None)), None, call=_call
    )
    CASES[f"C03 {_call}: empty 200 labelled JSON"] = Case(
        Reply(http(200, "")), None, call=_call
    )


@pytest.fixture(autouse=True)
def small_body_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nuextract_async._transport, "MAX_BODY_BYTES", BODY_LIMIT)


def test_the_corpus_is_large_and_mostly_malformed() -> None:
    assert sum(case.error is not None for case in CASES.values()) >= 30
    assert len(TOO_BIG) > BODY_LIMIT


@pytest.mark.parametrize("name", list(CASES))
async def test_a_bad_answer_is_typed_and_the_pool_survives(name: str) -> None:
    case = CASES[name]

    def answer(seen: Seen) -> Reply:
        return json_reply(PROJECT) if seen.target.endswith("/good") else case.reply

    async with (
        raw_server(answer) as server,
        AsyncNuExtract(api_key="k", base_url=server.url, max_retries=0) as client,
    ):
        if case.error is None:
            assert await CALLS[case.call](client.projects) == case.result
        else:
            with pytest.raises(case.error) as caught:
                await CALLS[case.call](client.projects)
            error: Any = caught.value
            assert type(error) is case.error
            assert error.may_have_been_applied is (case.call == "duplicate")
            if case.raw is not None:
                assert error.body == case.raw
            if isinstance(error, APIConnectionError):
                assert error.request_sent

        assert len(server.seen) == 1
        assert pool_is_idle(client)
        assert await client.projects.get("good") == GOOD
        assert pool_is_idle(client)


async def test_a_large_valid_answer_is_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    many = [project_wire(id=f"p-{n}", description="d" * 300) for n in range(3000)]
    body = json.dumps(many).encode()
    monkeypatch.setattr(nuextract_async._transport, "MAX_BODY_BYTES", len(body))

    async with (
        raw_server(lambda seen: Reply(http(200, body, length=None), close=True)) as srv,
        AsyncNuExtract(api_key="k", base_url=srv.url) as client,
    ):
        projects = await client.projects.list()

    assert len(body) > 2 * 1024 * 1024
    assert [p.id for p in projects] == [f"p-{n}" for n in range(3000)]


async def test_several_bad_answers_in_a_row_on_one_keep_alive_connection() -> None:
    replies = iter(
        [
            Reply(http(500, HTML, content_type="text/html")),
            Reply(http(200, "[]")),
            Reply(http(403, "Locked", content_type="text/plain")),
            Reply(http(200, "", content_type=None)),
            json_reply(PROJECT),
        ]
    )

    async with (
        raw_server(lambda seen: next(replies)) as server,
        AsyncNuExtract(api_key="k", base_url=server.url, max_retries=0) as client,
    ):
        with pytest.raises(InternalServerError):
            await client.projects.get("a")
        with pytest.raises(ResponseValidationError):
            await client.projects.get("b")
        with pytest.raises(ProjectLockedError):
            await client.projects.lock("c")
        assert await client.projects.unlock("d") is None
        assert await client.projects.get("good") == GOOD

    assert server.connections == 1
    assert len(server.seen) == 5


async def test_a_server_that_closes_after_every_answer_costs_nothing() -> None:
    def answer(seen: Seen) -> Reply:
        return Reply(http(200, json.dumps(PROJECT)), close=True)

    async with (
        raw_server(answer) as server,
        AsyncNuExtract(api_key="k", base_url=server.url, max_retries=0) as client,
    ):
        copies = [await client.projects.duplicate("p-1") for _ in range(50)]

    assert copies == [GOOD] * 50
    assert server.connections == len(server.seen) == 50


@pytest.mark.parametrize(("code", "applied"), [(200, True), (404, False)])
async def test_an_oversized_answer_to_a_duplicate_says_what_its_status_says(
    code: int, applied: bool
) -> None:
    # A 2xx did make the copy; a 4xx did not, however large its page.
    reply = Reply(http(code, TOO_BIG[: BODY_LIMIT + 1]))
    async with (
        raw_server(lambda seen: reply) as server,
        AsyncNuExtract(api_key="k", base_url=server.url, max_retries=0) as client,
    ):
        with pytest.raises(ResponseValidationError) as caught:
            await client.projects.duplicate("p")

    assert caught.value.may_have_been_applied is applied
