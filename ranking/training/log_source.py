"""Reading the interaction log from MongoDB into a training set (`pictograph train-ranker
--source mongodb`): bounded in time and in documents, streamed in batches into the labeler
(ranking/training/labels.py), which holds only the compact impressions and engagement times.

The log is read oldest first. When the cap cuts it short, the log is complete only up to the
last document read, so the labels are final only an attribution window before that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ranking.training.labels import ATTRIBUTION_WINDOW, READ_KINDS, LoggedSet, LogLabeler
from storage.interaction import InteractionStore

LOG_DAYS = 14  # the default range: two weeks of habits, as the affinity counters' decay weighs
# Impressions, likes and comments read at most: ~300 bytes each in the labeler, ~300 MB.
MAX_LOG_DOCUMENTS = 1_000_000
READ_BATCH = 10_000  # documents per cursor batch: ~3 MB on the wire, well under 16 MB


@dataclass(frozen=True, slots=True)
class LogRead:
    logged: LoggedSet
    documents: int  # read from the log
    since: datetime
    labels_final_at: datetime  # `until`, or earlier when the cap cut the read short
    capped: bool


async def read_logged_set(
    store: InteractionStore,
    since: datetime,
    until: datetime,
    *,
    max_documents: int = MAX_LOG_DOCUMENTS,
    batch: int = READ_BATCH,
    window: timedelta = ATTRIBUTION_WINDOW,
) -> LogRead:
    """The training set of the log's ranked impressions from `since` to `until`."""
    labeler = LogLabeler(window)
    documents = 0
    last_at = since
    async for chunk in store.batches(READ_KINDS, since, until, limit=max_documents, batch=batch):
        labeler.add(chunk)
        documents += len(chunk)
        last_at = chunk[-1]["at"]
    capped = documents >= max_documents
    final_at = last_at if capped else until
    return LogRead(labeler.build(final_at), documents, since, final_at, capped)
