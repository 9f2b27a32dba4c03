"""Affinity counters in Redis: what each viewer recently did with each author and hashtag,
and how much engagement each author recently received, kept up to date on write.

Counters decay with a half-life, by forward decay (Cormode, Shkapenyuk, Srivastava and Xu,
"Forward Decay", ICDE 2009): an event at time t adds 2^((t - epoch) / half-life) and a read
at time now divides by 2^((now - epoch) / half-life). So every update is one atomic
HINCRBYFLOAT, with no read-modify-write, and the value read is the exponentially decayed sum.

A window's inputs (the viewer's hash and one hash per author) are read in one pipeline: one
round trip whatever the window's size. This module owns the key schema (`affinity_key`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from storage.redis import Redis

HALF_LIFE_HOURS = 7 * 24.0  # a week: last month's habits fade, this week's count
# Forward decay's landmark. Weights grow 2^52 a year; a double holds 2^1023, so the
# landmark must move (and the counters be rebased) within ~19 years of it.
DECAY_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# A viewer's hash holds a field per author and tag they engaged with; a quiet viewer's
# expires, which bounds what Redis keeps to the recently active (their counters would have
# decayed to ~0 by then anyway: 13 half-lives).
AFFINITY_TTL_SECONDS = 91 * 24 * 3600


class AffinityKind(StrEnum):
    """What a viewer did that counts towards affinity with an author."""

    LIKE = "like"
    COMMENT = "comment"
    PROFILE_OPEN = "profile"
    MESSAGE = "message"
    SHARE = "share"


AUTHOR_KINDS = (
    AffinityKind.LIKE,
    AffinityKind.COMMENT,
    AffinityKind.PROFILE_OPEN,
    AffinityKind.MESSAGE,
)
# A like or comment is engagement the author receives, and with the post's hashtags.
ENGAGING_KINDS = frozenset({AffinityKind.LIKE, AffinityKind.COMMENT, AffinityKind.SHARE})
ACTIVITY_FIELD = "activity"
ENGAGEMENTS_FIELD = "engagements"


def hours_since_epoch(at: datetime) -> float:
    return (at - DECAY_EPOCH).total_seconds() / 3600


def decay_weight(hours: float) -> float:
    """What an event `hours` after the landmark adds (and what a read then divides by)."""
    return float(2.0 ** (hours / HALF_LIFE_HOURS))


def affinity_key(user_id: int, *, author: bool = False) -> str:
    """The hash of a viewer's counters, or (author=True) of what an author received."""
    return f"affinity:{'author' if author else 'viewer'}:{user_id}"


def author_field(kind: AffinityKind, author_id: int) -> str:
    return f"{kind.value}:{author_id}"


def tag_field(hashtag: str) -> str:
    return f"tag:{hashtag}"


@dataclass(frozen=True, slots=True)
class AffinityEvent:
    viewer_id: int
    author_id: int
    kind: AffinityKind
    hashtags: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class AffinityWindow:
    """A viewer's decayed counters for a window's authors and hashtags."""

    activity: float
    by_author: dict[tuple[AffinityKind, int], float]
    by_tag: dict[str, float]
    author_engagements: dict[int, float]

    def author(self, kind: AffinityKind, author_id: int) -> float:
        return self.by_author.get((kind, author_id), 0.0)

    def hashtags(self, tags: Iterable[str]) -> float:
        return sum(self.by_tag.get(tag, 0.0) for tag in set(tags))


class AffinityStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def record(self, events: Sequence[AffinityEvent]) -> None:
        """Add a batch of events to the counters: one pipeline, one round trip."""
        if not events:
            return
        touched: set[str] = set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                if event.viewer_id == event.author_id:
                    continue  # engaging with oneself says nothing about one's tastes
                amount = decay_weight(hours_since_epoch(event.at))
                viewer_key = affinity_key(event.viewer_id)
                touched.add(viewer_key)
                pipe.hincrbyfloat(viewer_key, ACTIVITY_FIELD, amount)
                if event.kind in AUTHOR_KINDS:
                    pipe.hincrbyfloat(viewer_key, author_field(event.kind, event.author_id), amount)
                if event.kind in ENGAGING_KINDS:
                    for tag in set(event.hashtags):
                        pipe.hincrbyfloat(viewer_key, tag_field(tag), amount)
                    author_key = affinity_key(event.author_id, author=True)
                    touched.add(author_key)
                    pipe.hincrbyfloat(author_key, ENGAGEMENTS_FIELD, amount)
            for key in touched:
                pipe.expire(key, AFFINITY_TTL_SECONDS)
            await pipe.execute()

    async def window(
        self, viewer_id: int, author_ids: Sequence[int], hashtags: Iterable[str], now: datetime
    ) -> AffinityWindow:
        """The viewer's counters for these authors and tags, decayed to `now`: one round
        trip (a pipeline of one HMGET for the viewer and one HGET per author)."""
        authors = list(dict.fromkeys(author_ids))
        tags = sorted(set(hashtags))
        author_fields = [(kind, author) for author in authors for kind in AUTHOR_KINDS]
        fields = [
            ACTIVITY_FIELD,
            *(author_field(kind, author) for kind, author in author_fields),
            *(tag_field(tag) for tag in tags),
        ]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(affinity_key(viewer_id), fields)
            for author in authors:
                pipe.hget(affinity_key(author, author=True), ENGAGEMENTS_FIELD)
            replies = await pipe.execute()
        scale = 1.0 / decay_weight(hours_since_epoch(now))
        values = [0.0 if value is None else float(value) * scale for value in replies[0]]
        received = [0.0 if value is None else float(value) * scale for value in replies[1:]]
        return AffinityWindow(
            activity=values[0],
            by_author=dict(zip(author_fields, values[1 : 1 + len(author_fields)], strict=True)),
            by_tag=dict(zip(tags, values[1 + len(author_fields) :], strict=True)),
            author_engagements=dict(zip(authors, received, strict=True)),
        )

    async def interactions_with(
        self, viewer_id: int, author_ids: Sequence[int], now: datetime
    ) -> dict[int, float]:
        """The viewer's decayed interactions of every kind with each author (likes,
        comments, profile opens, messages, summed), as at `now`: one HMGET, one round
        trip whatever the number of authors. Authors without any are left out."""
        authors = list(dict.fromkeys(author_ids))
        if not authors:
            return {}
        fields = [author_field(kind, author) for author in authors for kind in AUTHOR_KINDS]
        values = await self._redis.hmget(affinity_key(viewer_id), fields)
        scale = 1.0 / decay_weight(hours_since_epoch(now))
        totals: dict[int, float] = {}
        for (author, _), value in zip(
            ((author, kind) for author in authors for kind in AUTHOR_KINDS), values, strict=True
        ):
            if value is not None:
                totals[author] = totals.get(author, 0.0) + float(value) * scale
        return totals
