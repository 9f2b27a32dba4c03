"""What every job receives: the background twin of `resolvers.context.Services`."""

from __future__ import annotations

from dataclasses import dataclass

from media.decode_slots import DecodeSlots
from storage.ids import IdGenerator
from storage.objects import ObjectStorage
from storage.stores import Stores
from subscriptions.bus import EventBus


@dataclass(frozen=True, slots=True)
class JobServices:
    """Built once per process, from the same backends as the server's services."""

    stores: Stores
    # Authors with more followers are not fanned out; readers merge their posts instead.
    fanout_max_followers: int
    ids: IdGenerator  # the process's generator: the server's own when the worker runs in it
    bus: EventBus  # publish only after the write an event announces is durable
    objects: ObjectStorage  # the video job reads uploads and stores renditions
    # The process's bound on concurrent video transcodes (media.decode_slots).
    transcode_slots: DecodeSlots
