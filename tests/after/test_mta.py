"""The whole after-the-send loop through a real MTA: the batch goes to Postfix (Debian's, on
loopback, local-only), which delivers to Dovecot by LMTP and writes its own bounces for a
user Dovecot does not know, a dead domain (an error transport) and a deferral that runs out
(a retry transport, queue lifetime zero); `bounces fetch` reads Postfix's own reports from
Dovecot over IMAP. Submission with STARTTLS and a login (Dovecot SASL) too."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from tests.after.mta import MailSystem, running_mail_system
from tests.after.test_bounces import Mailbox, mailbox_config
from tests.bounce_cases import gmail


def journalists(data_dir: Path) -> list[str]:
    with open(data_dir / "journalists.csv", encoding="utf-8") as handle:
        return sorted(row["email"] for row in csv.DictReader(handle))


def wait_for_reports(box: Mailbox, count: int, system: MailSystem) -> None:
    deadline = time.monotonic() + 60
    while box.counts().get("INBOX", 0) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"Postfix wrote fewer than {count} reports:\n{system.log()}")
        time.sleep(0.3)


@pytest.mark.slow
def test_postfix_bounces_suppress_exactly_the_dead_addresses(
    demo, configured, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release to every journalist through Postfix: the unknown user and the dead domain
    are suppressed from Postfix's own DSNs, the deferral that ran out is counted and not
    suppressed, everyone else got the message; a report forged to the bounce address through
    the same Postfix is held; a second fetch changes nothing."""
    everyone = journalists(data_dir)
    unknown, dead_domain, deferred = everyone[0], everyone[1], everyone[2]
    with running_mail_system(
        ["example.com", "example.net", "example.org"],
        users=[a.split("@")[0] for a in everyone if a != unknown] + ["press"],
        dead={dead_domain: "5.1.2 Host or domain name not found. Name service error"},
        deferred={deferred: "4.4.1 Connection timed out"},
    ) as system:
        box = Mailbox("127.0.0.1", system.imap_port, "bounces", system.password, system.cafile)
        configured(mailbox_config(box))
        monkeypatch.setenv("CIVIC_CONTACTS_BOUNCES_PASSWORD", system.password)
        sent = demo(
            "batch",
            "send",
            "sahel-civilians",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(system.smtp_port),
            "--security",
            "none",
            "--yes",
        )
        assert sent.exit_code == 0, sent.stderr
        wait_for_reports(box, 3, system)
        fetched = " ".join(demo("bounces", "fetch").stderr.split())
        assert "read 3 new report(s): 3 bounce(s)" in fetched, fetched
        gone = [r["email"] for r in json.loads(demo("suppress", "list", "--json").stdout)]
        assert sorted(gone) == sorted([unknown, dead_domain])
        rows = json.loads(demo("bounces", "list", "--json").stdout)
        assert sorted((r["email"], r["outcome"], r["matched_by"]) for r in rows) == sorted(
            [
                (unknown, "suppressed", "token"),
                (dead_domain, "suppressed", "token"),
                (deferred, "counted", "token"),
            ]
        )
        # Everyone else's message is in their mailbox.
        live = everyone[3]
        reader = Mailbox(
            "127.0.0.1", system.imap_port, live.split("@")[0], system.password, system.cafile
        )
        # Postfix delivers to each mailbox on its own: the reports may come first.
        wait_for_reports(reader, 1, system)
        assert reader.counts()["INBOX"] >= 1
        # A report forged to the bounce address, through the same Postfix, is held.
        import smtplib

        forged = gmail(
            live, "5.1.1", "550-5.1.1 The email account that you tried to reach does not exist."
        ).replace(b"bounces+", b"bounces-forged+")
        with smtplib.SMTP("127.0.0.1", system.smtp_port) as smtp:
            smtp.sendmail("", ["bounces@example.org"], forged)
        wait_for_reports(box, 1, system)
        again = " ".join(demo("bounces", "fetch").stderr.split())
        assert "1 report(s) held" in again, again
        assert sorted(
            r["email"] for r in json.loads(demo("suppress", "list", "--json").stdout)
        ) == sorted(gone)
        third = demo("bounces", "fetch")
        assert "read 0 new report(s)" in third.stderr
        assert len(json.loads(demo("bounces", "list", "--json").stdout)) == len(rows) + 1


@pytest.mark.slow
def test_submission_with_starttls_and_a_login(
    demo, configured, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch through Postfix's submission port: STARTTLS against its certificate, a
    login checked by Dovecot; a wrong password is refused before anything is marked sent."""
    everyone = journalists(data_dir)
    with running_mail_system(
        ["example.com", "example.net", "example.org"],
        users=[a.split("@")[0] for a in everyone] + ["press"],
    ) as system:
        configured()
        options = [
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(system.submission_port),
            "--security",
            "starttls",
            "--cafile",
            str(system.cafile),
            "--user",
            "press",
            "--yes",
        ]
        monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", "not-the-password")
        refused = demo("batch", "send", "sahel-civilians", *options, "--limit", "2", expect=None)
        assert refused.exit_code != 0
        status = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
        assert status["sent"] == 0
        monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", system.password)
        demo("batch", "send", "sahel-civilians", *options, "--limit", "2")
        status = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
        assert status["sent"] == 2
        deadline = time.monotonic() + 30
        delivered = 0
        while time.monotonic() < deadline and delivered < 2:
            delivered = sum(
                Mailbox(
                    "127.0.0.1", system.imap_port, a.split("@")[0], system.password, system.cafile
                )
                .counts()
                .get("INBOX", 0)
                for a in everyone
            )
            time.sleep(0.3)
        assert delivered == 2, system.log()
