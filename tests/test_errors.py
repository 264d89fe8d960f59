"""The error tree and the status/body -> error table (C04)."""

from __future__ import annotations

import json
import pickle

import pytest
from aiohttp import web
from core_support import API, client, loopback_server, mocked_api

from nuextract_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    NuExtractError,
    PermissionDeniedError,
    ProjectLockedError,
    RateLimitError,
    ResponseValidationError,
)
from nuextract_async._errors import error_for_status

HTML_401 = "<html><body><h1>401 Authorization Required</h1></body></html>"


def _json(code: str, message: str) -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


# status, body, expected class, expected code, expected message
TABLE: list[tuple[int, bytes, type[APIStatusError], str | None, str]] = [
    (400, b"Invalid value for: body", BadRequestError, None, "Invalid value for: body"),
    (401, HTML_401.encode(), AuthenticationError, None, HTML_401),
    (
        403,
        _json("Forbidden", "Not a member of org-2"),
        PermissionDeniedError,
        "Forbidden",
        "Not a member of org-2",
    ),
    (
        403,
        _json("Locked", "Project is locked"),
        ProjectLockedError,
        "Locked",
        "Project is locked",
    ),
    (403, b"Locked", ProjectLockedError, None, "Locked"),
    (403, b"project is LOCKED\n", ProjectLockedError, None, "project is LOCKED"),
    (
        404,
        _json("NotFound", "No such project"),
        NotFoundError,
        "NotFound",
        "No such project",
    ),
    (
        429,
        _json("RateLimited", "Slow down"),
        RateLimitError,
        "RateLimited",
        "Slow down",
    ),
    (500, b"boom", InternalServerError, None, "boom"),
    (502, b"", InternalServerError, None, ""),
    (503, _json("Unavailable", "later"), InternalServerError, "Unavailable", "later"),
    (
        504,
        b"<html>Gateway Timeout</html>",
        InternalServerError,
        None,
        "<html>Gateway Timeout</html>",
    ),
    (409, b"conflict", APIStatusError, None, "conflict"),
    (418, b"", APIStatusError, None, ""),
    (301, b"", APIStatusError, None, ""),
    (302, b"moved", APIStatusError, None, "moved"),
]


