"""The SSRF table: every trick refused for the right reason, public targets accepted. The
resolver is a dict; nothing here touches the network."""

from __future__ import annotations

import pytest

from genmedia.errors import InvalidArgument
from genmedia.webhooks.ssrf import Target, UnsafeWebhookUrl, check_url


class DictResolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.answers:
            raise OSError("NXDOMAIN")
        return list(self.answers[host])


PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:4700::1111"
# Every name resolves to a single address, named after what it is.
ADDRESSES = {
    "private-10": "10.0.0.1",
    "private-172": "172.16.5.4",
    "private-192": "192.168.1.1",
    "loopback": "127.0.0.1",
    "loopback-other": "127.8.9.10",
    "loopback-v6": "::1",
    "metadata-ip": "169.254.169.254",
    "link-local": "169.254.10.1",
    "link-local-v6": "fe80::1",
    "link-local-v6-zone": "fe80::1%eth0",
    "multicast": "224.0.0.251",
    "multicast-v6": "ff02::1",
    "multicast-v6-global": "ff0e::1",
    "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "unspecified": "0.0.0.0",
    "this-network": "0.1.2.3",
    "unspecified-v6": "::",
    "cgnat": "100.64.0.1",
    "cgnat-top": "100.127.255.254",
    "benchmark": "198.18.0.1",
    "ietf-protocol": "192.0.0.9",
    "6to4-relay": "192.88.99.1",
    "doc-1": "192.0.2.1",
    "doc-2": "198.51.100.1",
    "doc-3": "203.0.113.1",
    "doc-v6": "2001:db8::1",
    "doc-v6-new": "3fff::1",
    "mapped-private": "::ffff:10.0.0.1",
    "mapped-loopback": "::ffff:127.0.0.1",
    "mapped-metadata": "::ffff:169.254.169.254",
    "compat-private": "::10.0.0.1",
    "nat64-private": "64:ff9b::a00:1",
    "nat64-metadata": "64:ff9b::a9fe:a9fe",
    "nat64-local-use": "64:ff9b:1::5db8:d822",
    "6to4-private": "2002:a00:1::1",
    "6to4-loopback": "2002:7f00:1::1",
    "teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "ula": "fd00::1",
    "ula-fc": "fc00::1",
    "site-local": "fec0::1",
    "discard-v6": "100::1",
    "orchid": "2001:20::1",
    "srv6": "5f00::1",
    "garbage": "not-an-ip",
}
RESOLVER = DictResolver(
    {
        **{f"{name}.example.com": [ip] for name, ip in ADDRESSES.items()},
        "hooks.example.com": [PUBLIC_V4, PUBLIC_V6],
        "v6.example.com": [PUBLIC_V6],
        "mixed.example.com": [PUBLIC_V4, "10.0.0.1"],  # one bad answer spoils the name
        "empty.example.com": [],
        "localhost": ["127.0.0.1", "::1"],
        "api.localhost": ["127.0.0.1"],
        "metadata.google.internal": ["169.254.169.254"],
        "metadata": ["169.254.169.254"],
        "intranet": [PUBLIC_V4],
        "printer.local": [PUBLIC_V4],
        "db.corp.internal": [PUBLIC_V4],
        "nas.home.arpa": [PUBLIC_V4],
        "dev.localhost": [PUBLIC_V4],
        "public-localhost.example.com": [PUBLIC_V4, "127.0.0.1"],
        "0x7f000001": ["127.0.0.1"],
    }
)


def refused(url: str, *, loopback: bool = False) -> str:
    with pytest.raises(UnsafeWebhookUrl) as info:
        check_url(url, allow_loopback_http=loopback, resolver=RESOLVER)
    assert isinstance(info.value, InvalidArgument)
    assert info.value.status == 422 and info.value.code == "WEBHOOK_URL_FORBIDDEN"
    assert [e.field for e in info.value.errors] == ["url"]
    return info.value.reason


LOOPBACK_NAMES = ("loopback", "loopback-other", "loopback-v6")
CASES = [(n, False) for n in sorted(ADDRESSES)]
CASES += [(n, True) for n in sorted(ADDRESSES) if n not in LOOPBACK_NAMES]


@pytest.mark.parametrize(("name", "loopback"), CASES)
def test_names_resolving_to_non_public_addresses_are_refused(name: str, loopback: bool) -> None:
    assert refused(f"https://{name}.example.com/hook", loopback=loopback) == "address"


@pytest.mark.parametrize("name", LOOPBACK_NAMES)
def test_loopback_names_are_admitted_in_loopback_mode_only(name: str) -> None:
    url = f"https://{name}.example.com/hook"
    assert check_url(url, allow_loopback_http=True, resolver=RESOLVER).addresses


def test_the_message_does_not_echo_the_resolved_address() -> None:
    with pytest.raises(UnsafeWebhookUrl) as info:
        check_url("https://metadata-ip.example.com/", allow_loopback_http=False, resolver=RESOLVER)
    assert "169.254" not in info.value.detail
    assert "169.254" not in info.value.errors[0].message


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://10.0.0.1/",
        "https://169.254.169.254/computeMetadata/v1/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://[fd00::1]/",
        "https://[64:ff9b::7f00:1]/",
        "https://0.0.0.0/",
    ],
)
def test_ip_literals_of_non_public_addresses_are_refused(url: str) -> None:
    assert refused(url) == "address"


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/",  # decimal 127.0.0.1
        "https://017700000001/",  # octal
        "https://0x7f000001/",  # hex, also a valid DNS label
        "https://0x7f.0.0.1/",
        "https://0177.0.0.1/",  # leading-zero octal octet
        "https://127.1/",  # short form
        "https://127.0.0.1./",
        "https://1.2.3.4.5/",
        "https://%31%32%37.0.0.1/",  # percent-encoded host
        "https://[fe80::1%25eth0]/",  # zone id (percent-encoded)
        "https://[fe80::1%eth0]/",
        "https://[::1/",
        "https://[hooks.example.com]/",
        "https://::1/",
        "https:///hook",
        "https://exa_mple.com/",
        "https://-bad.example.com/",
        "https://hooks..example.com/",
        "https://bücher.example/",  # non-ASCII: register the xn-- form
    ],
)
def test_ip_literal_tricks_and_malformed_hosts_are_refused(url: str) -> None:
    assert refused(url) in ("host", "syntax")


