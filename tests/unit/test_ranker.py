from __future__ import annotations

from ranking.features import Candidate
from ranking.ranker import InProcessRanker, rank


def candidate(post_id: int, *, age_hours: float = 1.0, likes: int = 0) -> Candidate:
    return Candidate(post_id, age_hours, likes, 0, 1, viewer_follows_author=True)


async def test_a_newer_post_ranks_above_an_older_one_alike() -> None:
    assert await rank(InProcessRanker(), [candidate(1, age_hours=30), candidate(2)]) == [2, 1]


async def test_engagement_lifts_a_post_of_the_same_age() -> None:
    ranked = await rank(InProcessRanker(), [candidate(1), candidate(2, likes=500)])

    assert ranked == [2, 1]


async def test_ties_keep_the_newest_first() -> None:
    assert await rank(InProcessRanker(), [candidate(1), candidate(3), candidate(2)]) == [3, 2, 1]


async def test_one_call_scores_the_whole_window() -> None:
    scores = await InProcessRanker().score([candidate(n) for n in range(200)])

    assert len(scores) == 200
