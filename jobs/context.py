"""What every job receives: the background twin of `resolvers.context.Services`."""

from __future__ import annotations

from dataclasses import dataclass

from storage.stores import Stores


@dataclass(frozen=True, slots=True)
class JobServices:
    """Built once per process, from the same backends as the server's services."""

    stores: Stores
    # Authors with more followers are not fanned out; readers merge their posts instead.
    fanout_max_followers: int