def test_tree_mixes_in_the_matching_builtins() -> None:
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(InvalidRequestError, ValueError)
    assert issubclass(InvalidRequestError, TypeError)
    assert issubclass(ClientClosedError, RuntimeError)
    assert issubclass(APIConnectionError, ConnectionError)
    assert issubclass(APITimeoutError, TimeoutError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(ProjectLockedError, PermissionDeniedError)
    for cls in (APIConnectionError, ResponseValidationError, APIStatusError):
        assert issubclass(cls, APIError)
    for cls in (ConfigurationError, InvalidRequestError, ClientClosedError, APIError):
        assert issubclass(cls, NuExtractError)


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_success_is_no_error(status: int) -> None:
    assert error_for_status(status, b"{}", {}, method="GET", url=API) is None


@pytest.mark.parametrize(("status", "body", "cls", "code", "message"), TABLE)
def test_error_for_status(
    status: int,
    body: bytes,
    cls: type[APIStatusError],
    code: str | None,
    message: str,
) -> None:
    headers = {"Content-Type": "text/plain", "X-Request-Id": "r-1"}

    error = error_for_status(status, body, headers, method="GET", url=API + "/x")

    assert type(error) is cls
    assert error.status == status
    assert error.code == code
    assert error.message == message
    assert error.body == body.decode()
    assert error.headers["X-Request-Id"] == "r-1"
    assert error.method == "GET"
    assert error.url == API + "/x"
    assert not error.may_have_been_applied
    assert f"HTTP {status} from GET {API}/x" in str(error)


def test_forbidden_code_decides_over_a_message_about_locks() -> None:
    body = _json("Forbidden", "Only the owner may lock this project")

    error = error_for_status(403, body, {}, method="POST", url=API)

    assert type(error) is PermissionDeniedError


def test_partial_or_odd_json_bodies() -> None:
    only_message = error_for_status(
        400, b'{"message": "bad name"}', {}, method="POST", url=API
    )
    numeric_code = error_for_status(
        400, b'{"code": 12, "message": "m"}', {}, method="POST", url=API
    )
    a_list = error_for_status(400, b'["x"]', {}, method="POST", url=API)
    broken = error_for_status(400, b'{"code": ', {}, method="POST", url=API)

    assert (only_message.code, only_message.message) == (None, "bad name")
    assert (numeric_code.code, numeric_code.message) == (None, "m")
    assert (a_list.code, a_list.message) == (None, '["x"]')
    assert (broken.code, broken.message) == (None, '{"code":')


def test_undecodable_bytes_do_not_raise() -> None:
    error = error_for_status(500, b"\xff\xfe oops", {}, method="GET", url=API)

    assert error.body == "\ufffd\ufffd oops"


def test_long_bodies_are_cut_in_the_message_but_kept_whole() -> None:
    body = b"x" * 5000

    error = error_for_status(500, body, {}, method="GET", url=API)

    assert len(str(error)) < 500
    assert str(error).endswith("...")
    assert error.body == body.decode()


def test_empty_body_is_named_in_the_message() -> None:
    error = error_for_status(502, b"", {}, method="GET", url=API)

    assert "(empty body)" in str(error)


def test_may_have_been_applied_is_carried_and_said() -> None:
    error = error_for_status(
        500, b"", {}, method="POST", url=API, may_have_been_applied=True
    )

    assert error.may_have_been_applied
    assert "may have been applied" in str(error)


@pytest.mark.parametrize(("status", "body", "cls", "code", "message"), TABLE)
async def test_client_raises_the_table(
    status: int,
    body: bytes,
    cls: type[APIStatusError],
    code: str | None,
    message: str,
) -> None:
    content_type = "application/json" if body.startswith(b"{") else "text/plain"
    with mocked_api() as mocked:
        mocked.get(
            API + "/api/projects/p-1",
            status=status,
            body=body,
            content_type=content_type,
            headers={"Location": API + "/elsewhere"},
        )
        async with client(max_retries=0) as nuextract:
            with pytest.raises(cls) as caught:
                await nuextract.projects.get("p-1")

    assert type(caught.value) is cls
    assert (caught.value.code, caught.value.message) == (code, message)
    assert caught.value.body == body.decode()


async def test_redirects_are_not_followed() -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.path == "/elsewhere":
            return web.json_response({})
        raise web.HTTPFound("/elsewhere")

    async with (
        loopback_server(handler) as url,
        client(base_url=url, max_retries=0) as nuextract,
    ):
        with pytest.raises(APIStatusError) as caught:
            await nuextract.projects.get("p-1")

    assert caught.value.status == 302
    assert caught.value.headers["Location"] == "/elsewhere"
    assert hits == ["/api/projects/p-1"]


def _one_of_each() -> list[Exception]:
    where = {"method": "GET", "url": "https://api.example.invalid/api/projects/p"}
    return [
        error_for_status(404, b'{"code":"NotFound","message":"no"}', {}, **where),
        error_for_status(403, b"Locked", {"Retry-After": "1"}, **where),
        APIConnectionError("lost", request_sent=True, **where),
        APITimeoutError("slow", request_sent=False, **where),
        ResponseValidationError("bad", status=200, body="[]", **where),
        InvalidRequestError("bad id"),
        ClientClosedError("closed"),
    ]


@pytest.mark.parametrize("error", _one_of_each(), ids=lambda e: type(e).__name__)
def test_errors_survive_pickling(error: Exception) -> None:
    # A worker process's error must reach the parent as the same class, with
    # its attributes, or a process pool breaks on the first failure.
    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
