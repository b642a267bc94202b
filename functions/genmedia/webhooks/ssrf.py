"""Which webhook URLs we are willing to call: the SSRF policy, applied at registration and
again before every delivery (DNS may have changed in between).

A URL passes when it is https, has no userinfo or fragment, names a DNS host (or a canonical
IP literal) that is not an internal name, uses port 443 or an unprivileged port (>= 1024; the
low ports are other protocols, and we will not be anyone's port scanner), and every address
the host resolves to is globally routable. ``allow_loopback_http`` (local stack and tests
only) additionally admits loopback addresses and localhost names, and http when every address
is loopback. The vetted addresses are returned so the caller connects to them and does not
resolve a second time.

``ipaddress.is_global`` alone is not enough (on 3.11 it calls multicast, 6to4/NAT64 wrapping a
private address, IPv4-compatible IPv6 and several special ranges global), so the ranges below
are checked explicitly and the IPv4 embedded in mapped/NAT64/6to4 addresses is checked too.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from genmedia.errors import FieldError, InvalidArgument

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048
_BLOCKED_NAMES = frozenset({"metadata", "metadata.google.internal"})
_BLOCKED_SUFFIXES = (".internal", ".local", ".home.arpa")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_V4_DENY = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip
_V6_DENY = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form
        "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2001:10::/28",
        "2001:20::/28", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    )
)  # fmt: skip
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeWebhookUrl(InvalidArgument):
    """A webhook URL we refuse to call. A 422 like any invalid field, with its own code so
    clients can tell it apart; ``reason`` is a short stable token for logs and tests, never
    shown with resolved addresses in it."""

    code, title = "WEBHOOK_URL_FORBIDDEN", "Webhook URL not allowed"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, errors=[FieldError("url", message)])
        self.reason = reason


class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """The IP addresses (strings) ``host`` resolves to; OSError if it does not."""
        ...


class SystemResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        # The trailing dot makes the name absolute, so the resolver's search domains (on GCP
        # "<zone>.c.<project>.internal" and "google.internal") are never appended.
        infos = socket.getaddrinfo(host + ".", port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-case, without brackets or trailing dot: the TLS name and Host header
    port: int
    path: str  # path and query, at least "/"
    addresses: tuple[str, ...]  # vetted; connect to these, not to a fresh lookup of host


def check_url(url: str, *, allow_loopback_http: bool, resolver: Resolver) -> Target:
    """The vetted :class:`Target` of ``url``, or :class:`UnsafeWebhookUrl` saying why not."""
    scheme, host, port, path, literal = _parse(url, allow_loopback_http)
    if literal is not None:
        addresses = [literal]
    else:
        _check_name(host, allow_loopback_http)
        addresses = _resolve(resolver, host, port)
    for address in addresses:
        _check_address(address, allow_loopback_http, resolved=literal is None)
    if scheme == "http" and not all(a.is_loopback for a in addresses):
        raise UnsafeWebhookUrl("scheme", "webhook URL must use https")
    return Target(scheme, host, port, path, tuple(str(a) for a in addresses))


def _parse(url: str, loopback: bool) -> tuple[str, str, int, str, IPAddress | None]:
    if len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable() or " " in url:
        raise UnsafeWebhookUrl("syntax", "webhook URL must be printable ASCII, without spaces")
    if "\\" in url or "#" in url:
        raise UnsafeWebhookUrl("syntax", "webhook URL must not contain '\\' or a fragment")
    try:
        parts = urlsplit(url)
    except ValueError:  # its own bracket checks
        raise UnsafeWebhookUrl("host", "webhook URL host is malformed") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (loopback and scheme == "http"):
        raise UnsafeWebhookUrl("scheme", "webhook URL must use https")
    if "@" in parts.netloc:
        raise UnsafeWebhookUrl("userinfo", "webhook URL must not contain credentials")
    host, port = _split_netloc(parts.netloc, default=443 if scheme == "https" else 80)
    if port != 443 and port < 1024 and not loopback:
        raise UnsafeWebhookUrl("port", "webhook URL port must be 443 or 1024-65535")
    literal = _ip_literal(host)
    if literal is None:
        host = host.removesuffix(".")  # one trailing dot is the absolute form of the same name
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, path, literal


def _split_netloc(netloc: str, *, default: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, bracket, rest = netloc[1:].partition("]")
        if not bracket or ":" not in host or (rest and not rest.startswith(":")):
            raise UnsafeWebhookUrl("host", "webhook URL host is malformed")
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_ = netloc.partition(":")
        port_text = port_text_ if colon else None
        if ":" in port_text_:
            raise UnsafeWebhookUrl("host", "webhook URL host is malformed")
    if port_text is None:
        return host.lower(), default
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 0 < int(port_text) < 65536:
        raise UnsafeWebhookUrl("port", "webhook URL port is not valid")
    return host.lower(), int(port_text)


def _ip_literal(host: str) -> IPAddress | None:
    """The address of a canonical IP literal host; None for a DNS name; refused for the
    spellings only some parsers read as an address (2130706433, 0x7f.1, 0177.0.0.1, zones)."""
    if ":" in host or "%" in host:
        try:
            v6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeWebhookUrl("host", "webhook URL host is malformed") from None
        if v6.scope_id is not None:
            raise UnsafeWebhookUrl("host", "webhook URL must not use an IPv6 zone")
        return v6
    try:
        return ipaddress.IPv4Address(host)  # strict: four decimal parts, no leading zeros
    except ValueError:
        pass
    last = host.removesuffix(".").rpartition(".")[2]
    if last.isdigit() or re.fullmatch(r"0x[0-9a-f]*", last) or _inet_aton_accepts(host):
        raise UnsafeWebhookUrl("host", "webhook URL host is not a valid name or IP address")
    return None


def _inet_aton_accepts(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _check_name(name: str, loopback: bool) -> None:
    labels = name.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeWebhookUrl("host", "webhook URL host is not a valid DNS name")
    is_localhost = name == "localhost" or name.endswith(".localhost")
    if is_localhost and loopback:
        return
    if is_localhost or name in _BLOCKED_NAMES or name.endswith(_BLOCKED_SUFFIXES):
        raise UnsafeWebhookUrl("internal_name", "webhook URL host is an internal name")
    if len(labels) < 2:
        # Single labels are completed with the resolver's search domains, i.e. internal names.
        raise UnsafeWebhookUrl("internal_name", "webhook URL host must be a fully qualified name")


def _resolve(resolver: Resolver, host: str, port: int) -> list[IPAddress]:
    try:
        answers = resolver.resolve(host, port)
    except (OSError, UnicodeError):
        answers = []
    if not answers:
        raise UnsafeWebhookUrl("unresolvable", "webhook URL host could not be resolved")
    try:
        return [ipaddress.ip_address(a) for a in answers]
    except ValueError:
        raise UnsafeWebhookUrl(
            "address", "webhook URL host resolved to an invalid address"
        ) from None


def _check_address(address: IPAddress, loopback: bool, *, resolved: bool) -> None:
    if loopback and address.is_loopback:
        return
    if forbidden(address):
        what = "resolves to" if resolved else "is"
        raise UnsafeWebhookUrl("address", f"webhook URL host {what} a non-public address")


def forbidden(address: IPAddress) -> bool:
    """True unless ``address`` is one we would call on the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return True
        embedded = _embedded_v4(address)
        if embedded is not None:
            return forbidden(embedded)
        if any(address in net for net in _V6_DENY):
            return True
    elif any(address in net for net in _V4_DENY):
        return True
    return not address.is_global


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a mapped, NAT64 or 6to4 address reaches in the end (Teredo and
    IPv4-compatible addresses are refused outright by the table)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour
