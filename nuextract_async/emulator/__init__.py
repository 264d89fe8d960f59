"""A local stand-in for the NuExtract project API, served by aiohttp.

It keeps projects in memory, applies the contract's rules (visibility, write
rights, locks, reference projects, duplicate naming, validation) and can
inject faults, seeded so a run can be repeated::

    async with run_emulator(faults=Faults(rate_503=0.1, seed=7)) as emu:
        ...  # talk to emu.base_url with the token "test-token"
        emu.stats.snapshot()

``python -m nuextract_async.emulator`` serves one from the command line.
Names load on first use, so the pytest plugin costs nothing until a
fixture asks for an emulator.
Tokens: ``test-token`` (user-1 in org-1), ``other-token`` (user-2 in
org-2), ``admin-token`` (an administrator in no organization).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import (
        EMULATOR_KEY,
        Emulator,
        RunningEmulator,
        create_app,
        route,
        run_emulator,
        run_emulator_in_thread,
    )
    from ._faults import FAULT_KINDS, OPERATIONS, Decision, Faults, decide
    from ._identity import (
        DEFAULT_IDENTITIES,
        Identity,
        default_identities,
        parse_token,
    )
    from ._rules import ApiError, Rules
    from ._stats import Stats
    from ._store import DEFAULT_SETTINGS, Store
    from .samples import TEMPLATES, seed_samples

__all__ = [
    "ApiError",
    "DEFAULT_IDENTITIES",
    "DEFAULT_SETTINGS",
    "Decision",
    "EMULATOR_KEY",
    "Emulator",
    "FAULT_KINDS",
    "Faults",
    "Identity",
    "OPERATIONS",
    "Rules",
    "RunningEmulator",
    "Stats",
    "Store",
    "TEMPLATES",
    "create_app",
    "decide",
    "default_identities",
    "parse_token",
    "route",
    "run_emulator",
    "run_emulator_in_thread",
    "seed_samples",
]

# Where each public name lives; it is imported on first use.
_HOME_OF = {
    "EMULATOR_KEY": "._app",
    "Emulator": "._app",
    "RunningEmulator": "._app",
    "create_app": "._app",
    "route": "._app",
    "run_emulator": "._app",
    "run_emulator_in_thread": "._app",
    "FAULT_KINDS": "._faults",
    "OPERATIONS": "._faults",
    "Decision": "._faults",
    "Faults": "._faults",
    "decide": "._faults",
    "DEFAULT_IDENTITIES": "._identity",
    "Identity": "._identity",
    "default_identities": "._identity",
    "parse_token": "._identity",
    "ApiError": "._rules",
    "Rules": "._rules",
    "Stats": "._stats",
    "DEFAULT_SETTINGS": "._store",
    "Store": "._store",
    "TEMPLATES": ".samples",
    "seed_samples": ".samples",
}


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
