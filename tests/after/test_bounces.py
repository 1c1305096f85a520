"""Bounces, auto-replies and complaints: the classifier on invented reports of many servers,
the per-delivery return path, and the whole loop with the real parts: messages sent through a
real SMTP server, reports read from files and from a real IMAP server (Dovecot)."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from civic_contacts.after.classify import Report, classify
from civic_contacts.deliver.tokens import envelope_sender, read_token, return_token, tokens_in
from tests.after.conftest import SECRET
from tests.bounce_cases import CASES, OURS, RETURN, arf, auto_reply, gmail, postfix, prose
from tests.conftest import free_port, need, self_signed

# The classifier ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_report_is_classified(case) -> None:
    """Every invented report: its kind, and per recipient the action, reason and status."""
    report = classify(case.data, OURS)
    assert report.kind == case.kind
    got = [(r.email, r.action, r.reason, r.status) for r in report.recipients]
    wanted = [(e.email, e.action, e.reason, e.status) for e in case.recipients]
    assert got == wanted
    assert all(r.diagnostic for r in report.recipients if r.action != "none")


def test_the_corpus_meets_the_targets() -> None:
    """At least 60 reports; no failure that is not the address's own is suppressed, and every
    suppress decision is right (precision first: a wrong one loses a journalist)."""
    assert len(CASES) >= 60
    decided = [
        (
            expected.action,
            {r.email: r.action for r in classify(case.data, OURS).recipients}.get(expected.email),
        )
        for case in CASES
        for expected in case.recipients
    ]
    suppressed = [wanted for wanted, got in decided if got == "suppress"]
    assert suppressed and all(wanted == "suppress" for wanted in suppressed)
    assert {wanted for wanted, _got in decided} == {"suppress", "alert", "retry", "none"}


def test_auto_replies_that_say_the_person_left_give_the_new_address() -> None:
    """ "No longer with…" and "a quitté…" with another address become review tasks."""
    left = {c.name: classify(c.data, OURS).new_address for c in CASES if c.name.startswith("left-")}
    assert left == {
        "left-english": "newsdesk@worlddesk.example.org",
        "left-french": "redaction@continentale.example.net",
        "left-no-new-address": None,
    }


def test_return_path_tokens_name_one_delivery_and_cannot_be_forged() -> None:
    """A token is short, opaque, names its delivery under any of the secrets, and a changed
    or foreign one names none."""
    secret, old = b"current-secret", b"older-secret"
    token = return_token(secret, 123456)
    assert len(token) == 17 and token.isalnum() and "123456" not in token
    # Consecutive deliveries' tokens share nothing visible (they do not count up).
    assert len({return_token(secret, n)[:4] for n in range(1, 51)}) >= 45
    assert read_token([secret], token) == 123456
    assert read_token([b"other", old], return_token(old, 42)) == 42
    flipped = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert read_token([secret], flipped) is None
    assert read_token([secret], "not-a-token") is None
    # Tokens of the first format, in messages sent before, still name their delivery (made
    # with the code of then).
    assert read_token([b"other", old], "luifmcdzuijqmn7n") == 42
    assert read_token([old], "2dffuvatcbifmko4") == 123456
    assert read_token([secret], "2dffuvatcbifmko4") is None
    address = envelope_sender("bounces@example.org", secret, 7)
    assert address.startswith("bounces+") and address.endswith("@example.org")
    assert tokens_in([address.upper().replace("BOUNCES", "bounces")], "bounces@example.org")
    assert tokens_in([address], "other@example.org") == []


def test_classify_reads_files_mbox_and_maildir(cli, tmp_path: Path) -> None:
    """`bounces classify --json` prints one object per message, in order, from single
    messages, an mbox and a Maildir; a path that is none of these is refused in one line."""
    single = tmp_path / "one.eml"
    single.write_bytes(CASES[0].data)
    mbox = tmp_path / "reports.mbox"
    mbox.write_bytes(
        b"".join(
            b"From MAILER-DAEMON Tue Dec  1 09:00:00 2026\n"
            + c.data.replace(b"\nFrom ", b"\n>From ")
            + b"\n"
            for c in CASES[1:3]
        )
    )
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(CASES[3].data)
    result = cli("bounces", "classify", str(single), str(mbox), str(maildir), "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [
        str(single),
        f"{mbox}#1",
        f"{mbox}#2",
        f"{maildir}/1.host",
    ]
    for line, case in zip(lines, CASES[:4], strict=True):
        assert line["kind"] == case.kind
        assert [r["email"] for r in line["recipients"]] == [e.email for e in case.recipients]
        assert set(line["recipients"][0]) == {"email", "status", "action", "reason", "diagnostic"}
    # A folder of saved messages, not a Maildir, is read file by file.
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.eml").write_bytes(CASES[0].data)
    (folder / "b.mbox").write_bytes(mbox.read_bytes())
    plain = cli("bounces", "classify", str(folder), "--json")
    assert [json.loads(line)["file"] for line in plain.stdout.splitlines()] == [
        str(folder / "a.eml"),
        f"{folder / 'b.mbox'}#1",
        f"{folder / 'b.mbox'}#2",
    ]
    # A feedback report naming nobody says what it means for its token's own recipient.
    unnamed = tmp_path / "unnamed.eml"
    unnamed.write_bytes(arf("abuse", None, "undisclosed-recipients:;"))
    [shape] = map(
        json.loads, cli("bounces", "classify", str(unnamed), "--json").stdout.split("\n")[:1]
    )
    assert (shape["recipients"], shape["unnamed"]) == (
        [],
        {"action": "suppress", "reason": "complaint"},
    )
    assert "names nobody" in cli("bounces", "classify", str(unnamed)).stdout


# The loop, with files ---------------------------------------------------------------------


def smtp(port: int) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]


def sent_envelopes(demo, smtp_server, count: int) -> dict[str, str]:
    """Send the demo batch to `count` journalists; each one's envelope sender."""
    sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", str(count), "--yes")
    return {m["to"]: m["mail_from"] for m in sink.received}


