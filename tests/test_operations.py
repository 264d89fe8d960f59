"""The operation table and request building: pure, no socket."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuextract_async import InvalidRequestError
from nuextract_async._operations import (
    MAX_ID_LENGTH,
    OPERATIONS,
    Answer,
    build_request,
    encode_segment,
)

# name, method, path (with "P" as the id), answer, upstream name: the contract.
CONTRACT = [
    ("list", "GET", "/api/projects", Answer.PROJECTS, "get_api_projects"),
    ("create", "POST", "/api/projects", Answer.PROJECT, "post_api_projects"),
    ("get", "GET", "/api/projects/P", Answer.PROJECT, "get_api_projects_projectid"),
    (
        "update",
        "PATCH",
        "/api/projects/P",
        Answer.PROJECT,
        "patch_api_projects_projectid",
    ),
    (
        "delete",
        "DELETE",
        "/api/projects/P",
        Answer.NOTHING,
        "delete_api_projects_projectid",
    ),
    (
        "update_settings",
        "PATCH",
        "/api/projects/P/settings",
        Answer.PROJECT,
        "patch_api_projects_projectid_settings",
    ),
    (
        "replace_template",
        "PUT",
        "/api/projects/P/template",
        Answer.PROJECT,
        "put_api_projects_projectid_template",
    ),
    (
        "reset_settings",
        "POST",
        "/api/projects/P/reset-settings",
        Answer.PROJECT,
        "post_api_projects_projectid_reset_settings",
    ),
    (
        "duplicate",
        "POST",
        "/api/projects/P/duplicate",
        Answer.PROJECT,
        "post_api_projects_projectid_duplicate",
    ),
    (
        "lock",
        "POST",
        "/api/projects/P/lock",
        Answer.NOTHING,
        "post_api_projects_projectid_lock",
    ),
    (
        "unlock",
        "POST",
        "/api/projects/P/unlock",
        Answer.NOTHING,
        "post_api_projects_projectid_unlock",
    ),
    (
        "share",
        "POST",
        "/api/projects/P/share",
        Answer.NOTHING,
        "post_api_projects_projectid_share",
    ),
    (
        "unshare",
        "POST",
        "/api/projects/P/unshare",
        Answer.NOTHING,
        "post_api_projects_projectid_unshare",
    ),
]

# C01's ids and the one segment each must become.
ENCODED_IDS = [
    ("a/b", "a%2Fb"),
    ("x?y=1", "x%3Fy%3D1"),
    ("q#f", "q%23f"),
    ("s p", "s%20p"),
    ("é", "%C3%A9"),
    ("100%", "100%25"),
    ("plain-id_1.2~3", "plain-id_1.2~3"),
    ("%2F", "%252F"),
    ("...", "..."),
]

BAD_IDS = ["", ".", "..", "a\x00b", "\ud800", "x" * (MAX_ID_LENGTH + 1)]
NOT_STRINGS = [None, 7, b"p-1", ["p-1"], 1.5]


def test_table_is_the_contract() -> None:
    assert list(OPERATIONS) == [row[0] for row in CONTRACT]
    for name, method, path, answer, upstream in CONTRACT:
        operation = OPERATIONS[name]
        assert operation.name == name
        assert operation.method == method
        assert operation.path.replace("{project_id}", "P") == path
        assert operation.answer is answer
        assert operation.upstream_name == upstream


def test_only_create_and_duplicate_are_not_idempotent() -> None:
    not_idempotent = {n for n, op in OPERATIONS.items() if not op.idempotent}
    assert not_idempotent == {"create", "duplicate"}


@pytest.mark.parametrize(("name", "method", "path"), [r[:3] for r in CONTRACT])
def test_build_request_fills_method_and_path(name: str, method: str, path: str) -> None:
    request = build_request(OPERATIONS[name], "P", body=b"{}")

    assert request.operation is OPERATIONS[name]
    assert request.method == method
    assert request.target == path
    assert request.body == b"{}"


@pytest.mark.parametrize(("project_id", "segment"), ENCODED_IDS)
def test_project_id_is_one_encoded_segment(project_id: str, segment: str) -> None:
    for name in ("get", "delete", "lock"):
        request = build_request(OPERATIONS[name], project_id)

        expected = OPERATIONS[name].path.replace("{project_id}", segment)
        assert request.target == expected


@given(st.text(min_size=1, max_size=60).filter(lambda s: s not in (".", "..")))
def test_any_id_round_trips_as_one_segment(project_id: str) -> None:
    if "\x00" in project_id:
        with pytest.raises(InvalidRequestError):
            encode_segment(project_id)
        return

    segment = encode_segment(project_id)

    assert unquote(segment, errors="strict") == project_id
    assert not set("/?#") & set(segment)
    assert segment.isascii()


@pytest.mark.parametrize("project_id", BAD_IDS + NOT_STRINGS)
@pytest.mark.parametrize("name", ["get", "update", "duplicate", "unshare"])
def test_bad_project_ids_are_rejected(project_id: object, name: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        build_request(OPERATIONS[name], project_id)  # type: ignore[arg-type]

    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)


def test_longest_allowed_id_is_accepted() -> None:
    request = build_request(OPERATIONS["get"], "x" * MAX_ID_LENGTH)

    assert request.target.endswith("x" * MAX_ID_LENGTH)


@pytest.mark.parametrize(
    ("reference", "query"),
    [(False, "?reference=false"), (True, "?reference=true"), (None, "")],
)
def test_reference_is_lowercase_true_or_false(
    reference: bool | None, query: str
) -> None:
    request = build_request(OPERATIONS["list"], reference=reference)

    assert request.target == "/api/projects" + query


def test_organization_id_is_percent_encoded_and_comes_first() -> None:
    request = build_request(
        OPERATIONS["list"], organization_id="org:1/&x=y", reference=True
    )

    assert (
        request.target
        == "/api/projects?organizationId=org%3A1%2F%26x%3Dy&reference=true"
    )


def test_duplicate_into_an_organization() -> None:
    request = build_request(OPERATIONS["duplicate"], "a/b", organization_id="org-2")

    assert request.target == "/api/projects/a%2Fb/duplicate?organizationId=org-2"


@pytest.mark.parametrize("reference", [1, 0, "true", "false", "yes"])
def test_reference_must_be_a_bool(reference: object) -> None:
    with pytest.raises(InvalidRequestError, match="reference"):
        build_request(OPERATIONS["list"], reference=reference)  # type: ignore[arg-type]


@pytest.mark.parametrize("organization_id", ["", "..", 5, b"org"])
def test_bad_organization_ids_are_rejected(organization_id: object) -> None:
    with pytest.raises(InvalidRequestError, match="organization_id"):
        build_request(
            OPERATIONS["list"],
            organization_id=organization_id,  # type: ignore[arg-type]
        )
