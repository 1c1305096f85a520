"""Anyone can email the bounce address: no report changes the list unless something of ours
vouches for it (a valid token for the address it names; without a return path, a Message-ID
we sent to that address). Everything else is held for `bounces review`. Messages are sent
through a real SMTP server; reports are read as files into the real database."""

from __future__ import annotations

import json
from pathlib import Path

from civic_contacts.deliver.tokens import return_token
from tests.after.test_bounces import SECRET, report_for, sent_envelopes, smtp
from tests.bounce_cases import RETURN, arf, gmail, postfix, prose

DEAD = "550-5.1.1 The email account that you tried to reach does not exist."


def suppressed(demo) -> list[str]:
    return [r["email"] for r in json.loads(demo("suppress", "list", "--json").stdout)]


def read(demo, tmp_path: Path, *reports: bytes):
    folder = tmp_path / f"reports-{len(list(tmp_path.glob('reports-*')))}"
    folder.mkdir()
    for number, data in enumerate(reports, start=1):
        (folder / f"{number}.eml").write_bytes(data)
    return demo("bounces", "read", *map(str, sorted(folder.iterdir())))


def forged_token(delivery_id: int) -> str:
    """A token of the right shape signed with a secret that is not ours."""
    return return_token(b"not-our-secret-0123456789abcdef", delivery_id)


def test_forged_reports_are_held_and_suppress_nobody(
    demo, smtp_server, configured, tmp_path: Path
) -> None:
    """With a return path: a report with no token, a made-up token, another delivery's token
    naming a second journalist, a complaint about anyone and a prose notice about a
    journalist never sent anything are all held, and nobody is suppressed."""
    configured()
    envelopes = sent_envelopes(demo, smtp_server, 3)
    first, second, _third = sorted(envelopes)
    never_sent = "nobody.sent@example.net"
    no_token = gmail(first, "5.1.1", DEAD).replace(RETURN.encode(), b"bounces@example.org")
    made_up = gmail(second, "5.1.1", DEAD).replace(
        RETURN.encode(), f"bounces+{forged_token(1)}@example.org".encode()
    )
    other_token = report_for(gmail(second, "5.1.1", DEAD), envelopes[first])
    complaint = arf("abuse", first, "bounces@example.org").replace(
        RETURN.encode(), b"bounces@example.org"
    )
    notice = prose(
        f"<{never_sent}>: host mx.example.net said: 550 5.1.1 User unknown"
        " (in reply to RCPT TO command)\n",
        "Undelivered Mail Returned to Sender",
        sender="MAILER-DAEMON@mx.example.net",
    ).replace(RETURN.encode(), b"bounces@example.org")
    said = " ".join(
        read(demo, tmp_path, no_token, made_up, other_token, complaint, notice).stderr.split()
    )
    assert "0 address(es) suppressed" in said
    assert "5 report(s) held, not acted on" in said and "bounce review" in said
    assert suppressed(demo) == []
    held = json.loads(demo("bounces", "review", "--json").stdout)
    why = {(r["email"], r["held"]) for r in held}
    assert why == {
        (first, "held: it came without a return-path token of ours"),
        (second, "held: its return-path token is not one of ours"),
        (second, f"held: it names {second}, but its token is for a message to another address"),
        (first, "held: it came without a return-path token of ours"),
        (never_sent, "held: it came without a return-path token of ours"),
    }
    # Nothing held counts towards a soft-bounce suppression or shows in a release's status.
    status = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
    assert (status["bounced"], status["complained"]) == (0, 0)


