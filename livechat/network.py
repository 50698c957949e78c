"""Which addresses count as one client, and which as one network.

Pure functions over the textual address a server reports. Limits "per address" key on
`address_key`: the IPv4 address itself, but an IPv6 /64 as a whole, because a single
household or phone is handed a whole /64 and can pick a fresh address in it at will.
Limits "per network block" key on `network_block`: the IPv4 /24 or the IPv6 /64 — roughly
"one provider's neighbourhood", what a throw-away-cookie attacker cannot easily leave.
An address that does not parse (a test client's "testclient", a unix socket) is its own key.
"""

from __future__ import annotations

import ipaddress


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_key(address: str) -> str:
    """One client: the IPv4 address, or the IPv6 /64 it lies in."""
    ip = _parse(address)
    if ip is None:
        return address
    if ip.version == 4:
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def network_block(address: str) -> str:
    """One network block: the IPv4 /24 or the IPv6 /64 the address lies in."""
    ip = _parse(address)
    if ip is None:
        return address
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
