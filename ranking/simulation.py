"""A simulated network whose users have hidden interests, so interactions carry signal.

Each user has hidden tastes: a mix of topics (a post's topic is its hashtag), a few
favourite authors, an activity level and an hour of the day they are usually online. The
simulator knows the true probability of every interaction (like, comment, share, long view)
from those tastes, so an evaluation can rank by the truth (the oracle), and a model can
only learn the tastes from what the app observes: the counters of `storage/affinity.py`
(kept here with the same forward decay), the posts' counts and the follow graph.

It is deterministic by seed (numpy's PCG64). `pictograph seed` builds its demo world from
the same `World` (follow graph, topics, who likes what); `pictograph train-ranker` and
`pictograph eval-ranker` run `simulate` directly, without a server: training on the logged
impressions of most users' first days, evaluating on held-out users' later days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ranking.features import feature_columns
from ranking.model import HEADS
from storage.affinity import HALF_LIFE_HOURS

TOPICS = (
    "sunset",
    "travel",
    "art",
    "food",
    "fitness",
    "pets",
    "music",
    "architecture",
)
WINDOW = 60  # candidates per session: a page window of the feed, as RANK_WINDOW bounds it
SHOWN = 15  # how many of them a session scrolls past (its impressions)
CANDIDATE_HOURS = 72.0  # how old a post may be to be a candidate
EXPLORE_SHARE = 0.2  # of a window: recent popular posts of accounts the viewer does not follow
FAVOURITES = 3  # hidden favourite authors per user, among those they follow
MESSAGE_RATE = 0.15  # per favourite author per day: a DM to them

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    users: int = 800
    days: int = 14
    seed: int = 2026
    creators_share: float = 0.2  # the most followed accounts post daily; the rest rarely


@dataclass(slots=True)
class World:
    """The hidden truth: users' tastes, the follow graph and the posts to come."""

    config: SimulationConfig
    topic_taste: FloatArray  # [users, topics], each row sums to 1
    activity: FloatArray  # [users]: sessions and engagement scale
    online_hour: FloatArray  # [users]: the hour of the day they are most often online
    follows: npt.NDArray[np.bool_]  # [users, users]: follower, followee
    favourites: npt.NDArray[np.bool_]  # [users, users]
    post_author: IntArray  # [posts], posts ordered by creation
    post_topic: IntArray
    post_second_topic: IntArray  # -1: a single hashtag
    post_is_video: FloatArray
    post_media: FloatArray
    post_quality: FloatArray  # hidden: how good the post is for everyone
    post_hour: FloatArray  # created, in hours since the simulation's start

    @property
    def user_count(self) -> int:
        return self.config.users

    def hashtags(self, post: int) -> tuple[str, ...]:
        second = int(self.post_second_topic[post])
        first = TOPICS[int(self.post_topic[post])]
        return (first,) if second < 0 else (first, TOPICS[second])


def make_world(config: SimulationConfig) -> World:
    rng = np.random.default_rng(config.seed)
    users, topics = config.users, len(TOPICS)
    taste = rng.dirichlet(np.full(topics, 0.3), size=users)
    activity = rng.lognormal(0.0, 0.6, size=users)
    online_hour = rng.uniform(0, 24, size=users)
    # Popularity falls off by rank (Zipf); people follow popular accounts and like-minded ones.
    popularity = 1.0 / (np.arange(users) + 1.0) ** 0.8
    similarity = taste @ taste.T
    follows = np.zeros((users, users), dtype=bool)
    for user in range(users):
        count = min(users - 1, int(rng.exponential(30)) + 5)
        weights = popularity * (0.2 + similarity[user])
        weights[user] = 0.0
        chosen = rng.choice(users, size=count, replace=False, p=weights / weights.sum())
        follows[user, chosen] = True
    favourites = np.zeros((users, users), dtype=bool)
    for user in range(users):
        followed = np.flatnonzero(follows[user])
        picked = rng.choice(followed, size=min(FAVOURITES, len(followed)), replace=False)
        favourites[user, picked] = True
    creators = int(users * config.creators_share)
    rate = np.where(np.arange(users) < creators, 1.0, 0.1)
    per_author = rng.poisson(rate * config.days)
    author = np.repeat(np.arange(users), per_author)
    count = len(author)
    hour = rng.uniform(0, config.days * 24.0, size=count)
    order = np.argsort(hour, kind="stable")
    author, hour = author[order], hour[order]
    topic = np.array([rng.choice(topics, p=taste[a]) for a in author], dtype=np.int64)
    second = np.where(rng.random(count) < 0.3, rng.integers(0, topics, size=count), -1)
    second = np.where(second == topic, -1, second)
    return World(
        config=config,
        topic_taste=taste,
        activity=activity,
        online_hour=online_hour,
        follows=follows,
        favourites=favourites,
        post_author=author.astype(np.int64),
        post_topic=topic,
        post_second_topic=second.astype(np.int64),
        post_is_video=(rng.random(count) < 0.3).astype(np.float64),
        post_media=(1 + rng.geometric(0.6, size=count).clip(max=10) - 1).astype(np.float64),
        post_quality=rng.normal(0.0, 1.0, size=count),
        post_hour=hour,
    )


