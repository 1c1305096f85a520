"""The pre-send check's own rules, on DNS answered from memory (`RecordsDns`): the SPF
evaluator (RFC 7208: mechanisms, qualifiers, include and redirect, the ten look-ups) and the
organisational domain that DMARC is looked up under. (Through a real DNS server on loopback
and the command line: tests/deliver/test_doctor.py.)"""

from __future__ import annotations

import ipaddress

import pytest

from civic_contacts.deliver.doctor import (
    RecordsDns,
    SpfError,
    check_spf,
    organisational_domain,
)

RELAY = ipaddress.ip_address("192.0.2.10")
OTHER = ipaddress.ip_address("198.51.100.7")


def spf(records: dict[tuple[str, str], list[str]], ip=RELAY, domain: str = "press.example"):
    return check_spf(RecordsDns(records), domain, [ip])


def test_an_address_in_range_passes_and_one_outside_gets_the_final_all() -> None:
    """ip4 ranges authorise; anything else gets the qualifier of `all`."""
    records = {("press.example", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"]}
    assert spf(records).result == "pass"
    found = spf(records, OTHER)
    assert (found.result, found.all_qualifier) == ("fail", "-")
    soft = {("press.example", "TXT"): ["v=spf1 ip4:192.0.2.0/24 ~all"]}
    assert spf(soft, OTHER).result == "softfail"


def test_no_record_is_none_and_two_records_are_an_error() -> None:
    """A domain without SPF says nothing; one with two records is a permanent error."""
    assert spf({}).result == "none"
    with pytest.raises(SpfError, match="2 SPF records"):
        spf({("press.example", "TXT"): ["v=spf1 -all", "v=spf1 +all"]})


def test_includes_and_redirects_are_followed_and_counted() -> None:
    """An include that passes passes; a redirect hands the whole answer over; each costs one
    look-up."""
    records = {
        ("press.example", "TXT"): ["v=spf1 include:_spf.relay.example -all"],
        ("_spf.relay.example", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
        ("redirected.example", "TXT"): ["v=spf1 redirect=_spf.relay.example"],
    }
    found = spf(records)
    assert (found.result, found.lookups) == ("pass", 1)
    assert spf(records, OTHER).result == "fail"
    assert spf(records, domain="redirected.example").result == "pass"


def test_a_and_mx_mechanisms_match_the_hosts_addresses() -> None:
    """`a` and `mx` authorise the addresses of the domain and of its mail hosts."""
    records = {
        ("press.example", "TXT"): ["v=spf1 a mx -all"],
        ("press.example", "A"): ["198.51.100.7"],
        ("press.example", "MX"): ["10 mx.relay.example"],
        ("mx.relay.example", "A"): ["192.0.2.10"],
    }
    assert spf(records).result == "pass"
    assert spf(records, OTHER).result == "pass"
    assert spf(records, ipaddress.ip_address("203.0.113.1")).result == "fail"


def test_more_than_ten_look_ups_is_a_permanent_error() -> None:
    """A chain of twelve includes breaks the limit of ten DNS look-ups."""
    records = {("press.example", "TXT"): ["v=spf1 include:s0.example -all"]}
    for i in range(11):
        records[(f"s{i}.example", "TXT")] = [f"v=spf1 include:s{i + 1}.example -all"]
    records[("s11.example", "TXT")] = ["v=spf1 ip4:192.0.2.10 -all"]
    with pytest.raises(SpfError, match="look-ups"):
        spf(records)


def test_an_include_without_a_record_and_an_unknown_mechanism_are_errors() -> None:
    """Both are permanent errors: receivers reject rather than guess."""
    with pytest.raises(SpfError, match="no SPF record"):
        spf({("press.example", "TXT"): ["v=spf1 include:gone.example -all"]})
    with pytest.raises(SpfError, match="unknown mechanism"):
        spf({("press.example", "TXT"): ["v=spf1 ipv4:192.0.2.10 -all"]})


@pytest.mark.parametrize(
    ("domain", "organisational"),
    [
        ("example.org", "example.org"),
        ("press.example.org", "example.org"),
        ("news.desk.example.org", "example.org"),
        ("press.example.co.uk", "example.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
    ],
)
def test_the_organisational_domain_of_common_shapes(domain: str, organisational: str) -> None:
    """DMARC is looked up at the registered domain when a subdomain publishes none."""
    assert organisational_domain(domain) == organisational
