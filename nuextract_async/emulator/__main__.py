"""Serve the emulator: ``python -m nuextract_async.emulator --port 8765``.

The first line on stdout is ``NUEXTRACT_EMULATOR_URL=<base url>``; the
tokens (and sample projects, with ``--samples``) follow. SIGINT or SIGTERM
stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from ._app import run_emulator
from ._faults import Faults
from ._identity import Identity, default_identities, parse_token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nuextract_async.emulator",
        description="Serve a local NuExtract project API emulator.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    add("--seed", type=int, default=0, help="seed of the fault draws")
    add("--latency", type=float, default=0.0, help="seconds added to each request")
    add("--rate-503", type=float, default=0.0, help="share answered 503")
    add("--rate-429", type=float, default=0.0, help="share answered 429")
    add("--retry-after", default="0", help="Retry-After value of 429 and 503")
    add("--drop-before", type=float, default=0.0, help="share dropped unhandled")
    add("--drop-after", type=float, default=0.0, help="share dropped after handling")
    add("--slow-rate", type=float, default=0.0, help="share answered late")
    add("--slow-seconds", type=float, default=0.0, help="delay of a late answer")
    add("--operations", help="comma-separated operations the faults apply to")
    add(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN=USER[:ORGS[:admin]]",
        help="add a token, e.g. tok=alice:org-1,org-2 or root::admin",
    )
    add("--no-default-tokens", action="store_true", help="serve only --token ones")
    add("--samples", action="store_true", help="seed sample projects for user-1")
    add("--access-log", action="store_true", help="log each request to stderr")
    return parser


def _configure(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[Faults, dict[str, Identity]]:
    try:
        faults = Faults(
            latency=args.latency,
            rate_503=args.rate_503,
            rate_429=args.rate_429,
            retry_after=args.retry_after,
            drop_before=args.drop_before,
            drop_after=args.drop_after,
            slow_rate=args.slow_rate,
            slow_seconds=args.slow_seconds,
            operations=args.operations,
            seed=args.seed,
        )
        tokens = {} if args.no_default_tokens else default_identities()
        tokens.update(parse_token(spec) for spec in args.token)
    except ValueError as exc:
        parser.error(str(exc))
    return faults, tokens


async def _serve(
    args: argparse.Namespace, faults: Faults, tokens: dict[str, Identity]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    async with run_emulator(
        faults=faults,
        identities=tokens,
        host=args.host,
        port=args.port,
        seed_samples=args.samples,
        access_log=args.access_log,
    ) as emu:
        lines = [f"NUEXTRACT_EMULATOR_URL={emu.base_url}"]
        for token, who in emu.tokens.items():
            orgs = ",".join(sorted(who.organizations)) or "-"
            role = " admin" if who.admin else ""
            lines.append(f"token {token}: user {who.user_id}, orgs {orgs}{role}")
        lines.extend(f"project {p['id']}: {p['name']}" for p in emu.store.projects())
        print("\n".join(lines), flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM."""
    parser = _parser()
    args = parser.parse_args(argv)
    faults, tokens = _configure(parser, args)
    if args.access_log:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(_serve(args, faults, tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
