"""Real reports from real servers (tests/data/real_bounces, sisimai's labels): one test per
habit that once made the classifier suppress a journalist wrongly or miss a dead address.
The whole real corpus is scored by bench/bench_bounces.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civic_contacts.after.classify import Report, classify, messages_in

REAL = Path(__file__).resolve().parent.parent / "data" / "real_bounces"
LABELS = {
    entry["file"]: entry["expect"]
    for entry in map(json.loads, (REAL / "expected.jsonl").read_text().splitlines())
}
DEAD = {"userunknown", "hostunknown", "hasmoved", "notaccept"}


def read(name: str) -> Report:
    _source, data = next(iter(messages_in(REAL / name)))
    return classify(data)


def actions(report: Report) -> dict[str, str]:
    return {r.email: r.action for r in report.recipients}


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_copied_report_is_suppressed_exactly_when_sisimai_says_dead(name: str) -> None:
    """Each copied real report: a dead address is suppressed, anything else is not."""
    report = read(name)
    labels = LABELS[name]
    suppressed = [r for r in report.recipients if r.action == "suppress"]
    if any(e["reason"] == "feedback" for e in labels):
        # One naming nobody acts on its token's own recipient (returns.py).
        assert report.kind == "complaint" and (suppressed or report.unnamed[0] == "suppress")
    elif any(e["hard"] for e in labels):
        assert len(suppressed) == sum(1 for e in labels if e["reason"] in DEAD), report
    else:
        assert not suppressed, report


def test_a_bounce_marked_auto_submitted_is_still_a_bounce() -> None:
    """Exim marks its notices `Auto-Submitted: auto-replied`; they are bounces, each failed
    address read on its own (the second answered 5.2.1 after RCPT TO: still unknown)."""
    report = read("lhost-exim-02.eml")
    assert report.kind == "bounce"
    assert actions(report) == {"kijitora@example.jp": "suppress", "sabatora@example.jp": "suppress"}


def test_user_unknown_after_the_message_is_a_filter_not_a_dead_address() -> None:
    """'550 : User unknown' names no address: the carrier's filter answered after DATA (the
    mailbox exists). Postfix's '(in reply to RCPT TO command)', wrapped over two lines,
    makes the same words a dead address."""
    assert actions(read("lhost-postfix-35.eml")) == {
        "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp": "alert"
    }
    assert actions(read("lhost-postfix-36.eml")) == {
        "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp": "suppress"
    }


def test_sendmail_transcripts_show_pipelined_answers_after_data() -> None:
    """'>>> DATA' then '<<< 550 ...' with no 354: the answer to the recipient. Dead with an
    addressing code or an address's words; a mailbox status (5.2.0) is a carrier's filter."""
    assert set(actions(read("lhost-sendmail-01.eml")).values()) == {"suppress"}
    assert set(actions(read("lhost-sendmail-46.eml")).values()) == {"suppress"}
    assert set(actions(read("lhost-sendmail-19.eml")).values()) == {"alert"}


def test_a_disabled_account_is_retried_not_suppressed() -> None:
    """Gmail's 5.2.1 'account ... is disabled' may come back (RFC 3463: may be transient)."""
    [row] = read("rhost-google-01.eml").recipients
    assert (row.action, row.reason) == ("retry", "disabled")


def test_the_notice_contradicting_its_diagnostic_is_not_enough_to_suppress() -> None:
    """The notice says 'Not enough disk space' / 'account is disabled' while the diagnostic
    says user unknown: ambiguous, so retried."""
    assert actions(read("rfc3464-01.eml")) == {"userunknown@bouncehammer.jp": "retry"}
    assert set(actions(read("lhost-ezweb-02.eml")).values()) == {"retry"}


def test_a_broken_mime_boundary_still_gives_the_delivery_status() -> None:
    """The Content-Type names a boundary the parts do not use: the fields are read from the
    text."""
    [row] = read("rhost-google-02.eml").recipients
    assert (row.email, row.action, row.status) == ("neko-nyaan@example.org", "suppress", "5.1.1")


def test_recipients_without_a_blank_line_between_them_are_two() -> None:
    """AOL writes two Final-Recipient blocks with no blank line: full and unknown."""
    assert actions(read("lhost-aol-03.eml")) == {
        "sabineko@example.jp": "retry",
        "mikeneko@example.jp": "suppress",
    }


def test_each_address_in_a_prose_notice_gets_its_own_words() -> None:
    """Mail.ru repeats the list in two languages: each address is read up to the next one."""
    assert actions(read("lhost-mailru-03.eml")) == {
        "mikeneko@example.jp": "retry",
        "sabineko@example.jp": "suppress",
    }


def test_a_sender_rejection_with_a_recipient_code_is_about_the_sender() -> None:
    """'550 5.1.0 <bounce@...> sender rejected': the address named is ours, never the
    journalist's; GoDaddy's 5.1.1 'sent to too many recipients this hour' is a rate."""
    assert set(actions(read("rhost-cox-01.eml")).values()) == {"alert"}
    assert set(actions(read("rhost-godaddy-03.eml")).values()) == {"retry"}


def test_a_lookup_that_failed_for_now_is_not_a_dead_domain() -> None:
    """'Host not found, try again' (wrapped by Postfix) is the name servers', for now."""
    assert set(actions(read("lhost-postfix-34.eml")).values()) == {"retry"}


def test_a_failed_delivery_whose_last_answer_was_4_1_1_is_dead() -> None:
    """The queue gave up; the last answer said the user is unknown."""
    assert set(actions(read("lhost-postfix-05.eml")).values()) == {"suppress"}


