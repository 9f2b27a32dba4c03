"""Who sent a request, as rate limits count it: the connection's peer, or, when that peer
is a trusted reverse proxy, the right-most address in `X-Forwarded-For` that is not one.

Each proxy appends the address it received the request from, so everything left of the
last trusted hop may be forged by the client; the right-most untrusted hop is the first
one a trusted proxy saw. Without trusted proxies the header is ignored, so a client cannot
pick a fresh address per request to escape its limits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# An IPv6 subscriber is given a whole /64 (RFC 6177), so counting single addresses would
# give an attacker 2^64 fresh ones: an IPv6 client is its /64.
IPV6_CLIENT_PREFIX = 64
UNKNOWN = "unknown"  # no peer (a Unix socket) or one that is not an address


def _parse(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _subject(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted_proxies: Sequence[IPNetwork]
) -> str:
    """The client as a string fit for a rate-limit key. `forwarded_for`: every
    X-Forwarded-For header of the request, in order."""
    address = None if peer is None else _parse(peer)
    if address is None:
        return UNKNOWN

    def trusted(candidate: IPAddress) -> bool:
        return any(candidate in network for network in trusted_proxies)

    if not trusted(address):
        return _subject(address)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        hop_address = _parse(hop)
        if hop_address is None:
            # Trusted proxies write addresses; anything else was written by the client. Keep
            # the last hop a trusted proxy vouched for rather than a string of its choosing.
            break
        address = hop_address
        if not trusted(address):
            break
    return _subject(address)