def report_for(data: bytes, envelope: str) -> bytes:
    """A fixture report as it comes back for one of our deliveries (to its return path)."""
    return data.replace(RETURN.encode(), envelope.encode())


def three_reports(envelopes: dict[str, str]) -> tuple[list[str], list[bytes]]:
    hard, alert, soft = sorted(envelopes)[:3]
    return [hard, alert, soft], [
        report_for(
            gmail(
                hard, "5.1.1", "550-5.1.1 The email account that you tried to reach does not exist."
            ),
            envelopes[hard],
        ),
        report_for(
            gmail(
                alert,
                "5.7.26",
                "550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy.",
            ),
            envelopes[alert],
        ),
        report_for(
            postfix(soft, "4.2.2", "452 4.2.2 Mailbox full", action="failed"), envelopes[soft]
        ),
    ]


def test_each_message_leaves_with_its_own_return_path(demo, smtp_server, configured) -> None:
    """With [bounces] return_path, every message's envelope sender is bounces+TOKEN@ and
    each token names that message's delivery; From stays the press office."""
    configured()
    envelopes = sent_envelopes(demo, smtp_server, 5)
    assert len(envelopes) == 5 and len(set(envelopes.values())) == 5
    audit = {
        r["email"]: r
        for r in json.loads(demo("batch", "audit", "sahel-civilians", "--json").stdout)
    }
    for address, envelope in envelopes.items():
        (token,) = tokens_in([envelope], "bounces@example.org")
        assert read_token([SECRET.encode()], token) is not None, address
        assert audit[address]["status"] == "sent"
    sink, _port = smtp_server
    assert all(b"From: Press Office <press@example.org>" in m["data"] for m in sink.received)


