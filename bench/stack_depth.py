"""How much the depth beneath a request changes its cost on this CPython: the read-path
page (feed, 100 posts), ways a and c, measured in passes beneath 0 to 110 extra frames.

Run: `.venv/bin/python -m bench.stack_depth` (see bench.read_path for why it matters).
"""

from __future__ import annotations

import asyncio
import functools

from bench.read_path import Source, beneath_frames, one_pass
from tests.servers import redis_server

OFFSETS = range(0, 120, 10)
POSTS = 100
REQUESTS = 30  # per way and pass


def main() -> None:
    print("frames  a p50 ms  c p50 ms  a / c")
    with redis_server() as redis_url:
        for frames in OFFSETS:
            run_pass = functools.partial(
                asyncio.run, one_pass(redis_url, Source.FEED, [POSTS], REQUESTS, 0)
            )
            by_way = {m.name[0]: m.p50_ms for m in beneath_frames(frames, run_pass)}
            a, c = by_way["a"], by_way["c"]
            print(f"{frames:6}  {a:8.2f}  {c:8.2f}  {c / a:5.2f}")


if __name__ == "__main__":
    main()
