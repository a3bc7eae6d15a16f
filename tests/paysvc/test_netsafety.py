"""paysvc.netsafety: SSRF checks on URLs (no DNS) and on resolved addresses
(docs/reliability.md#c2-merchant-api-bad-inputs)."""

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysvc import netsafety
from paysvc.netsafety import (
    UnsafeURLError,
    check_url_target,
    parse_ipv4_loose,
    resolve_public_addresses,
)

# docs/reliability.md#c2-merchant-api-bad-inputs "URLs" plus the usual encodings of the same
# targets. Every one is refused.
SSRF_PAYLOADS = [
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "ftp://example.com/file",
    "//127.0.0.1/cb",
    "https:evil.com/cb",
    "http:///127.0.0.1/",
    "https://127.0.0.1/",
    "http://127.0.0.1.:8000/",
    "http://localhost/",
    "http://localhost:8000/cb",
    "http://LOCALHOST./",
    "http://shop.localhost/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]:8080/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://127.1/",
    "http://127.0.1/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://0/",
    "http://0.0.0.0:8000/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/computeMetadata/v1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://0300.0250.0.1/",  # 192.168.0.1 in octal
    "http://3232235521/",  # 192.168.0.1 as one number
    "http://100.64.0.1/",
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata (CGNAT range)
    "http://192.0.0.192/",  # Oracle Cloud metadata
    "http://[fd00::1]/",
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS IMDS over IPv6
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::7f00:1]/",  # IPv4-compatible ::127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://[2001::1]/",  # Teredo
    "http://[ff02::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://198.18.0.1/",
    "http://printer.local/",
    "http://api.internal/",
    "http://wiki.intranet/",
    "http://router.home.arpa/",
    "http://redis:6379/",
    "https://user:pass@example.com/cb",
    "https://example.com@127.0.0.1/",
    "http://127.0.0.1#@example.com/",
    "http://127.0.0.1\\@example.com/",
    "https:/\\evil.com/",
    "http://127.0.0.1\t/",
    "http://exa mple.com/",
    "http://%31%32%37.0.0.1/",
    "http://\u2460\u2461\u2466.0.0.1/",  # circled digits: IDNA maps them to 127.0.0.1
    "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",  # full-width "localhost"
    "http://127\u30020\u30020\u30021/",  # ideographic full stops
    "http://1.2.3.4.5/",
    "http://256.0.0.1/",
    "http://[127.0.0.1]/",
    "http://example.com:0/",
    "http://example.com:99999/",
    "http://-bad-.example.com/",
]

PUBLIC_URLS = [
    "https://example.com/cb",
    "https://93.184.216.34/",
    "http://8.8.8.8:8080/hook?x=1",
    "https://[2606:4700:4700::1111]/dns",
    "https://sub.example.co.uk/path/to?q=1#frag",
    "https://1e100.net/",
    "https://xn--e1afmkfd.xn--p1ai/",
    "https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/",  # IDN host
    "HTTPS://EXAMPLE.COM/Return",
    "https://example.com./",
    "https://[::ffff:8.8.8.8]/",  # mapped public IPv4
    "https://[2002:808:808::1]/",  # 6to4 of 8.8.8.8
    "http://example.com#@127.0.0.1",  # the fragment is not the host
]


@pytest.mark.parametrize("url", SSRF_PAYLOADS)
def test_ssrf_payloads_are_refused(url):
    with pytest.raises(UnsafeURLError):
        check_url_target(url, allow_private=False)


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_urls_are_accepted(url):
    check_url_target(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/cb",
        "http://localhost:8000/hook",
        "http://[::1]:9000/",
        "http://0x7f000001/",
        "http://redis:6379/",
        "http://192.168.1.10/notify",
        "http://shop.local/",
    ],
)
def test_allow_private_accepts_private_targets(url):
    check_url_target(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://user:pass@127.0.0.1/",
        "http://127.0.0.1\\@x/",
        "http://1.2.3.4.5/",
    ],
)
def test_allow_private_still_refuses_bad_schemes_credentials_and_syntax(url):
    with pytest.raises(UnsafeURLError):
        check_url_target(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        ("javascript:alert(1)", ["http:// or https://"]),
        ("https://user:pass@example.com/", ["credentials"]),
        ("http://0x7f000001/", ["127.0.0.1", "loopback", "SSRF"]),
        ("http://2130706433/", ["127.0.0.1", "loopback"]),
        ("http://[::ffff:169.254.169.254]/", ["link-local"]),
        ("http://100.64.0.1/", ["CGNAT"]),
        ("http://[fd00::1]/", ["unique-local"]),
        ("http://10.1.2.3/", ["private"]),
        ("http://0.0.0.0/", ["unspecified"]),
        ("http://224.0.0.1/", ["multicast"]),
        ("http://metadata.google.internal/", ["internal name"]),
        ("http://redis/", ["fully qualified"]),
        ("http://256.1.1.1/", ["not a valid one"]),
        ("http://a b/", ["spaces"]),
    ],
)
def test_refusal_message_names_the_rule(url, fragments):
    with pytest.raises(UnsafeURLError) as info:
        check_url_target(url, allow_private=False)

    for fragment in fragments:
        assert fragment in str(info.value)


