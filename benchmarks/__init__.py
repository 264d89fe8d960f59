"""Benchmarks of this client against the official ``numind`` SDK and raw aiohttp.

``python -m benchmarks`` runs every scenario: it serves the emulator in a
process of its own on loopback, runs each contender in a fresh process per
round (alternating their order), prints a table of medians with their
spread and ratios, and writes the same figures as JSON.
"""
