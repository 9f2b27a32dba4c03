"""Training rows from the interaction log (`pictograph train-ranker --source mongodb`): each
ranked impression's logged features, labelled by what its viewer did to its post afterwards.

Pure, no I/O: the documents come in (batch by batch, as the log is streamed from MongoDB)
and one training set comes out. Only ranked impressions are rows: they carry the features
the model scored them with (resolvers/ranking.py logs them); a newest-first page's
impressions carry none, and impressions of another feature schema are left out rather than
misread. A head's label is 1 when the same viewer did that to the same post within
ATTRIBUTION_WINDOW after the impression, else 0. An impression shown twice from the same
ranked window (a page fetched again) is one row, timed by its first showing.

Heads the app does not observe yet are masked: no share to a DM thread exists in the API,
and no long view (dwell, or a reel watched to the end) is logged (storage/interaction.py).
Their labels would all be 0, which says "never", not "unknown": they are left out of the
loss instead (`observed_heads`), and training exports them as a constant so that they
cannot reorder a window (ranking/training/train.py).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from ranking.features import FEATURE_COUNT, FEATURE_SCHEMA_ID, features_from_bytes
from ranking.model import HEADS
from storage.interaction import InteractionKind

# A like or comment credits the impressions of the post its viewer saw in the day before it:
# feed reactions come within hours of seeing a post, and a day still catches the one seen at
# night and liked next morning, while a like days later is not credited to a showing that
# likely did not cause it. An impression younger than this has no final labels yet.
ATTRIBUTION_WINDOW = timedelta(hours=24)
# The heads whose engagement the log records, and the kind that labels each.
LABEL_KINDS = {"like": InteractionKind.LIKE, "comment": InteractionKind.COMMENT}
OBSERVED_HEADS = tuple(head for head in HEADS if head in LABEL_KINDS)
# The kinds training reads from the log: the rows, and what labels them.
READ_KINDS = (InteractionKind.IMPRESSION, *LABEL_KINDS.values())
# Below these a 17 -> 64 -> 32 -> 4 network (~3,400 weights) memorises rather than learns:
# refuse to train on it (a fresh deployment's log; an embedded server has none at all).
MIN_TRAINING_ROWS = 10_000
MIN_POSITIVES_PER_HEAD = 100


class TooFewRows(ValueError):
    """The log holds too little to train on."""


@dataclass(frozen=True, slots=True)
class LoggedSet:
    features: npt.NDArray[np.float32]  # [rows, FEATURE_COUNT], as the model was served them
    labels: npt.NDArray[np.float32]  # [rows, len(HEADS)]; 0 in a head not observed
    observed_heads: tuple[str, ...]  # the heads the loss learns; the others are masked
    skipped: dict[str, int] = field(default_factory=dict)  # impressions not rows, by why

    @property
    def rows(self) -> int:
        return len(self.features)

    def positives(self, head: str) -> int:
        return int(self.labels[:, HEADS.index(head)].sum())


ImpressionKey = tuple[int, int, str, int]  # viewer, post, surface, ranked window


class LogLabeler:
    """Collects the log's documents batch by batch; `build` labels the impressions."""

    def __init__(self, window: timedelta = ATTRIBUTION_WINDOW) -> None:
        self._window = window
        # (first shown at, position, features) of each impression
        self._impressions: dict[ImpressionKey, tuple[datetime, int, bytes]] = {}
        self._engagements: dict[tuple[str, int, int], list[datetime]] = {}
        self.skipped = {"unranked": 0, "other_schema": 0, "duplicate": 0}

    def add(self, documents: Iterable[Mapping[str, Any]]) -> None:
        for document in documents:
            kind = document.get("kind")
            if kind == InteractionKind.IMPRESSION:
                self._add_impression(document)
            elif kind in (InteractionKind.LIKE, InteractionKind.COMMENT) and "post_id" in document:
                key = (str(kind), int(document["viewer_id"]), int(document["post_id"]))
                self._engagements.setdefault(key, []).append(document["at"])

    def _add_impression(self, document: Mapping[str, Any]) -> None:
        features = document.get("features")
        if features is None or "window" not in document:
            self.skipped["unranked"] += 1
            return
        if (
            document.get("feature_schema") != FEATURE_SCHEMA_ID
            or len(features) != FEATURE_COUNT * 4
        ):
            self.skipped["other_schema"] += 1
            return
        at: datetime = document["at"]
        key = (
            int(document["viewer_id"]),
            int(document["post_id"]),
            str(document.get("surface")),
            int(document["window"]),
        )
        seen = self._impressions.get(key)
        if seen is not None:
            self.skipped["duplicate"] += 1
            if seen[0] <= at:
                return
        self._impressions[key] = (at, int(document.get("position", 0)), bytes(features))

    def build(self, labels_final_at: datetime) -> LoggedSet:
        """The rows of the impressions whose labels are final: the log is complete up to
        `labels_final_at`, so an impression less than the window before it is left out."""
        for times in self._engagements.values():
            times.sort()
        final = [
            item
            for item in self._impressions.items()
            if item[1][0] + self._window <= labels_final_at
        ]
        skipped = {**self.skipped, "not_final": len(self._impressions) - len(final)}
        # In the order shown: by time, then each page's window and position.
        rows = sorted(final, key=lambda item: (item[1][0], item[0][3], item[1][1], item[0]))
        features = np.zeros((len(rows), FEATURE_COUNT), dtype=np.float32)
        labels = np.zeros((len(rows), len(HEADS)), dtype=np.float32)
        for row, ((viewer, post, _, _), (at, _, vector)) in enumerate(rows):
            features[row] = features_from_bytes(vector)
            for head, kind in LABEL_KINDS.items():
                times = self._engagements.get((str(kind), viewer, post), [])
                first = bisect.bisect_left(times, at)
                if first < len(times) and times[first] <= at + self._window:
                    labels[row, HEADS.index(head)] = 1.0
        return LoggedSet(features, labels, OBSERVED_HEADS, skipped)


def label_impressions(
    documents: Iterable[Mapping[str, Any]],
    labels_final_at: datetime,
    window: timedelta = ATTRIBUTION_WINDOW,
) -> LoggedSet:
    """The training set of a log: one row per ranked impression whose labels are final
    (`labels_final_at`: the log is complete up to then) and of this code's feature schema."""
    labeler = LogLabeler(window)
    labeler.add(documents)
    return labeler.build(labels_final_at)


def check_trainable(
    logged: LoggedSet,
    min_rows: int = MIN_TRAINING_ROWS,
    min_positives: int = MIN_POSITIVES_PER_HEAD,
) -> None:
    """TooFewRows unless the set is large enough to learn every observed head from."""
    if logged.rows < min_rows:
        raise TooFewRows(
            f"the log holds {logged.rows} labelled ranked impressions, fewer than the "
            f"{min_rows} to train on (MIN_TRAINING_ROWS; left out: {logged.skipped})"
        )
    for head in logged.observed_heads:
        if logged.positives(head) < min_positives:
            raise TooFewRows(
                f"the log's {logged.rows} impressions hold {logged.positives(head)} "
                f"{head}s, fewer than the {min_positives} to learn that head from "
                "(MIN_POSITIVES_PER_HEAD)"
            )