def test_a_genuine_report_acts_and_an_officer_decides_the_held_ones(
    demo, smtp_server, configured, tmp_path: Path
) -> None:
    """The token's own recipient is suppressed; a held report is accepted (suppressing the
    address it names, with the officer named in the reason) or dismissed; an unknown id is
    an error naming it, and changes nothing."""
    configured()
    envelopes = sent_envelopes(demo, smtp_server, 3)
    first, second, third = sorted(envelopes)
    genuine = report_for(gmail(first, "5.1.1", DEAD), envelopes[first])
    held_one = report_for(gmail(second, "5.1.1", DEAD), envelopes[third])
    held_two = report_for(gmail(third, "5.1.1", DEAD), envelopes[second])
    read(demo, tmp_path, genuine, held_one, held_two)
    assert suppressed(demo) == [first]
    held = {r["email"]: r["id"] for r in json.loads(demo("bounces", "review", "--json").stdout)}
    assert set(held) == {second, third}
    wrong = demo("bounces", "review", "--accept", str(held[second]), "--accept", "99999", expect=2)
    assert "no held report with id 99999" in wrong.stderr
    assert suppressed(demo) == [first]
    shown = demo("bounces", "review")
    assert second in shown.stdout and "token is for a message to another address" in shown.stdout
    demo("bounces", "review", "--accept", str(held[second]), "--dismiss", str(held[third]))
    assert sorted(suppressed(demo)) == sorted([first, second])
    reasons = {
        r["email"]: r["reason"] for r in json.loads(demo("suppress", "list", "--json").stdout)
    }
    assert reasons[second].startswith("accepted by an officer: bounce 5.1.1 no-such-user")
    assert json.loads(demo("bounces", "review", "--json").stdout) == []
    assert "no report is held" in demo("bounces", "review").stderr


def test_without_a_return_path_only_our_message_id_to_that_address_acts(
    demo, smtp_server, tmp_path: Path, monkeypatch
) -> None:
    """No return path: a report quoting the Message-ID we sent to the address it names acts;
    the same Message-ID naming another journalist, or none at all, is held."""
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SECRET)
    _sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", "2", "--yes")
    audit = json.loads(demo("batch", "audit", "sahel-civilians", "--json").stdout)
    sent = {r["email"]: r["message_id"] for r in audit if r.get("message_id")}
    first, second = sorted(sent)[:2]

    def quoting(to: str, message_id: str) -> bytes:
        return gmail(to, "5.1.1", DEAD).replace(
            b"<sahel-civilians.x1@example.org>", message_id.encode()
        )

    read(demo, tmp_path, quoting(first, sent[first]), quoting(second, sent[first]))
    assert suppressed(demo) == [first]
    held = json.loads(demo("bounces", "review", "--json").stdout)
    assert [(r["email"], r["held"]) for r in held] == [
        (second, f"held: it quotes no Message-ID we sent to {second}")
    ]


def test_a_report_filed_back_or_read_under_another_name_is_read_once(
    demo, smtp_server, configured, tmp_path: Path
) -> None:
    """The same report with other delivery headers (as another mailbox route adds them) is
    recognised by its own identity, not its source, and acts once."""
    configured()
    envelopes = sent_envelopes(demo, smtp_server, 2)
    first = sorted(envelopes)[0]
    report = report_for(
        postfix(first, "4.2.2", "452 4.2.2 Mailbox full", action="failed"), envelopes[first]
    )
    read(demo, tmp_path, report)
    again = read(demo, tmp_path, b"Received: from imap.example.org by mx.example.org\n" + report)
    assert "read 0 new report(s)" in again.stderr and "1 read before" in again.stderr
    rows = json.loads(demo("bounces", "list", "--json").stdout)
    assert [(r["email"], r["outcome"]) for r in rows] == [(first, "counted")]


def test_a_complaint_naming_nobody_is_its_own_tokens_recipients(
    demo, smtp_server, configured, tmp_path: Path
) -> None:
    """A feedback report whose copy went to "undisclosed recipients" (no Original-Rcpt-To, as
    real feedback loops send them) suppresses the recipient of the delivery its token names;
    a "not-spam" one suppresses nobody; with no token it acts on nobody."""
    configured()
    envelopes = sent_envelopes(demo, smtp_server, 3)
    first, second, third = sorted(envelopes)
    unnamed = arf("abuse", None, "undisclosed-recipients:;")
    said = read(
        demo,
        tmp_path,
        report_for(unnamed, envelopes[first]),
        report_for(arf("not-spam", None, "undisclosed-recipients:;"), envelopes[second]),
        unnamed.replace(RETURN.encode(), b"bounces@example.org").replace(b"Body", b"Other"),
    )
    assert "1 address(es) suppressed" in " ".join(said.stderr.split())
    assert suppressed(demo) == [first]
    reasons = {
        r["email"]: r["reason"] for r in json.loads(demo("suppress", "list", "--json").stdout)
    }
    assert "complaint" in reasons[first]
    assert second not in reasons and third not in reasons
    assert len(json.loads(demo("bounces", "review", "--json").stdout)) == 0