def test_bounces_read_acts_once_and_keeps_the_list_true(
    demo, smtp_server, configured, tmp_path: Path
) -> None:
    """Reports saved as files: the hard bounce is suppressed with its reason and the server's
    words, the DMARC rejection is a loud sender problem and suppresses nobody, the full
    mailbox is counted; status says what came back; reading again changes nothing;
    `suppress remove` undoes a bounce's suppression."""
    configured()
    envelopes = sent_envelopes(demo, smtp_server, 6)
    (hard, alert, soft), reports = three_reports(envelopes)
    stranger = prose(
        "Thanks for the release.\n", "Re: Sahel", sender="Someone <someone@example.net>"
    )
    folder = tmp_path / "reports"
    folder.mkdir()
    for number, data in enumerate([*reports, stranger], start=1):
        (folder / f"{number}.eml").write_bytes(data)
    first = demo("bounces", "read", *map(str, sorted(folder.iterdir())))
    said = " ".join(first.stderr.split())
    assert "read 4 new report(s): 3 bounce(s)" in said
    assert "1 address(es) suppressed, 1 soft bounce(s) counted, 1 sender problem(s)" in said
    assert f"suppressed {hard}" in said
    assert "sender problem: 1 rejection(s) by example" in said and "for dmarc" in said
    suppressed = {
        r["email"]: r["reason"] for r in json.loads(demo("suppress", "list", "--json").stdout)
    }
    assert list(suppressed) == [hard]
    assert suppressed[hard].startswith("bounce 5.1.1 no-such-user: 550-5.1.1 The email account")
    rows = json.loads(demo("bounces", "list", "--release", "sahel-civilians", "--json").stdout)
    assert sorted((r["email"], r["action"], r["matched_by"]) for r in rows) == sorted(
        [(hard, "suppress", "token"), (alert, "alert", "token"), (soft, "retry", "token")]
    )
    status = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
    assert (status["bounced"], status["complained"], status["auto_replied"]) == (3, 0, 0)
    shown = " ".join(demo("batch", "status", "sahel-civilians").stderr.split())
    assert "came back: 3 bounced (1 address(es) gone)" in shown and "for dmarc" in shown
    again = demo("bounces", "read", *map(str, sorted(folder.iterdir())))
    assert "read 0 new report(s)" in again.stderr and "4 read before" in again.stderr
    assert len(json.loads(demo("bounces", "list", "--json").stdout)) == 4
    assert list(json.loads(demo("suppress", "list", "--json").stdout)) == [
        {
            "email": hard,
            "reason": suppressed[hard],
            "created_at": json.loads(demo("suppress", "list", "--json").stdout)[0]["created_at"],
        }
    ]
    demo("suppress", "remove", hard)
    assert json.loads(demo("suppress", "list", "--json").stdout) == []


def test_soft_bounces_suppress_only_when_repeated_over_releases(
    demo, smtp_server, configured, tmp_path: Path, data_dir: Path
) -> None:
    """Three soft bounces of one address in one release suppress nothing; the third across
    two releases (the default: 3 over 2 releases in 30 days) does."""
    configured()
    sink, port = smtp_server
    envelopes = sent_envelopes(demo, smtp_server, 5)
    address = sorted(envelopes)[0]
    for lang in ("en", "fr"):
        text = (data_dir / "releases" / f"sahel-civilians.{lang}.md").read_text(encoding="utf-8")
        second = tmp_path / f"followup.{lang}.md"
        second.write_text(
            text.replace('slug = "sahel-civilians"', 'slug = "sahel-followup"'), encoding="utf-8"
        )
    demo("release", "add", str(tmp_path / "followup.en.md"), str(tmp_path / "followup.fr.md"))
    before = len(sink.received)
    demo("batch", "send", "sahel-followup", *smtp(port), "--yes")
    second = {m["to"]: m["mail_from"] for m in sink.received[before:]}
    full = [b"452 4.2.2 Mailbox full", b"452 4.2.2 Over quota", b"452 4.2.2 Mailbox full (again)"]

    def soft(envelope: str, words: bytes, name: str) -> Path:
        data = report_for(
            postfix(address, "4.2.2", "452 4.2.2 Mailbox full", action="failed"), envelope
        )
        path = tmp_path / name
        path.write_bytes(data.replace(b"452 4.2.2 Mailbox full", words))
        return path

    demo(
        "bounces",
        "read",
        str(soft(envelopes[address], full[0], "s1.eml")),
        str(soft(envelopes[address], full[1], "s2.eml")),
    )
    assert json.loads(demo("suppress", "list", "--json").stdout) == []
    third = demo("bounces", "read", str(soft(second[address], full[2], "s3.eml")))
    assert f"suppressed {address}" in third.stderr
    (row,) = json.loads(demo("suppress", "list", "--json").stdout)
    assert row["reason"].startswith("repeated soft bounces (3 over 2 releases in 30 days)")


# The loop, with a real IMAP server --------------------------------------------------------


@dataclass
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    cafile: Path

    def client(self):  # type: ignore[no-untyped-def]
        import ssl

        import imapclient

        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.starttls(ssl.create_default_context(cafile=str(self.cafile)))
        client.plain_login(self.user, self.password)
        return client

    def deliver(self, *reports: bytes) -> None:
        with self.client() as client:
            for data in reports:
                client.append("INBOX", data)

    def counts(self) -> dict[str, int]:
        with self.client() as client:
            return {
                name: client.folder_status(name, ["MESSAGES"])[b"MESSAGES"]
                for _flags, _sep, name in client.list_folders()
            }


