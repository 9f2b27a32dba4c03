"""What each group of features earns: the engagement model retrained without it, evaluated
as `pictograph eval-ranker` does (NDCG@10 on held-out users' later days).

    PYTHONPATH=. python -m bench.ranking_ablation     (needs the `train` extra)

A group is left out by setting its columns to zero in training and evaluation alike, so
the network cannot use it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from ranking.features import column_index
from ranking.simulation import Session, SimulationConfig
from ranking.training.dataset import simulated_split
from ranking.training.evaluate import baseline_methods, evaluate, oracle_method
from ranking.training.train import EngagementNet, fit

GROUPS = {
    "none (all 17 features)": (),
    "the viewer's interactions with the author": (
        "log_viewer_likes_of_author",
        "log_viewer_comments_on_author",
        "log_viewer_profile_opens_of_author",
        "log_viewer_messages_with_author",
    ),
    "profile opens and messages only": (
        "log_viewer_profile_opens_of_author",
        "log_viewer_messages_with_author",
    ),
    "hashtag affinity": ("hashtag_affinity", "log_hashtag_engagements"),
    "the post's engagement so far": ("log_likes", "log_comments", "log_engagement_per_follower"),
    "the author's followers and engagement rate": (
        "log_author_followers",
        "author_engagement_rate",
    ),
    "media type and count": ("is_video", "media_count"),
    "the viewer's activity": ("log_viewer_activity",),
}


def main() -> None:
    config = SimulationConfig()
    split = simulated_split(config)
    chron = evaluate(split.evaluation, {"chron": baseline_methods()["reverse chronological"]})
    oracle = evaluate(split.evaluation, {"oracle": oracle_method()})
    chron_ndcg, oracle_ndcg = chron.results[0].ndcg, oracle.results[0].ndcg
    print(f"reverse chronological {chron_ndcg:.4f}, oracle {oracle_ndcg:.4f}\n")
    print("| left out | NDCG@10 | gap to the oracle closed |")
    print("|---|---|---|")
    for group, names in GROUPS.items():
        columns = [column_index(name) for name in names]
        train = split.train_features.copy()
        train[:, columns] = 0.0
        model, _ = fit(train, split.train_labels, config.seed)

        def score(
            session: Session, model: EngagementNet = model, columns: list[int] = columns
        ) -> npt.NDArray[np.float64]:
            features = session.features.copy()
            features[:, columns] = 0.0
            with torch.no_grad():
                result: npt.NDArray[np.float64] = (
                    model(torch.from_numpy(features)).numpy().astype(np.float64)
                )
            return result

        ndcg = evaluate(split.evaluation, {group: score}).results[0].ndcg
        closed = (ndcg - chron_ndcg) / (oracle_ndcg - chron_ndcg)
        print(f"| {group} | {ndcg:.4f} | {closed:.0%} |")


if __name__ == "__main__":
    main()
