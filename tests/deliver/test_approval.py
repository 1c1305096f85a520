"""Approval by a second person, as the core keeps it for every caller: once the desk has
users, an embargoed batch or notice goes out only after an approver other than its builder
approves that exact build; a rebuild withdraws the approval; `[web] require_approval = false`
lifts the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from civic_contacts.db import make_engine, session_factory
from civic_contacts.registry.models import Batch, Change, User
from tests.desk.conftest import PASSWORDS, add_people

RELEASE = "sahel-civilians"


def smtp(port: int) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]


@pytest.fixture
def team(demo, db_url: str):
    """The demo registry with desk users (so the rule holds), its batch built by the system
    user."""
    engine = make_engine(db_url)
    add_people(engine)
    yield demo, engine
    engine.dispose()


def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(path))


def test_an_unapproved_embargoed_batch_is_not_sent(team, smtp_server) -> None:
    """`batch send` refuses with a line naming the rule and how to approve; nothing goes."""
    cli, _engine = team
    sink, port = smtp_server
    refused = cli("batch", "send", RELEASE, *smtp(port), "--yes", expect=2)
    assert "embargoed and not approved; nothing was sent" in refused.stderr
    assert f"batch approve {RELEASE} --user NAME" in refused.stderr
    assert sink.received == []


def test_an_approver_approves_then_it_is_sent(team, smtp_server) -> None:
    """After Ben approves (password asked), the send goes; the approval is in the history."""
    cli, engine = team
    sink, port = smtp_server
    said = cli("batch", "approve", RELEASE, "--user", "ben", input=PASSWORDS["ben"] + "\n")
    assert "approved by ben" in said.stderr
    cli("batch", "send", RELEASE, *smtp(port), "--yes")
    assert len(sink.received) == 41
    with session_factory(engine)() as session:
        change = session.scalars(select(Change).where(Change.action == "approved")).one()
        assert change.key == RELEASE and change.fields["by"] == "ben"


def test_a_rebuild_withdraws_the_approval(team, smtp_server, tmp_path: Path) -> None:
    """Approved, then built again: the new build is not approved and is not sent."""
    cli, _engine = team
    sink, port = smtp_server
    cli("batch", "approve", RELEASE, "--user", "ben", input=PASSWORDS["ben"] + "\n")
    cli("batch", "build", RELEASE, "--out", str(tmp_path / "again"))
    refused = cli("batch", "send", RELEASE, *smtp(port), "--yes", expect=2)
    assert "not approved" in refused.stderr and sink.received == []


def test_nobody_approves_their_own_build(
    team, smtp_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built by Ben (the history's officer): Ben's approval is refused, Ada's (admin) holds."""
    cli, engine = team
    config(tmp_path, monkeypatch, 'officer = "ben"\n')
    cli("batch", "build", RELEASE, "--out", str(tmp_path / "ben"))
    refused = cli(
        "batch", "approve", RELEASE, "--user", "ben", input=PASSWORDS["ben"] + "\n", expect=2
    )
    assert "ben built it, so someone else approves it" in refused.stderr
    cli("batch", "approve", RELEASE, "--user", "ada", input=PASSWORDS["ada"] + "\n")
    with session_factory(engine)() as session:
        batch = session.scalars(select(Batch)).one()
        assert (batch.built_by, batch.approved_by) == ("ben", "ada")


def test_an_officer_or_a_wrong_password_approves_nothing(team) -> None:
    """Ana is an officer: refused. A wrong password is refused and counted for throttling."""
    cli, engine = team
    officer = cli(
        "batch", "approve", RELEASE, "--user", "ana", input=PASSWORDS["ana"] + "\n", expect=2
    )
    assert "only an approver or admin approves" in officer.stderr
    wrong = cli("batch", "approve", RELEASE, "--user", "ben", input="not his password\n", expect=2)
    assert "wrong name or password" in wrong.stderr
    with session_factory(engine)() as session:
        ben = session.scalar(select(User).where(User.name == "ben"))
        assert ben.failed_logins == 1
        assert session.scalars(select(Batch)).one().approved_by is None


def test_the_rule_can_be_turned_off(
    team, smtp_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `[web] require_approval = false` the batch goes without an approval."""
    cli, _engine = team
    sink, port = smtp_server
    config(tmp_path, monkeypatch, "[web]\nrequire_approval = false\n")
    cli("batch", "send", RELEASE, *smtp(port), "--yes")
    assert len(sink.received) == 41


def test_a_notice_needs_its_own_approval(team, smtp_server, tmp_path: Path) -> None:
    """A reminder before the lift is embargoed material too: refused until approved."""
    cli, _engine = team
    sink, port = smtp_server
    cli("batch", "approve", RELEASE, "--user", "ben", input=PASSWORDS["ben"] + "\n")
    cli("batch", "send", RELEASE, *smtp(port), "--yes")
    cli("notice", "build", RELEASE, "--kind", "reminder", "--out", str(tmp_path / "reminder"))
    refused = cli("notice", "send", RELEASE, "--kind", "reminder", *smtp(port), "--yes", expect=2)
    assert (
        "reminder notice of sahel-civilians" in refused.stderr and "not approved" in refused.stderr
    )
    cli(
        "notice",
        "approve",
        RELEASE,
        "--kind",
        "reminder",
        "--user",
        "ben",
        input=PASSWORDS["ben"] + "\n",
    )
    cli("notice", "send", RELEASE, "--kind", "reminder", *smtp(port), "--yes")
    assert len(sink.received) == 82


def test_a_scheduled_send_is_refused_now_not_at_the_hour(team, smtp_server) -> None:
    """`batch send --at` checks the approval before it waits."""
    import datetime as dt

    cli, _engine = team
    _sink, port = smtp_server
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    refused = cli("batch", "send", RELEASE, *smtp(port), "--at", at, "--yes", expect=2)
    assert "not approved" in refused.stderr and "waiting" not in refused.stderr


def test_a_one_time_password_approves_nothing(team) -> None:
    """Until they choose their own password, a new approver's one-time one (which whoever
    gave it knows) approves nothing."""
    cli, _engine = team
    once = cli("user", "add", "nia", "--role", "approver").stdout.strip()
    refused = cli("batch", "approve", RELEASE, "--user", "nia", input=once + "\n", expect=2)
    assert "one-time password" in refused.stderr
