"""Splitting simulated logs into what the model learns from and what evaluates it.

Training sees the impressions (what was shown, and what the viewer did) of most users on
the first days; evaluation holds out both other users and the later days, so a model that
memorised users or days gains nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ranking.simulation import Session, SimulationConfig, make_world, simulate

HELD_OUT_EVERY = 5  # every fifth user is held out of training: 20%
TRAIN_DAYS_SHARE = 0.7  # the first 70% of days train; the rest evaluate


@dataclass(frozen=True, slots=True)
class Split:
    train_features: npt.NDArray[np.float32]  # impressions of training users, early days
    train_labels: npt.NDArray[np.float32]
    evaluation: list[Session]  # held-out users' sessions on the later days

    @property
    def train_rows(self) -> int:
        return len(self.train_features)


def is_held_out(user: int) -> bool:
    return user % HELD_OUT_EVERY == 0


def split_sessions(sessions: Iterable[Session], days: int) -> Split:
    first_eval_day = int(days * TRAIN_DAYS_SHARE)
    features: list[npt.NDArray[np.float32]] = []
    labels: list[npt.NDArray[np.float32]] = []
    evaluation: list[Session] = []
    for session in sessions:
        held_out = is_held_out(session.viewer)
        if session.day < first_eval_day and not held_out:
            features.append(session.features[session.shown])
            labels.append(session.labels)
        elif session.day >= first_eval_day and held_out:
            evaluation.append(session)
    return Split(
        train_features=np.concatenate(features).astype(np.float32),
        train_labels=np.concatenate(labels).astype(np.float32),
        evaluation=evaluation,
    )


def simulated_split(config: SimulationConfig) -> Split:
    return split_sessions(simulate(make_world(config)), config.days)