def test_sending_services_json_and_exchange_online_edge_blocks() -> None:
    """SES's notification inside an SNS envelope; Exchange Online's 'Recipient address
    rejected: Access denied' (its directory has no such mailbox); DragonFly names the failed
    address in X-Original-To."""
    assert actions(read("lhost-amazonses-10.eml")) == {"bounce@simulator.amazonses.com": "suppress"}
    assert set(actions(read("rhost-microsoft-02.eml")).values()) == {"suppress"}
    assert actions(read("lhost-dragonfly-26.eml")) == {"userunknown@example.org": "suppress"}


def test_complaints_name_the_complained_address_wherever_it_is() -> None:
    """Removal-Recipient (an early ARF), the copy's To in Hotmail's plain-message reports,
    and Apple Mail's unsubscribe-by-email (the sender asks off)."""
    assert actions(read("arf-12.eml")) == {"user@example.com": "suppress"}
    assert actions(read("arf-23.eml")) == {"kijitora@example.com": "suppress"}
    report = read("arf-26.eml")
    assert (report.kind, [(r.email, r.reason) for r in report.recipients]) == (
        "complaint",
        [("example@icloud.com", "opt-out")],
    )


def test_a_report_writers_own_verdict_settles_words_that_leave_it_open() -> None:
    """'550 x... No such user' is written for dead addresses and by filters alike: retried
    on its own (SurfControl's), but suppressed where the report's writer vouches for it:
    PowerMTA's bounce category, an outbound gateway's list of refused addresses (McAfee,
    InterScan), Hotmail's 'mailbox unavailable'."""
    assert actions(read("lhost-surfcontrol-01.eml")) == {"kijitora@example.com": "retry"}
    assert [r.reason for r in read("lhost-powermta-02.eml").recipients] == ["no-such-user"]
    assert actions(read("lhost-mcafee-04.eml")) == {"kijitora@example.com": "suppress"}
    assert actions(read("lhost-interscanmss-02.eml")) == {"kijitora@neko.example.jp": "suppress"}
    assert actions(read("lhost-outlook-08.eml")) == {"kijitora@hotmail.example.com": "suppress"}
    # Sendmail's own heading (five dashes) is not McAfee's: its unknown user stays open.
    assert "suppress" not in actions(read("rfc3464-35.eml")).values()


def test_a_refusal_of_the_address_at_rcpt_is_dead_whatever_security_code_it_carries() -> None:
    """Bigfoot refused 'RCPT TO' with '553 Invalid recipient x (Mode: normal)' and 5.7.1."""
    report = read("lhost-bigfoot-02.eml")
    assert [(r.email, r.action, r.reason) for r in report.recipients] == [
        ("kijitora@example.org", "suppress", "no-such-user")
    ]


def test_a_forwarded_report_is_read_through_its_quoting() -> None:
    """Someone forwarded a Sendmail bounce, every line quoted with '> '."""
    report = read("lhost-sendmail-14.eml")
    assert report.kind == "bounce"
    assert [(r.email, r.status, r.action) for r in report.recipients] == [
        ("kijitora@example.com", "5.1.1", "suppress")
    ]


def test_imail_and_its_own_words_for_full_and_unknown() -> None:
    """IMail's whole diagnostic 'Unknown user: x@y' is its directory's; 'User mailbox
    exceeds allowed size' is a full mailbox, retried."""
    assert actions(read("lhost-imailserver-01.eml")) == {"kijitora@example.com": "suppress"}
    assert [(r.action, r.reason) for r in read("lhost-imailserver-02.eml").recipients] == [
        ("retry", "mailbox-full")
    ]


def test_the_command_named_after_a_reply_counts_but_a_copy_of_the_envelope_does_not() -> None:
    """'User Unknown [RCPT_TO]' answered RCPT; 'MAIL FROM: x@y RCPT TO: z@w' after a reply is
    a notice's copy of the envelope, not the command the server answered."""
    from civic_contacts.deliver.reasons import command_in

    assert actions(read("lhost-yahoo-05.eml")) == {"kijitora@example.co.jp": "suppress"}
    assert command_in("550 5.2.1 <k@example.co.jp>... User Unknown [RCPT_TO]") == "RCPT"
    assert (
        command_in(
            "550 - Requested action not taken: no such user here Message details: "
            "MAIL FROM: a@example.org RCPT TO: b@example.com"
        )
        == ""
    )


def test_au_mail_names_the_address_it_does_not_have_and_not_the_one_it_filters() -> None:
    """KDDI's au mail answers '550 <x@ezweb.ne.jp>: User unknown' for an address it does not
    have and '550 : User unknown' when the recipient's filter refuses the sender, whoever
    relays the answer (Gmail, Yahoo) and whether or not they say which command it answered.
    The same words from another server, with no command, are still only retried."""
    for dead, filtered in (
        ("lhost-gsuite-09", "lhost-gsuite-08"),
        ("lhost-yahoo-07", "lhost-yahoo-06"),
    ):
        assert set(actions(read(f"{dead}.eml")).values()) == {"suppress"}
        assert "suppress" not in actions(read(f"{filtered}.eml")).values()
    assert "suppress" not in actions(read("lhost-postfix-07.eml")).values()


def test_a_feedback_report_about_undisclosed_recipients_names_nobody() -> None:
    """A feedback loop's report whose copy went to "undisclosed" names no address: nobody is
    suppressed from its words; it acts on its token's own recipient (test_forged_reports)."""
    report = read("arf-15.eml")
    assert report.kind == "complaint" and report.recipients == []
    assert report.unnamed == ("suppress", "complaint")