def test_unsafe_url_error_is_a_value_error():
    assert issubclass(UnsafeURLError, ValueError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0", 0),  # 0.0.0.0
        ("0x", 0),
        ("10.0xff.0377.255", "10.255.255.255"),
        ("192.168.257", "192.168.1.1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_parse_ipv4_loose_reads_every_inet_aton_notation(text, expected):
    assert parse_ipv4_loose(text) == ipaddress.IPv4Address(expected)


@pytest.mark.parametrize(
    "text", ["", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "08.1.1.1", "0xg.1.1.1", "1..1", "-1"]
)
def test_parse_ipv4_loose_rejects_invalid_forms(text):
    assert parse_ipv4_loose(text) is None


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_parse_ipv4_loose_agrees_across_notations(number):
    address = ipaddress.IPv4Address(number)
    octets = [int(part) for part in str(address).split(".")]

    forms = [
        str(number),
        hex(number),
        str(address),
        ".".join(f"0{octet:o}" for octet in octets),
        ".".join(hex(octet) for octet in octets),
        f"{octets[0]}.{number & 0xFFFFFF}",
    ]

    assert {parse_ipv4_loose(form) for form in forms} == {address}


# --- resolve_public_addresses: getaddrinfo is faked (no real DNS in tests) ---------------------


def _fake_getaddrinfo(monkeypatch, *addresses):
    calls = []

    def fake(host, port, *args, **kwargs):
        calls.append((host, port))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos = []
        for address in addresses:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos

    monkeypatch.setattr(netsafety.socket, "getaddrinfo", fake)
    return calls


def test_resolve_returns_public_addresses_without_duplicates(monkeypatch):
    calls = _fake_getaddrinfo(monkeypatch, "93.184.216.34", "93.184.216.34", "2606:2800:220:1::1")

    addresses = resolve_public_addresses("Example.com", 443, allow_private=False)

    assert addresses == ["93.184.216.34", "2606:2800:220:1::1"]
    assert calls == [("example.com", 443)]


def test_resolve_refuses_when_any_address_is_private_dns_rebinding(monkeypatch):
    _fake_getaddrinfo(monkeypatch, "93.184.216.34", "127.0.0.1")

    with pytest.raises(UnsafeURLError) as info:
        resolve_public_addresses("rebind.example.com", 443, allow_private=False)

    assert "127.0.0.1" in str(info.value)
    assert "loopback" in str(info.value)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "10.0.0.5", "fe80::1%eth0", "::ffff:192.168.0.1", "fd00::2"]
)
def test_resolve_refuses_a_public_name_that_resolves_privately(monkeypatch, address):
    _fake_getaddrinfo(monkeypatch, address)

    with pytest.raises(UnsafeURLError):
        resolve_public_addresses("127.0.0.1.nip.io", 80, allow_private=False)


@pytest.mark.parametrize("host", ["localhost", "metadata.google.internal", "0x7f000001", "[::1]"])
def test_resolve_refuses_internal_hosts_before_any_dns_lookup(monkeypatch, host):
    calls = _fake_getaddrinfo(monkeypatch, "93.184.216.34")

    with pytest.raises(UnsafeURLError):
        resolve_public_addresses(host, 80, allow_private=False)

    assert calls == []


def test_resolve_with_allow_private_returns_loopback(monkeypatch):
    calls = _fake_getaddrinfo(monkeypatch, "127.0.0.1", "::1")

    addresses = resolve_public_addresses("localhost", 8000, allow_private=True)

    assert addresses == ["127.0.0.1", "::1"]
    assert calls == [("localhost", 8000)]


def test_resolve_normalises_ip_literals_before_lookup(monkeypatch):
    calls = _fake_getaddrinfo(monkeypatch, "127.0.0.1")

    resolve_public_addresses("0x7f000001", 80, allow_private=True)

    assert calls == [("127.0.0.1", 80)]


def test_resolve_lets_dns_failures_through_for_the_caller_to_retry(monkeypatch):
    _fake_getaddrinfo(monkeypatch)

    with pytest.raises(socket.gaierror):
        resolve_public_addresses("nx.example.com", 443, allow_private=False)
