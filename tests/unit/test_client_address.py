"""The client address rate limits count: the peer, or X-Forwarded-For's right-most untrusted
hop when (and only when) the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from app.client_address import UNKNOWN, client_address
from app.settings import Settings

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.1/32")]


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_address("198.51.100.7", ["203.0.113.1"], []) == "198.51.100.7"


def test_an_untrusted_peers_forwarded_for_is_ignored() -> None:
    assert client_address("198.51.100.7", ["203.0.113.1"], PROXIES) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_client() -> None:
    assert client_address("10.1.2.3", ["203.0.113.1"], PROXIES) == "203.0.113.1"


def test_the_right_most_untrusted_hop_wins_over_what_the_client_wrote_before_it() -> None:
    # Given a client that forged a hop, behind two trusted proxies
    forwarded = ["6.6.6.6, 203.0.113.1", "192.0.2.1"]

    # Then the client is the hop the outer proxy saw, not the forged one
    assert client_address("10.1.2.3", forwarded, PROXIES) == "203.0.113.1"


def test_a_hop_that_is_not_an_address_stops_at_the_last_trusted_one() -> None:
    assert client_address("10.1.2.3", ["bogus, 192.0.2.1"], PROXIES) == "192.0.2.1"


def test_an_ipv6_client_is_counted_by_its_64_bit_prefix() -> None:
    assert client_address("2001:db8:1:2:3:4:5:6", [], []) == "2001:db8:1:2::/64"


def test_an_ipv4_mapped_ipv6_peer_is_its_ipv4_address() -> None:
    assert client_address("::ffff:198.51.100.7", [], []) == "198.51.100.7"


def test_a_peer_that_is_no_address_is_unknown() -> None:
    assert client_address(None, ["203.0.113.1"], PROXIES) == UNKNOWN


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(ValidationError, match="not an address or CIDR network"):
        Settings.model_validate({"trusted_proxies": ["proxy.internal"]})
