"""A real mail system on loopback for the tests: Postfix (Debian's package) between the tool and
the mailboxes, Dovecot holding them (LMTP in, IMAP out, SASL for submission).

Local-only and throwaway: Postfix listens on 127.0.0.1 only, delivers the test's domains to
Dovecot by LMTP and everything else to an error transport (never outside); its own config,
queue and log live in a temporary folder, removed afterwards. Dovecot knows only the users it
is given: LMTP refuses any other with 550 5.1.1, so Postfix writes the bounce itself. One
address can be routed to an error transport (a dead domain) and one to a retry transport (a
deferral); the queue lifetime is zero, so a deferred message comes back at once.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, need, self_signed

POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"

MAIN_CF = """
compatibility_level = 3.6
queue_directory = {base}/spool
data_directory = {base}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.example.org
mydomain = example.org
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = {domains}
virtual_transport = lmtp:inet:127.0.0.1:{lmtp}
transport_maps = texthash:{base}/transport
default_transport = error:5.7.1 this test system delivers nothing outside
smtpd_reject_unlisted_recipient = no
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject
recipient_delimiter = +
smtputf8_enable = yes
maximal_queue_lifetime = 0
bounce_queue_lifetime = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0h
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth}
smtpd_sasl_auth_enable = no
"""

MASTER_CF = """
127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{submission} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""

DOVECOT_CONF = """
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 1
first_valid_gid = 1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain login
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {base}/users
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
service auth {{
  inet_listener {{
    address = 127.0.0.1
    port = {auth}
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class MailSystem:
    """Where the tool sends and reads: Postfix's relay port (loopback clients may relay),
    its submission port (STARTTLS and a login), and Dovecot's IMAP."""

    base: Path
    smtp_port: int
    submission_port: int
    imap_port: int
    cafile: Path
    password: str  # every user's, for IMAP and for submission

    def log(self) -> str:
        found = [self.base / "postfix" / "maillog", self.base / "dovecot" / "dovecot.log"]
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in found if p.exists())

    def queue_is_empty(self) -> bool:
        shown = subprocess.run(
            ["/usr/sbin/postqueue", "-c", str(self.base / "postfix"), "-j"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return shown.returncode == 0 and not shown.stdout.strip()


def _need_the_parts() -> None:
    if not Path(POSTFIX).exists():
        need("Postfix", "install Debian's postfix package")
    if not Path(DOVECOT).exists() or not Path("/usr/lib/dovecot/lmtp").exists():
        need("Dovecot", "install Debian's dovecot-imapd and dovecot-lmtpd packages")
    if os.geteuid() != 0:
        need("Postfix", "root, to start a throwaway Postfix (its master runs as root)")
    for user in ("postfix", "dovecot", "dovenull"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            need("Postfix", f"the {user} user (made by Debian's postfix and dovecot packages)")


def _wait_for(port: int, what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                said = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                pytest.fail(f"{what} did not start: {said}")
            time.sleep(0.1)


@contextlib.contextmanager
def running_mail_system(
    domains: list[str],
    users: list[str],
    dead: dict[str, str] | None = None,
    deferred: dict[str, str] | None = None,
) -> Iterator[MailSystem]:
    """Postfix and Dovecot for `domains`, with mailboxes for the local parts in `users` (and
    `bounces`); `dead` maps addresses to an error transport's words, `deferred` to a retry
    transport's."""
    _need_the_parts()
    base = Path(tempfile.mkdtemp(prefix="civic-mta-"))
    base.chmod(0o755)
    postfix_dir, dovecot_dir = base / "postfix", base / "dovecot"
    for folder in (postfix_dir, dovecot_dir, dovecot_dir / "mail"):
        folder.mkdir()
    cert, key = self_signed(base)
    password = "mta-pässword-7"
    ports = {name: free_port() for name in ("smtp", "submission", "imap", "lmtp", "auth")}
    owner = pwd.getpwnam("dovecot")
    (dovecot_dir / "users").write_text(
        "".join(
            f"{u}:{{PLAIN}}{password}:{owner.pw_uid}:{owner.pw_gid}::{dovecot_dir}/mail/{u}::\n"
            for u in sorted({*users, "bounces"})
        ),
        encoding="utf-8",
    )
    shutil.chown(dovecot_dir / "mail", "dovecot", "dovecot")
    dovecot_conf = dovecot_dir / "dovecot.conf"
    dovecot_conf.write_text(
        DOVECOT_CONF.format(base=dovecot_dir, cert=cert, key=key, **ports), encoding="utf-8"
    )
    transport = [f"{a} error:{words}" for a, words in (dead or {}).items()]
    transport += [f"{a} retry:{words}" for a, words in (deferred or {}).items()]
    (postfix_dir / "transport").write_text("\n".join(transport) + "\n", encoding="utf-8")
    (postfix_dir / "main.cf").write_text(
        MAIN_CF.format(base=postfix_dir, domains=", ".join(domains), cert=cert, key=key, **ports),
        encoding="utf-8",
    )
    (postfix_dir / "master.cf").write_text(MASTER_CF.format(**ports), encoding="utf-8")
    for name in ("spool", "data"):
        (postfix_dir / name).mkdir()
    shutil.chown(postfix_dir / "data", "postfix", "postfix")
    with open(dovecot_dir / "start.log", "wb") as log:
        started = subprocess.run(
            [DOVECOT, "-c", str(dovecot_conf)], stdout=log, stderr=subprocess.STDOUT, timeout=60
        )
    assert started.returncode == 0, (dovecot_dir / "start.log").read_text(errors="replace")
    config = ["-c", str(postfix_dir)]
    try:
        _wait_for(ports["lmtp"], "Dovecot", dovecot_dir / "dovecot.log")
        with open(postfix_dir / "start.log", "wb") as log:
            prepared = subprocess.run(
                [POSTFIX, *config, "set-permissions"],
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
            )
            started = subprocess.run(
                [POSTFIX, *config, "start"], stdout=log, stderr=subprocess.STDOUT, timeout=120
            )
        said = (postfix_dir / "start.log").read_text(errors="replace")
        assert prepared.returncode == 0 and started.returncode == 0, said
        _wait_for(ports["smtp"], "Postfix", postfix_dir / "maillog")
        yield MailSystem(base, ports["smtp"], ports["submission"], ports["imap"], cert, password)
    finally:
        subprocess.run([POSTFIX, *config, "stop"], capture_output=True, timeout=120, check=False)
        subprocess.run([DOVECOT, "-c", str(dovecot_conf), "stop"], capture_output=True, timeout=60)
        time.sleep(0.2)
        if not os.environ.get("CIVIC_KEEP_MTA"):
            shutil.rmtree(base, ignore_errors=True)
