"""`@username` mentions, as captions and comments write them: parsed where they are stored
(a post's mention ids) and where they are told (notifications of comment mentions)."""

from __future__ import annotations

import re

MAX_MENTIONS = 20  # as Instagram
MENTION_PATTERN = re.compile(r"(?<![\w@])@([A-Za-z0-9._]{1,30})")


def parse_mentions(text: str) -> tuple[str, ...]:
    """The usernames `text` mentions, lowercased, first mention first, at most MAX_MENTIONS."""
    names = dict.fromkeys(name.rstrip(".").lower() for name in MENTION_PATTERN.findall(text))
    return tuple(names)[:MAX_MENTIONS]
