"""Who a bearer token stands for, and the default tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

__all__ = ["DEFAULT_IDENTITIES", "Identity", "default_identities", "parse_token"]


def _to_frozenset(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError("organizations must be a collection of ids, not a string")
    return frozenset(value)


@attrs.frozen
class Identity:
    """A caller: a user id, the organizations it belongs to, administrator or not."""

    user_id: str
    organizations: frozenset[str] = attrs.field(
        default=frozenset(), converter=_to_frozenset
    )
    admin: bool = False


DEFAULT_IDENTITIES: Mapping[str, Identity] = {
    "test-token": Identity("user-1", frozenset({"org-1"})),
    "other-token": Identity("user-2", frozenset({"org-2"})),
    "admin-token": Identity("admin", frozenset(), admin=True),
}


def default_identities() -> dict[str, Identity]:
    """Return a fresh copy of the default token table."""
    return dict(DEFAULT_IDENTITIES)


def parse_token(spec: str) -> tuple[str, Identity]:
    """Parse ``TOKEN=USER[:ORG1,ORG2[:admin]]`` into a token and its identity.

    ``tok=alice`` is a user in no organization, ``tok=alice:org-1,org-2`` a
    member of two, and ``tok=root::admin`` an administrator in none.
    """
    token, sep, rest = spec.partition("=")
    if not sep or not token or not rest:
        raise ValueError(f"expected TOKEN=USER[:ORGS[:admin]], got {spec!r}")

    parts = rest.split(":")
    if len(parts) > 3 or not parts[0]:
        raise ValueError(f"expected TOKEN=USER[:ORGS[:admin]], got {spec!r}")
    if len(parts) == 3 and parts[2] != "admin":
        raise ValueError(f"the third part must be 'admin', got {parts[2]!r}")

    orgs = (
        frozenset(org for org in parts[1].split(",") if org) if len(parts) > 1 else ()
    )
    return token, Identity(parts[0], frozenset(orgs), admin=len(parts) == 3)
