"""What feature logging costs the interaction log: the size of an impression with and
without its logged features, as a BSON document (what MongoDB stores) and in the process's
buffer (what MAX_BUFFERED_INTERACTIONS bounds), and what a ranked window's scoring costs in
Redis.

Run: `.venv/bin/python -m bench.interaction_log` (no server needed).
"""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

import bson
import numpy as np
import typer

from ranking.features import FEATURE_COUNT, FEATURE_SCHEMA_ID, feature_bytes
from storage.interaction import (
    MAX_BUFFERED_INTERACTIONS,
    ImpressionScoring,
    Interaction,
    InteractionKind,
)

ITEMS = 50_000
WINDOW = 200  # the feed's ranked window
VERSION = "sim2026-d89a568ee20c"  # a version as long as the shipped model's
BIG_ID = 2**60  # ids as large as the app's 64-bit ones (BSON int64 either way)
HASHTAGS = ("sunset", "beach")


def impression(n: int, *, scored: bool) -> Interaction:
    row = np.random.default_rng(n).random(FEATURE_COUNT).astype(np.float32)
    scoring = ImpressionScoring(feature_bytes(row), FEATURE_SCHEMA_ID, VERSION, BIG_ID + n // 20)
    return Interaction(
        InteractionKind.IMPRESSION, BIG_ID + n, BIG_ID + 7 * n, datetime.now(UTC),
        post_id=BIG_ID + 3 * n, surface="feed", position=n % WINDOW, hashtags=HASHTAGS,
        scoring=scoring if scored else None,
    )  # fmt: skip


def bson_bytes(interaction: Interaction) -> int:
    document = {"_id": bson.ObjectId(), **interaction.document()}
    return len(bson.encode(document))


def buffered_bytes(*, scored: bool) -> float:
    """Memory per buffered interaction, its objects included (tracemalloc)."""
    tracemalloc.start()
    items = [impression(n, scored=scored) for n in range(ITEMS)]
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del items
    return current / ITEMS


def main() -> None:
    for scored in (False, True):
        label = "ranked (with features)" if scored else "newest first (none)"
        memory = buffered_bytes(scored=scored)
        typer.echo(
            f"{label}: {bson_bytes(impression(1, scored=scored))} bytes as BSON, "
            f"{memory:.0f} bytes buffered; {MAX_BUFFERED_INTERACTIONS:,} buffered: "
            f"{memory * MAX_BUFFERED_INTERACTIONS / 1e6:.1f} MB"
        )
    typer.echo(f"a ranked window's features in Redis: {WINDOW * FEATURE_COUNT * 4:,} bytes")


if __name__ == "__main__":
    typer.run(main)