@pytest.mark.parametrize(
    "host",
    [
        "metadata.google.internal",
        "metadata",
        "db.corp.internal",
        "printer.local",
        "nas.home.arpa",
        "localhost",
        "dev.localhost",
        "intranet",  # single label: completed with internal search domains
        "METADATA.google.internal.",
    ],
)
def test_internal_names_are_refused_before_any_lookup(host: str) -> None:
    before = len(RESOLVER.calls)
    assert refused(f"https://{host}/") == "internal_name"
    assert len(RESOLVER.calls) == before


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "scheme"),
        ("ftp://hooks.example.com/", "scheme"),
        ("HTTP://hooks.example.com/", "scheme"),
        ("//hooks.example.com/", "scheme"),
        ("hooks.example.com/", "scheme"),
        ("https://user:pw@hooks.example.com/", "userinfo"),
        ("https://user@hooks.example.com/", "userinfo"),
        ("https://hooks.example.com@127.0.0.1/", "userinfo"),
        ("https://hooks.example.com/#frag", "syntax"),
        ("https://hooks.example.com\\@127.0.0.1/", "syntax"),
        ("https://hooks.example.com/a b", "syntax"),
        ("https://hooks.example.com/\n", "syntax"),
        ("https://hooks.example.com/" + "a" * 2048, "syntax"),
        ("https://hooks.example.com:22/", "port"),
        ("https://hooks.example.com:80/", "port"),
        ("https://hooks.example.com:0/", "port"),
        ("https://hooks.example.com:65536/", "port"),
        ("https://hooks.example.com:+443/", "port"),
        ("https://hooks.example.com:/", "port"),
        ("https://hooks.example.com:443:443/", "host"),
        ("https://nowhere.example.com/", "unresolvable"),
        ("https://empty.example.com/", "unresolvable"),
        ("https://mixed.example.com/", "address"),
    ],
)
def test_scheme_userinfo_fragment_port_and_resolution_rules(url: str, reason: str) -> None:
    assert refused(url) == reason


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (
            "https://hooks.example.com/hooks/genmedia?token=abc",
            Target(
                "https", "hooks.example.com", 443, "/hooks/genmedia?token=abc",
                (PUBLIC_V4, PUBLIC_V6),
            ),
        ),
        (
            "HTTPS://Hooks.Example.COM.:8443",
            Target("https", "hooks.example.com", 8443, "/", (PUBLIC_V4, PUBLIC_V6)),
        ),
        ("https://v6.example.com/x", Target("https", "v6.example.com", 443, "/x", (PUBLIC_V6,))),
        ("https://93.184.216.34/x", Target("https", "93.184.216.34", 443, "/x", (PUBLIC_V4,))),
        (
            "https://[2606:4700::1111]:1024/",
            Target("https", "2606:4700::1111", 1024, "/", (PUBLIC_V6,)),
        ),
        (
            "https://[::ffff:93.184.216.34]/",
            Target("https", "::ffff:93.184.216.34", 443, "/", ("::ffff:5db8:d822",)),
        ),
    ],
)  # fmt: skip
def test_public_targets_are_accepted(url: str, target: Target) -> None:
    assert check_url(url, allow_loopback_http=False, resolver=RESOLVER) == target


def test_nat64_and_6to4_of_a_public_address_are_accepted() -> None:
    for literal in ("64:ff9b::5db8:d822", "2002:5db8:d822::1"):
        url = f"https://[{literal}]/"
        assert check_url(url, allow_loopback_http=False, resolver=RESOLVER).addresses


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("http://127.0.0.1:8080/hook", ("127.0.0.1",)),
        ("http://[::1]:8080/hook", ("::1",)),
        ("http://localhost:8080/hook", ("127.0.0.1", "::1")),
        ("http://api.localhost/hook", ("127.0.0.1",)),
        ("https://loopback.example.com:9000/", ("127.0.0.1",)),
        ("https://localhost/", ("127.0.0.1", "::1")),
        ("https://hooks.example.com/", (PUBLIC_V4, PUBLIC_V6)),  # https stays allowed
    ],
)
def test_loopback_mode_admits_loopback_and_http_to_it(url: str, addresses: tuple[str]) -> None:
    assert check_url(url, allow_loopback_http=True, resolver=RESOLVER).addresses == addresses


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "scheme"),  # http only when every address is loopback
        ("http://dev.localhost/", "scheme"),
        ("http://public-localhost.example.com/", "scheme"),
        ("http://10.0.0.1/", "address"),
        ("http://private-192.example.com/", "address"),
        ("http://metadata.google.internal/", "internal_name"),
        ("http://[::ffff:127.0.0.1]/", "address"),
        ("http://2130706433/", "host"),
    ],
)
def test_loopback_mode_still_refuses_everything_else(url: str, reason: str) -> None:
    assert refused(url, loopback=True) == reason


def test_the_resolver_gets_the_name_and_port_once() -> None:
    resolver = DictResolver({"hooks.example.com": [PUBLIC_V4]})
    check_url("https://hooks.example.com.:8443/", allow_loopback_http=False, resolver=resolver)
    assert resolver.calls == [("hooks.example.com", 8443)]
