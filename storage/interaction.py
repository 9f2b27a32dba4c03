"""The interaction log: what the app showed to whom and what they did with it, the data the
ranking model learns from, in the `interactions` collection.

Writes never sit on a request's critical path: requests hand interactions to an
`InteractionLog`, a bounded in-process buffer that a background task flushes in batches
(one insert_many to MongoDB and one Redis pipeline for the affinity counters each). When the
buffer is full, new interactions are dropped and counted, never waited for: losing a few
training rows is better than slowing or failing a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pymongo import ASCENDING, IndexModel

from storage.affinity import AffinityEvent, AffinityKind, AffinityStore
from storage.mongo import Collection, Document

logger = logging.getLogger(__name__)

# A buffered ranked impression takes ~490 bytes of memory (its 68 bytes of logged features
# and their objects included; ~340 bytes as a BSON document), any other interaction ~280
# (measured with tracemalloc, 2026-12-01): 50,000 are at most ~25 MB per process, a minute
# of a busy process's traffic, enough to ride out a MongoDB failover without unbounded growth.
MAX_BUFFERED_INTERACTIONS = 50_000
FLUSH_BATCH = 1_000  # per insert_many: well under MongoDB's 100,000-operation batch limit
FLUSH_INTERVAL_SECONDS = 1.0  # how stale the log (and the affinity counters) may get


class InteractionKind(StrEnum):
    IMPRESSION = "impression"  # a post shown on a surface, at a position
    LIKE = "like"
    COMMENT = "comment"
    # A profile opened by a signed-in viewer. The API cannot tell whether it was opened
    # from a post (the query carries no such context), so no post id is recorded.
    PROFILE_OPEN = "profile_open"
    MESSAGE = "message"  # a direct message to the author (one per other participant)
    # A reel watched, for `watched_seconds` (capped at its duration): every watch, not only
    # the first, which is what the reels head learns "watched to the end" from.
    REEL_WATCH = "reel_watch"


AFFINITY_KINDS = {
    InteractionKind.LIKE: AffinityKind.LIKE,
    InteractionKind.COMMENT: AffinityKind.COMMENT,
    InteractionKind.PROFILE_OPEN: AffinityKind.PROFILE_OPEN,
    InteractionKind.MESSAGE: AffinityKind.MESSAGE,
}


@dataclass(frozen=True, slots=True)
class ImpressionScoring:
    """What a ranked impression's post was scored with, logged with it (feature logging, as
    production rankers do): training then learns from exactly what the model was served,
    never from features recomputed later in a changed world. A newest-first page was not
    scored, so its impressions carry none."""

    features: bytes  # the scored row, little-endian float32 (ranking/features.py)
    feature_schema: int  # ranking.features.FEATURE_SCHEMA_ID of that row
    model_version: str
    window_id: int  # the ranked window it was shown from: one ranking, one request

    def fields(self) -> Document:
        return {
            "features": self.features,
            "feature_schema": self.feature_schema,
            "model": self.model_version,
            "window": self.window_id,
        }


@dataclass(frozen=True, slots=True)
class Interaction:
    kind: InteractionKind
    viewer_id: int
    author_id: int  # the post's author, the profile's owner, the message's recipient
    at: datetime
    post_id: int | None = None
    surface: str | None = None  # impressions: storage.ranked_window.Surface's value
    position: int | None = None  # impressions: 0-based, in the list the surface served
    hashtags: tuple[str, ...] = ()
    watched_seconds: float | None = None  # reel watches
    duration_seconds: float | None = None  # reel watches: the reel's, to tell a full watch
    scoring: ImpressionScoring | None = None  # ranked impressions only

    def document(self) -> Document:
        document: Document = {
            "kind": self.kind.value,
            "viewer_id": self.viewer_id,
            "author_id": self.author_id,
            "at": self.at,
        }
        for name in ("post_id", "surface", "position", "watched_seconds", "duration_seconds"):
            value = getattr(self, name)
            if value is not None:
                document[name] = value
        if self.hashtags:
            document["hashtags"] = list(self.hashtags)
        if self.scoring is not None:
            document.update(self.scoring.fields())
        return document

    def affinity_event(self) -> AffinityEvent | None:
        kind = AFFINITY_KINDS.get(self.kind)
        if kind is None:
            return None
        return AffinityEvent(self.viewer_id, self.author_id, kind, self.hashtags, self.at)


class InteractionStore:
    def __init__(self, collection: Collection) -> None:
        self._interactions = collection

    async def create_indexes(self) -> None:
        # Training reads by time; a viewer's history by viewer and time.
        await self._interactions.create_indexes(
            [
                IndexModel([("at", ASCENDING)]),
                IndexModel([("viewer_id", ASCENDING), ("at", ASCENDING)]),
            ]
        )

    async def insert_many(self, interactions: Sequence[Interaction]) -> None:
        if interactions:
            await self._interactions.insert_many(
                [interaction.document() for interaction in interactions], ordered=False
            )

    async def batches(
        self,
        kinds: Iterable[InteractionKind],
        since: datetime,
        until: datetime,
        *,
        limit: int,
        batch: int,
    ) -> AsyncIterator[list[Document]]:
        """The log's interactions of these kinds at `since` or later and before `until`,
        oldest first, at most `limit`, `batch` documents at a time (what training reads:
        one cursor, fetched in batches of the same size)."""
        cursor = (
            self._interactions.find(
                {
                    "kind": {"$in": [kind.value for kind in kinds]},
                    "at": {"$gte": since, "$lt": until},
                },
                {"_id": False, "hashtags": False},
            )
            .sort("at", ASCENDING)
            .limit(limit)
            .batch_size(batch)
        )
        chunk: list[Document] = []
        async for document in cursor:
            chunk.append(document)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    async def since(self, at: datetime, *, limit: int) -> list[Document]:
        """The log from `at` on, oldest first, in one list (training streams `batches`)."""
        cursor = self._interactions.find({"at": {"$gte": at}}).sort("at", ASCENDING).limit(limit)
        return [document async for document in cursor]


class InteractionLog:
    """A bounded buffer of interactions, flushed in batches by a background task."""

    def __init__(
        self,
        store: InteractionStore,
        affinity: AffinityStore,
        *,
        capacity: int = MAX_BUFFERED_INTERACTIONS,
        batch: int = FLUSH_BATCH,
        interval_seconds: float = FLUSH_INTERVAL_SECONDS,
    ) -> None:
        self._store = store
        self._affinity = affinity
        self._capacity = capacity
        self._batch = batch
        self._interval = interval_seconds
        self._buffer: deque[Interaction] = deque()
        self._wake = asyncio.Event()
        self.dropped = 0  # interactions refused because the buffer was full
        self.failed = 0  # interactions lost because a flush failed
        self.written = 0

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def record(self, *interactions: Interaction) -> None:
        """Buffer interactions for the next flush; no I/O, never waits. What does not fit
        is dropped and counted."""
        for interaction in interactions:
            if len(self._buffer) >= self._capacity:
                self.dropped += 1
                continue
            self._buffer.append(interaction)
        if len(self._buffer) >= self._batch:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything buffered now, a batch at a time."""
        while self._buffer:
            batch = [self._buffer.popleft() for _ in range(min(self._batch, len(self._buffer)))]
            try:
                await self._store.insert_many(batch)
                events = [event for item in batch if (event := item.affinity_event())]
                await self._affinity.record(events)
            except Exception as error:
                # The log is best effort: a batch that cannot be written is counted, not
                # retried, so a MongoDB or Redis outage cannot grow the process's memory.
                self.failed += len(batch)
                logger.warning("dropped %d interactions, the write failed: %r", len(batch), error)
                return
            self.written += len(batch)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[InteractionLog]:
        """Flush in the background while the block runs; flush what is left at its end."""
        task = asyncio.create_task(self._run(), name="interaction-log")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self.flush()