DOVECOT_CONFIG = """
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={base}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@contextlib.contextmanager
def running_dovecot() -> Iterator[Mailbox]:
    """Dovecot (Debian's package) on loopback with a throwaway config, a self-signed
    certificate, one user and a Maildir; stopped and removed afterwards."""
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        need("Dovecot", "install Debian's dovecot-imapd package")
    assert binary is not None
    base = Path(tempfile.mkdtemp(prefix="civic-dovecot-"))
    base.chmod(0o755)
    cert, key = self_signed(base)
    port = free_port()
    password = "imap-pässword-42"
    (base / "users").write_text(f"bounces:{{PLAIN}}{password}\n", encoding="utf-8")
    (base / "mail").mkdir()
    if os.geteuid() == 0:
        # Dovecot runs nothing as root: its own users log in and hold the mail.
        internal, login = "dovecot", "dovenull"
        for name in (internal, login):
            try:
                pwd.getpwnam(name)
            except KeyError:
                need("Dovecot", f"the {name} user (made by Debian's dovecot-core package)")
        mail_user = internal
        shutil.chown(base / "mail", internal, internal)
        group = internal
    else:
        internal = login = mail_user = getpass.getuser()
        group = str(os.getegid())
    config = base / "dovecot.conf"
    config.write_text(
        DOVECOT_CONFIG.format(
            base=base,
            internal=internal,
            internal_group=group,
            login=login,
            cert=cert,
            key=key,
            port=port,
            mail_user=mail_user,
            mail_group=group,
        ),
        encoding="utf-8",
    )
    # The master forks into the background: its output goes to a file, not a pipe that the
    # daemon would hold open.
    with open(base / "start.log", "wb") as log:
        started = subprocess.run(
            [binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, timeout=60
        )
    assert started.returncode == 0, (base / "start.log").read_text(errors="replace")
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                log = (
                    (base / "dovecot.log").read_text(errors="replace")
                    if (base / "dovecot.log").exists()
                    else ""
                )
                pytest.fail(f"Dovecot did not start: {log[-2000:]}")
            time.sleep(0.1)
    try:
        yield Mailbox("127.0.0.1", port, "bounces", password, cert)
    finally:
        subprocess.run(
            [binary, "-c", str(config), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        time.sleep(0.2)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dovecot() -> Iterator[Mailbox]:
    """A Dovecot of its own for the test (see `running_dovecot`)."""
    with running_dovecot() as box:
        yield box


def mailbox_config(box: Mailbox) -> str:
    return (
        f'host = "{box.host}"\nport = {box.port}\nsecurity = "starttls"\nuser = "{box.user}"\n'
        f'cafile = "{box.cafile}"\n'
    )


@pytest.mark.slow
def test_bounces_fetch_from_a_real_imap_server(
    demo, smtp_server, configured, dovecot: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch sent through the SMTP server; reports for three of its deliveries delivered to
    the bounce mailbox (Dovecot) with a person's reply beside them: `bounces fetch` marks the
    right deliveries, suppresses the hard bounce (who then gets no correction notice), reports
    the alert, moves the reports it acted on, leaves the reply, deletes nothing; a second
    fetch changes nothing."""
    configured(mailbox_config(dovecot))
    monkeypatch.setenv("CIVIC_CONTACTS_BOUNCES_PASSWORD", dovecot.password)
    envelopes = sent_envelopes(demo, smtp_server, 6)
    (hard, alert, soft), reports = three_reports(envelopes)
    reply = prose(
        "Could we talk to Mariam Diallo?\n", "Re: Sahel", sender="Reader <reader@example.net>"
    )
    dovecot.deliver(*reports, reply)
    fetched = demo("bounces", "fetch")
    said = " ".join(fetched.stderr.split())
    assert "read 4 new report(s): 3 bounce(s)" in said
    assert f"suppressed {hard}" in said and "for dmarc" in said
    assert "1 message(s) left in INBOX" in said
    assert dovecot.counts() == {"INBOX": 1, "Processed": 3}
    rows = json.loads(demo("bounces", "list", "--json").stdout)
    assert sorted((r["email"], r["outcome"]) for r in rows if r["email"]) == sorted(
        [(hard, "suppressed"), (alert, "alerted"), (soft, "counted")]
    )
    again = demo("bounces", "fetch")
    assert "read 0 new report(s)" in again.stderr
    assert dovecot.counts() == {"INBOX": 1, "Processed": 3}
    assert len(json.loads(demo("bounces", "list", "--json").stdout)) == len(rows)
    # The next notice (a correction) goes to everyone who was sent the release but the
    # address that bounced.
    from tests.deliver.test_notices import release_file

    files = [
        release_file(tmp_path, demo, lang, body="A corrected paragraph.\n\nThe rest of it.\n")
        for lang in ("en", "fr")
    ]
    demo("release", "update", *map(str, files))
    demo(
        "notice",
        "build",
        "sahel-civilians",
        "--kind",
        "correction",
        "--out",
        str(tmp_path / "corr"),
    )
    manifest = (tmp_path / "corr" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    told = {json.loads(line)["email"] for line in manifest}
    assert told == set(envelopes) - {hard}


@pytest.mark.slow
def test_two_fetches_at_once_act_on_each_report_once(
    demo, smtp_server, configured, dovecot: Mailbox, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """Two runs reading the same mailbox at the same moment: each report is recorded and
    acted on once, and every message ends in one folder or the other."""
    from civic_contacts.after.mailbox import Sink, fetch, imap_settings
    from civic_contacts.after.returns import SoftPolicy
    from civic_contacts.config import load_settings
    from civic_contacts.db import make_engine, session_factory

    configured(mailbox_config(dovecot))
    monkeypatch.setenv("CIVIC_CONTACTS_BOUNCES_PASSWORD", dovecot.password)
    envelopes = sent_envelopes(demo, smtp_server, 12)
    reports = [
        report_for(
            gmail(
                address,
                "5.1.1",
                "550-5.1.1 The email account that you tried to reach does not exist.",
            ),
            envelope,
        )
        for address, envelope in sorted(envelopes.items())
    ]
    dovecot.deliver(*reports)
    settings = load_settings(db_url)
    imap = imap_settings(settings)
    engine = make_engine(db_url)
    outcomes = []

    def run() -> None:
        sink = Sink(
            session_factory(engine), "bounces@example.org", [SECRET.encode()], SoftPolicy(), set()
        )
        outcomes.append(fetch(imap, sink))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    engine.dispose()
    assert len(outcomes) == 2
    assert sum(len(o.suppressed) for o in outcomes) == 12
    rows = json.loads(demo("bounces", "list", "--json").stdout)
    assert len(rows) == 12 and len({r["email"] for r in rows}) == 12
    assert dovecot.counts() == {"INBOX": 0, "Processed": 12}


def test_a_missing_or_unsafe_mailbox_setting_is_one_line(
    demo, configured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No host, no password, or a password in clear to another machine: one line, exit 2."""
    configured()
    result = demo("bounces", "fetch", expect=2)
    assert result.stderr.startswith("error: no bounce mailbox: set host, user in [bounces]")
    configured('host = "imap.example.org"\nuser = "bounces"\nsecurity = "none"\n')
    monkeypatch.setenv("CIVIC_CONTACTS_BOUNCES_PASSWORD", "x")
    result = demo("bounces", "fetch", expect=2)
    assert "security none would send the mailbox password in clear" in result.stderr
    monkeypatch.delenv("CIVIC_CONTACTS_BOUNCES_PASSWORD")
    configured('host = "imap.example.org"\nuser = "bounces"\n')
    assert "CIVIC_CONTACTS_BOUNCES_PASSWORD" in demo("bounces", "fetch", expect=2).stderr


def test_complaints_suppress_and_leavers_are_listed_for_review(
    demo, smtp_server, configured, tmp_path: Path
) -> None:
    """A feedback report (ARF) suppresses its reader; an auto-reply saying the journalist
    left, with another address, changes nothing but is listed by `journalist review`; a plain
    out-of-office is only noted."""
    from tests.bounce_cases import CASES as ALL

    configured()
    envelopes = sent_envelopes(demo, smtp_server, 6)
    complainer, leaver, away = sorted(envelopes)[:3]
    by_name = {c.name: c.data for c in ALL}
    reports = {
        "arf.eml": report_for(by_name["arf-abuse"], envelopes[complainer]).replace(
            b"angry@example.com", complainer.encode()
        ),
        "left.eml": report_for(by_name["left-english"], envelopes[leaver]).replace(
            b"tom.hughes@example.org", leaver.encode()
        ),
        "ooo.eml": report_for(by_name["ooo-english"], envelopes[away]).replace(
            b"grace.mensah@example.net", away.encode()
        ),
    }
    for name, data in reports.items():
        (tmp_path / name).write_bytes(data)
    said = demo("bounces", "read", *(str(tmp_path / n) for n in reports)).stderr
    assert "1 complaint(s)" in said and "2 auto-reply(ies)" in said
    assert "1 journalist(s) left and gave another address" in said
    (row,) = json.loads(demo("suppress", "list", "--json").stdout)
    assert row["email"] == complainer and row["reason"].startswith(
        "complaint (complaint, feedback-type: abuse"
    )
    (task,) = json.loads(demo("journalist", "review", "--json").stdout)
    assert (task["email"], task["new_address"]) == (leaver, "newsdesk@worlddesk.example.org")
    journalists = {j["email"] for j in json.loads(demo("journalist", "list", "--json").stdout)}
    assert leaver in journalists and "newsdesk@worlddesk.example.org" not in journalists
    status = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
    assert (status["complained"], status["auto_replied"], status["bounced"]) == (1, 2, 0)


@pytest.mark.parametrize(
    "padding",
    [
        "x" * 80_000,  # a run of local-part characters with no "@": 15 s before, quadratic
        "joe.bloggs" * 30_000,
        "<" * 300_000,  # tags that never close
        "<script>" * 40_000,  # scripts that never end
    ],
)
@pytest.mark.parametrize("kind", ["plain", "html"])
def test_a_huge_hostile_report_is_read_in_one_pass(padding: str, kind: str) -> None:
    """A report padded with text built to make pattern matching slow is classified, its
    recipient found, reading at most the first 64 KB of each part and in one pass: it is done
    long before the generous bound here (it takes hundredths of a second; quadratic reading
    took minutes at these sizes)."""
    import threading

    body = "This is the mail system. 550 5.1.1 <jdoe@example.com>: user unknown\r\n" + padding
    if kind == "html":
        body = "<html><body><p>" + body.replace("<jdoe", "&lt;jdoe").replace(".com>", ".com&gt;")
    data = (
        "From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Content-Type: text/{kind}; charset=utf-8\r\n\r\n{body}"
    ).encode()
    found: list = []
    reader = threading.Thread(target=lambda: found.append(classify(data)), daemon=True)
    reader.start()
    reader.join(10)
    assert found, "classifying one report ran past 10 s"
    assert [r.email for r in found[0].recipients] == ["jdoe@example.com"]


def test_poison_values_in_a_report_are_stored_safely(cli, tmp_path: Path) -> None:
    """A forged report naming a recipient of 400 characters, with a NUL in its subject and
    its diagnostic, is recorded (PostgreSQL refuses NULs and over-long values, which ended
    every `bounce read` with "the database failed"); the over-long address is never acted
    on, and the next report is read as usual."""
    local = "a" * 390
    (tmp_path / "poison.eml").write_bytes(
        (
            "From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
            "Subject: Undelivered Mail \x00 Returned to Sender\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed \x00 here.\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {local}@example.com\r\nAction: failed\r\n"
            "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such \x00 user\r\n"
            "--b--\r\n"
        ).encode()
    )
    (tmp_path / "plain.eml").write_bytes(
        b"From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"550 5.1.1 <jdoe@example.com>: user unknown\r\n"
    )
    cli("bounce", "read", str(tmp_path / "poison.eml"), str(tmp_path / "plain.eml"))
    rows = json.loads(cli("bounce", "list", "--json").stdout)
    long_row = next(r for r in rows if r["email"].startswith("aaaa"))
    assert len(long_row["email"]) == 320 and long_row["action"] == "none"
    assert "\x00" not in long_row["diagnostic"]
    suppressed = [r["email"] for r in json.loads(cli("suppress", "list", "--json").stdout)]
    assert not any(s.startswith("aaaa") for s in suppressed)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_mailbox_that_fails_or_floods_is_one_line_and_bounded(
    cli, configured, dovecot: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against a real Dovecot: a folder that does not exist is one line naming it, exit 2
    (it was a traceback); a 3 MB report is read as its first megabyte and classified;
    a report naming 15 recipients (over the 10 allowed) goes to review (left in the folder), never acted on."""
    monkeypatch.setenv("CIVIC_CONTACTS_BOUNCES_PASSWORD", dovecot.password)
    configured(mailbox_config(dovecot) + 'folder = "Nope"\n')
    refused = cli("bounce", "fetch", expect=2)
    said = " ".join(refused.stderr.split())
    assert "failed while opening the folder Nope" in said and "Traceback" not in said
    configured(mailbox_config(dovecot))
    huge = postfix("jdoe@example.com", "5.1.1", "550 5.1.1 <jdoe@example.com>: user unknown")
    huge = huge.replace(b"\r\n\r\n", b"\r\nX-Padding: yes\r\n\r\n", 1) + b"x" * (3 * 1024 * 1024)
    many = "\r\n".join(
        f"550 5.1.1 <person{n}@example.com>: user unknown" for n in range(15)
    ).encode()
    flood = (
        b"From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nContent-Type: text/plain\r\n\r\n"
        + many
        + b"\r\n"
    )
    dovecot.deliver(huge, flood)
    fetched = cli("bounce", "fetch")
    assert "read 2 new report(s): 2 bounce(s)" in " ".join(fetched.stderr.split())
    rows = json.loads(cli("bounce", "list", "--json").stdout)
    reviewed = [r for r in rows if r["email"].startswith("person")]
    assert len(reviewed) == 15 and all(r["action"] == "none" for r in reviewed)
    assert all(r["reason"] == "review: names 15" for r in reviewed)
    # The huge one was read (its first megabyte is its whole report) and classified.
    assert any(r["email"] == "jdoe@example.com" and r["action"] == "suppress" for r in rows)
    suppressed = json.loads(cli("suppress", "list", "--json").stdout)
    assert not any(s["email"].startswith("person") for s in suppressed)
    # Neither names a delivery of ours, and one is for review: both stay where they were.
    assert dovecot.counts()["INBOX"] == 2


def test_a_report_that_takes_too_long_to_read_is_set_aside() -> None:
    """Reading a report has a time budget: past it, the report is unreadable (set aside,
    never acted on) instead of holding the mailbox; within it, the same report is read."""
    from civic_contacts.after.returns import classify_within

    big = (
        b"From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nContent-Type: text/plain\r\n\r\n"
        b"550 5.1.1 <jdoe@example.com>: user unknown\r\n" + b"word " * 200_000
    )
    import threading

    let_go = threading.Event()

    def stuck(data: bytes, ours: set[str] | None) -> Report:
        let_go.wait(30)  # a reading that has not ended when the budget is up
        return classify(data, ours)

    try:
        assert classify_within(big, budget=0.05, reader=stuck) is None
    finally:
        let_go.set()
    read = classify_within(big)
    assert read is not None and [r.email for r in read.recipients] == ["jdoe@example.com"]


class FakeImap:
    """A hostile IMAP server on loopback: it greets and takes the login like any other, then,
    at the first command after it, drips its answer a byte every half second ("drip"), or
    hangs up mid-answer ("drop"), or answers NO ("no"). Bounded: it serves one connection
    and stops when the test ends."""

    def __init__(self, mode: str) -> None:
        import socket
        import threading

        self.mode = mode
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        import contextlib

        with contextlib.suppress(OSError):
            connection, _peer = self.listener.accept()
            connection.settimeout(10)
            reader = connection.makefile("rb")
            if self.mode == "greeting":  # a greeting that never ends, a byte at a time
                while not self.done.wait(0.5):
                    connection.sendall(b"*")
                return
            connection.sendall(b"* OK [CAPABILITY IMAP4rev1] fake\r\n")
            while not self.done.is_set():
                line = reader.readline()
                if not line:
                    return
                tag, _space, command = line.decode("ascii", "replace").partition(" ")
                verb = command.split(" ", 1)[0].upper().strip()
                if verb == "CAPABILITY":
                    connection.sendall(
                        b"* CAPABILITY IMAP4rev1\r\n" + f"{tag} OK done\r\n".encode()
                    )
                elif verb == "LOGIN":
                    connection.sendall(f"{tag} OK logged in\r\n".encode())
                elif verb == "LOGOUT":
                    connection.sendall(f"* BYE\r\n{tag} OK bye\r\n".encode())
                    return
                elif self.mode == "no":
                    connection.sendall(f"{tag} NO not today\r\n".encode())
                elif self.mode == "drop":
                    connection.sendall(b'* LIST (\\HasNoChildren) "/" "Proc')
                    connection.close()
                    return
                else:  # drip: a byte every half second, for as long as anyone listens
                    for byte in b'* LIST (\\HasNoChildren) "/" "Processed"\r\n' * 100:
                        if self.done.wait(0.5):
                            return
                        connection.sendall(bytes([byte]))

    def close(self) -> None:
        self.done.set()
        self.listener.close()
        self.thread.join(5)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("drip", "the run's 2 seconds were up"),
        ("drop", "failed while opening the folders"),
        ("no", "failed while opening the folders"),
        ("greeting", "no answer within the run's 2 seconds"),
    ],
)
def test_a_hostile_imap_server_ends_the_run_with_one_line(engine, mode: str, said: str) -> None:
    """A server that drips its answer a byte at a time is cut at the run's time limit (each
    byte kept the per-read timeout alive before); one that hangs up mid-answer, or answers NO,
    fails the run saying what failed: never a traceback, never "read 0 new report(s)". A
    greeting dripped forever is cut at the same limit."""
    import datetime as dt

    from civic_contacts.after.mailbox import ImapSettings, MailboxError, Sink, fetch
    from civic_contacts.after.returns import SoftPolicy
    from civic_contacts.db import session_factory
    from civic_contacts.errors import InputError

    server = FakeImap(mode)
    try:
        imap = ImapSettings("127.0.0.1", server.port, "none", "bounces", "secret-password")
        sink = Sink(session_factory(engine), None, [], SoftPolicy(), set())
        with pytest.raises(InputError) as failed:
            fetch(imap, sink, run_limit=dt.timedelta(seconds=2))
    finally:
        server.close()
    assert said in failed.value.message
    if mode != "greeting":
        assert isinstance(failed.value, MailboxError)
        assert "0 report(s) read before that are recorded" in failed.value.message


@pytest.mark.parametrize(
    ("subject", "text", "new"),
    [
        (
            "Réponse automatique",
            "Bonjour, j'ai quitté le journal fin novembre. Écrivez à desk@hebdo.example.net.",
            "desk@hebdo.example.net",
        ),
        (
            "Absence",
            "Mme Diallo ne fait plus partie de la rédaction ; contact : info@radio.example.org",
            "info@radio.example.org",
        ),
        (
            "Automatisch antwoord",
            "Ik werk niet meer bij de krant. Mail voortaan naar redactie@krant.example.nl.",
            "redactie@krant.example.nl",
        ),
        (
            "Automatische Antwort",
            "Frau Weber ist nicht mehr bei der Zeitung. Bitte schreiben Sie an news@zeitung.example.de.",
            "news@zeitung.example.de",
        ),
        (
            "Respuesta automática",
            "Ya no trabajo en el diario. Escriba a redaccion@diario.example.es.",
            "redaccion@diario.example.es",
        ),
        (
            "Resposta automática",
            "Já não trabalho no jornal. Escreva para redacao@jornal.example.pt.",
            "redacao@jornal.example.pt",
        ),
    ],
    ids=["fr-quitte", "fr-plus-partie", "nl", "de", "es", "pt"],
)
def test_left_auto_replies_in_the_languages_of_our_lists(subject: str, text: str, new: str) -> None:
    """'I have left' in French, Dutch, German, Spanish and Portuguese offers the new address
    for review, as in English; never suppressed."""
    report = classify(auto_reply("Reporter <reporter@example.com>", subject, text + "\n"), OURS)
    assert report.kind == "auto-reply"
    assert [(r.email, r.action, r.reason) for r in report.recipients] == [
        ("reporter@example.com", "none", "left")
    ]
    assert report.new_address == new


def test_an_ordinary_absence_is_not_leaving() -> None:
    """'Je suis absent jusqu'au 12' is an absence: no review, no new address."""
    report = classify(
        auto_reply(
            "Reporter <reporter@example.com>",
            "Absence",
            "Je suis absent jusqu'au 12 décembre. En cas d'urgence : desk@example.net\n",
        ),
        OURS,
    )
    assert [(r.action, r.reason) for r in report.recipients] == [("none", "auto-reply")]


@pytest.mark.slow
def test_a_report_filed_back_or_read_under_another_host_name_acts_once(
    demo, smtp_server, configured, dovecot: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a fetch, the processed report is copied back into the inbox (a new UID) and the
    mailbox is read as `localhost` instead of 127.0.0.1: nothing is counted twice."""
    configured(mailbox_config(dovecot))
    monkeypatch.setenv("CIVIC_CONTACTS_BOUNCES_PASSWORD", dovecot.password)
    envelopes = sent_envelopes(demo, smtp_server, 3)
    soft = sorted(envelopes)[0]
    report = report_for(
        postfix(soft, "4.2.2", "452 4.2.2 Mailbox full", action="failed"), envelopes[soft]
    )
    dovecot.deliver(report)
    assert "read 1 new report(s)" in demo("bounces", "fetch").stderr
    dovecot.deliver(report)
    renamed = mailbox_config(dovecot).replace(f'host = "{dovecot.host}"', 'host = "localhost"')
    configured(renamed)
    again = " ".join(demo("bounces", "fetch").stderr.split())
    assert "read 0 new report(s)" in again and "1 read before" in again, again
    rows = json.loads(demo("bounces", "list", "--json").stdout)
    assert [(r["email"], r["outcome"]) for r in rows] == [(soft, "counted")]
    assert dovecot.counts() == {"INBOX": 0, "Processed": 2}
