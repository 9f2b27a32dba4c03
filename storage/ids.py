"""Time-ordered 64-bit ids, the layout Instagram published for its sharded ids.

41 bits of milliseconds since our epoch (enough for 69 years), 13 bits of worker id (8,192
processes) and 10 bits of sequence (1,024 ids per millisecond per process). Sorting by id
sorts by creation time, so ids double as keyset cursors and feed scores.

What grants access or must not be enumerated (uploads) takes a random id instead: one id
of those tells nothing of the next, nor of when it was made.
"""

import secrets
import threading
import time
from datetime import UTC, datetime

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the ids' own epoch keeps them small
WORKER_BITS = 13
SEQUENCE_BITS = 10
MAX_WORKER_ID = (1 << WORKER_BITS) - 1
SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
MAX_RANDOM_ID = (1 << 63) - 1  # MongoDB's integers are signed 64-bit: 63 random bits


class IdGenerator:
    def __init__(self, worker_id: int) -> None:
        if not 0 <= worker_id <= MAX_WORKER_ID:
            raise ValueError(f"worker_id must be between 0 and {MAX_WORKER_ID}")
        self._worker_id = worker_id
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now_ms = max(int(time.time() * 1000) - EPOCH_MS, self._last_ms)
            if now_ms == self._last_ms:
                self._sequence = (self._sequence + 1) & SEQUENCE_MASK
                if self._sequence == 0:  # this millisecond is used up: borrow the next one
                    now_ms += 1
            else:
                self._sequence = 0
            self._last_ms = now_ms
            return (
                (now_ms << (WORKER_BITS + SEQUENCE_BITS))
                | (self._worker_id << SEQUENCE_BITS)
                | self._sequence
            )


def id_to_datetime(record_id: int) -> datetime:
    milliseconds = (record_id >> (WORKER_BITS + SEQUENCE_BITS)) + EPOCH_MS
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def id_for_time(moment: datetime) -> int:
    """The smallest id made at `moment`: a keyset bound for "newer than"."""
    milliseconds = int(moment.timestamp() * 1000) - EPOCH_MS
    return max(milliseconds, 0) << (WORKER_BITS + SEQUENCE_BITS)


def random_id() -> int:
    """A uniformly random id in 1..MAX_RANDOM_ID, from the operating system's CSPRNG: it
    fits wherever a time-ordered id does (MongoDB, Relay global ids), but orders nothing."""
    return secrets.randbelow(MAX_RANDOM_ID) + 1
