"""The simulator: deterministic by its seed, and its interactions carry signal."""

from __future__ import annotations

import itertools

import numpy as np

from ranking.simulation import SimulationConfig, make_world, simulate, true_probabilities

SMALL = SimulationConfig(users=60, days=4, seed=7)


def first_sessions(config: SimulationConfig, count: int = 40) -> list[tuple[object, ...]]:
    sessions = itertools.islice(simulate(make_world(config)), count)
    return [
        (s.viewer, s.hour, s.posts.tobytes(), s.features.tobytes(), s.labels.tobytes())
        for s in sessions
    ]


def test_the_same_seed_simulates_the_same_sessions() -> None:
    assert first_sessions(SMALL) == first_sessions(SMALL)


def test_another_seed_simulates_other_sessions() -> None:
    other = SimulationConfig(users=60, days=4, seed=8)

    assert first_sessions(SMALL) != first_sessions(other)


def test_a_favourite_author_is_likelier_to_be_liked_than_another() -> None:
    world = make_world(SMALL)
    viewer = 0
    favourite = int(np.flatnonzero(world.favourites[viewer])[0])
    theirs = np.flatnonzero(world.post_author == favourite)
    others = np.flatnonzero(~world.favourites[viewer, world.post_author])

    p_theirs = true_probabilities(world, viewer, theirs, 48.0)[:, 0].mean()
    p_others = true_probabilities(world, viewer, others, 48.0)[:, 0].mean()

    assert p_theirs > p_others