def true_probabilities(
    world: World, viewer: int, posts: IntArray, now_hour: float | FloatArray
) -> npt.NDArray[np.float64]:
    """[len(posts), len(HEADS)]: the hidden probability of each head for the viewer, at
    `now_hour` (one moment, or one per post)."""
    taste = world.topic_taste[viewer]
    interest = taste[world.post_topic[posts]] * len(TOPICS)  # 1 = an average topic's share
    second = world.post_second_topic[posts]
    interest = interest + np.where(second >= 0, taste[np.maximum(second, 0)] * len(TOPICS), 0) / 2
    interest = np.log1p(interest)
    authors = world.post_author[posts]
    favourite = world.favourites[viewer, authors].astype(np.float64)
    follows = world.follows[viewer, authors].astype(np.float64)
    quality = world.post_quality[posts]
    age = np.maximum(now_hour - world.post_hour[posts], 0.0)
    video = world.post_is_video[posts]
    hour_gap = np.abs((now_hour % 24) - world.online_hour[viewer])
    on_time = np.cos(np.minimum(hour_gap, 24 - hour_gap) / 24 * 2 * np.pi)  # 1 at their hour
    base = -3.6 + 0.4 * np.log(world.activity[viewer]) + 0.2 * on_time
    logits = np.column_stack(
        [
            base + 1.8 * interest + 1.4 * favourite + 0.5 * quality + 0.4 * follows - 0.02 * age,
            base - 1.6 + 1.0 * interest + 2.4 * favourite + 0.3 * quality + 0.6 * follows,
            base - 1.4 + 1.6 * interest + 0.4 * favourite + 0.9 * quality - 0.01 * age,
            base + 0.8 + 1.4 * interest + 0.6 * favourite + 0.4 * quality + 1.2 * video,
        ]
    )
    assert logits.shape[1] == len(HEADS)
    probabilities: FloatArray = 1.0 / (1.0 + np.exp(-logits))
    return probabilities


@dataclass(slots=True)
class Session:
    """One visit: the window the viewer's feed held, what they saw and what they did."""

    viewer: int
    day: int
    hour: float
    posts: IntArray  # [window]
    features: npt.NDArray[np.float32]  # [window, features]
    truth: FloatArray  # [window, heads]: the hidden probabilities
    shown: IntArray  # window indices the viewer scrolled past, in the order shown
    labels: npt.NDArray[np.float32]  # [len(shown), heads]: what they did
    # Counterfactual: what they would have done with every candidate (evaluation only).
    full_labels: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, 0), np.float32)
    )


@dataclass(slots=True)
class _Counters:
    """What the app observes, as storage/affinity.py keeps it (forward-decayed)."""

    likes: FloatArray
    comments: FloatArray
    profile_opens: FloatArray
    messages: FloatArray
    tags: FloatArray  # [users, topics]
    activity: FloatArray
    received: FloatArray  # [users]: engagement an author received
    post_likes: FloatArray
    post_comments: FloatArray
    posted: FloatArray  # [users]: how many posts each has made so far


def _weight(hour: float) -> float:
    return float(2.0 ** (hour / HALF_LIFE_HOURS))


def simulate(world: World) -> Iterator[Session]:
    """Every session of the simulated days, in time order (deterministic by the seed)."""
    config = world.config
    rng = np.random.default_rng(config.seed + 1)
    users, topics = config.users, len(TOPICS)
    posts = len(world.post_author)
    counters = _Counters(
        likes=np.zeros((users, users)),
        comments=np.zeros((users, users)),
        profile_opens=np.zeros((users, users)),
        messages=np.zeros((users, users)),
        tags=np.zeros((users, topics)),
        activity=np.zeros(users),
        received=np.zeros(users),
        post_likes=np.zeros(posts),
        post_comments=np.zeros(posts),
        posted=np.zeros(users),
    )
    followers = world.follows.sum(axis=0).astype(np.float64)
    next_post = 0
    for day in range(config.days):
        sessions: list[tuple[float, int]] = []
        for user in range(users):
            for _ in range(rng.poisson(1.5 * world.activity[user])):
                hour = (world.online_hour[user] + rng.normal(0, 3)) % 24
                sessions.append((day * 24 + hour, user))
        sessions.sort()
        _send_messages(world, counters, rng, day)
        for now, viewer in sessions:
            while next_post < posts and world.post_hour[next_post] <= now:
                counters.posted[world.post_author[next_post]] += 1
                next_post += 1
            window = _window(world, counters, viewer, now, next_post)
            if len(window) == 0:
                continue
            yield _session(world, counters, followers, rng, viewer, day, now, window)


