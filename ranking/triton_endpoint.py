"""Where Triton is, as PICTOGRAPH_TRITON_URL says: its scheme picks the protocol."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlparse

# A page's ranking step waits at most this for Triton before the in-process model serves
# it: ~35x a CPU call's median (2.8 ms), so only a stalled or overloaded server reaches it.
TRITON_TIMEOUT_SECONDS = 0.1

# `pictograph triton`'s ports: Triton's own defaults (8000-8002) shifted by 100, as 8000 is
# `pictograph serve`'s port, and the two run side by side on one machine.
LOCAL_HTTP_PORT = 8100
LOCAL_GRPC_PORT = 8101
LOCAL_METRICS_PORT = 8102


class TritonProtocol(StrEnum):
    HTTP = "http"
    GRPC = "grpc"


@dataclass(frozen=True, slots=True)
class TritonEndpoint:
    protocol: TritonProtocol
    address: str  # host:port, as tritonclient takes it

    @classmethod
    def parse(cls, url: str) -> TritonEndpoint:
        parsed = urlparse(url)
        if parsed.scheme not in {protocol.value for protocol in TritonProtocol}:
            raise ValueError(f"a Triton URL is grpc://host:port or http://host:port, not {url!r}")
        if not parsed.hostname or parsed.port is None or parsed.path not in {"", "/"}:
            raise ValueError(f"a Triton URL names a host and a port and nothing else: {url!r}")
        return cls(TritonProtocol(parsed.scheme), parsed.netloc)

    @property
    def url(self) -> str:
        return f"{self.protocol.value}://{self.address}"
