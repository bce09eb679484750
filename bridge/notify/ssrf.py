"""Which addresses a webhook may reach: a pure check on resolved addresses.

A target is resolved once; every address it resolves to must be allowed,
and the connection goes to the address that was checked
(:mod:`bridge.notify.webhooks`), so a second lookup cannot swap it for
another (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (tests inject their own).
Resolver = Callable[[str, int], Sequence[str]]

METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnresolvedError(Exception):
    """The name gave no address just now: DNS may answer again, so the target is not refused."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (one TCP lookup)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why a webhook may not connect to ``address``; None when it may."""
    if address in METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            inner = refusal(address.ipv4_mapped, allow_private=allow_private)
            return None if allow_private and inner is None else "an IPv4-mapped IPv6 address"
        embeds = address.sixtofour is not None or address.teredo is not None or address in NAT64
        if embeds and not allow_private:
            return "an IPv6 address embedding an IPv4 one (6to4, Teredo or NAT64)"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address in CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)"
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"):
        return "an IPv6 unique-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def _shown(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def checked_address(
    host: str, port: int, *, resolver: Resolver, allow_private: bool
) -> tuple[IPAddress | None, str | None]:
    """``(address, None)`` to connect to, or ``(None, why not)``; ``UnresolvedError`` when
    the name does not resolve now (a lookup failure passes, a refusal does not).

    Every address the host resolves to is checked: one forbidden answer
    refuses the target, so a name cannot hide a private address behind a
    public one.
    """
    try:
        answers = resolver(host, port)
    except UnicodeError as error:  # no lookup can ever succeed for this name
        return None, f"cannot be looked up ({type(error).__name__})"
    except OSError as error:
        raise UnresolvedError(f"does not resolve ({type(error).__name__})") from None
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            addresses.append(ipaddress.ip_address(answer.split("%", 1)[0]))
        except ValueError:
            return None, "resolves to something that is not an IP address"
    if not addresses:
        raise UnresolvedError("does not resolve")
    for address in addresses:
        why = refusal(address, allow_private=allow_private)
        if why is not None:
            return None, f"resolves to {_shown(address)}, {why}"
    return addresses[0], None