def _send_messages(world: World, counters: _Counters, rng: np.random.Generator, day: int) -> None:
    senders, authors = np.nonzero(world.favourites & (rng.random(world.favourites.shape) < 0.5))
    sent = rng.random(len(senders)) < MESSAGE_RATE * 2
    weight = _weight(day * 24.0)
    np.add.at(counters.messages, (senders[sent], authors[sent]), weight)
    np.add.at(counters.activity, senders[sent], weight)


def _window(world: World, counters: _Counters, viewer: int, now: float, upto: int) -> IntArray:
    """The feed's candidates: the newest posts of followed accounts (and the viewer's own),
    and some recent popular posts of others, as resolvers/feed.py's windows hold."""
    start = int(np.searchsorted(world.post_hour[:upto], now - CANDIDATE_HOURS))
    recent = np.arange(start, upto)
    authors = world.post_author[recent]
    followed = world.follows[viewer, authors] | (authors == viewer)
    in_network = recent[followed][::-1][: int(WINDOW * (1 - EXPLORE_SHARE))]
    others = recent[~followed]
    popular = others[np.argsort(-counters.post_likes[others], kind="stable")]
    explore = popular[: WINDOW - len(in_network)]
    window: IntArray = np.concatenate([in_network, explore]).astype(np.int64)
    return window


def _session(
    world: World,
    counters: _Counters,
    followers: FloatArray,
    rng: np.random.Generator,
    viewer: int,
    day: int,
    now: float,
    window: IntArray,
) -> Session:
    scale = 1.0 / _weight(now)
    authors = world.post_author[window]
    tag_counts = counters.tags[viewer]
    second = world.post_second_topic[window]
    hashtag_engagements = (
        tag_counts[world.post_topic[window]] + np.where(second >= 0, tag_counts[second], 0.0)
    ) * scale
    features = feature_columns(
        age_hours=np.maximum(now - world.post_hour[window], 0.0),
        like_count=counters.post_likes[window],
        comment_count=counters.post_comments[window],
        is_video=world.post_is_video[window],
        media_count=world.post_media[window],
        author_follower_count=followers[authors],
        author_post_count=counters.posted[authors],
        author_engagements=counters.received[authors] * scale,
        viewer_follows_author=world.follows[viewer, authors].astype(np.float64),
        is_own_post=(authors == viewer).astype(np.float64),
        likes_of_author=counters.likes[viewer, authors] * scale,
        comments_on_author=counters.comments[viewer, authors] * scale,
        profile_opens_of_author=counters.profile_opens[viewer, authors] * scale,
        messages_with_author=counters.messages[viewer, authors] * scale,
        hashtag_engagements=hashtag_engagements,
        viewer_activity=np.array([counters.activity[viewer] * scale]),
    )
    truth = true_probabilities(world, viewer, window, now)
    # The logging policy shows candidates in a random order: impressions unbiased by any
    # ranker, so the model learns the tastes, not a previous ranker's choices.
    shown = rng.permutation(len(window))[:SHOWN]
    labels = (rng.random((len(shown), len(HEADS))) < truth[shown]).astype(np.float32)
    full = (rng.random(truth.shape) < truth).astype(np.float32)
    full[shown] = labels
    _apply(world, counters, rng, viewer, now, window[shown], labels)
    return Session(viewer, day, now, window, features, truth, shown.astype(np.int64), labels, full)


def _apply(
    world: World,
    counters: _Counters,
    rng: np.random.Generator,
    viewer: int,
    now: float,
    posts: IntArray,
    labels: npt.NDArray[np.float32],
) -> None:
    """What the app records of the session's interactions."""
    weight = _weight(now)
    liked, commented, shared = labels[:, 0] > 0, labels[:, 1] > 0, labels[:, 2] > 0
    authors = world.post_author[posts]
    counters.post_likes[posts[liked]] += 1
    counters.post_comments[posts[commented]] += 1
    # A profile open from a post: more likely for a favourite author (not a model head).
    opened = rng.random(len(posts)) < 0.02 + 0.15 * world.favourites[viewer, authors]
    engaged = liked | commented | shared
    others = authors != viewer
    np.add.at(counters.likes[viewer], authors[liked & others], weight)
    np.add.at(counters.comments[viewer], authors[commented & others], weight)
    np.add.at(counters.profile_opens[viewer], authors[opened & others], weight)
    events = (liked.astype(int) + commented + shared + opened) * others
    counters.activity[viewer] += weight * float(events.sum())
    # As AffinityStore.record counts them: each like, comment and share once.
    kinds = liked.astype(np.float64) + commented + shared
    for index in np.flatnonzero(engaged & others):
        post, amount = int(posts[index]), weight * float(kinds[index])
        counters.tags[viewer, world.post_topic[post]] += amount
        if world.post_second_topic[post] >= 0:
            counters.tags[viewer, world.post_second_topic[post]] += amount
        counters.received[world.post_author[post]] += amount
