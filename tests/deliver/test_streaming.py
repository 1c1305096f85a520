"""A batch of any size is planned, recorded and sent a piece at a time: the deliveries are
brought in line with the registry chunk by chunk, and a send whose batch still matches the
registry starts without routing the list again. (How fast and how much memory is measured by
bench/bench_scale.py, not asserted here.)"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from civic_contacts.config import load_settings
from civic_contacts.db import session_factory
from civic_contacts.deliver import build, plan, prepare, reconcile
from civic_contacts.deliver.recipients import Identity
from civic_contacts.deliver.send import send_batch
from civic_contacts.deliver.sender import SendOptions
from civic_contacts.deliver.transport import MemoryTransport
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Delivery, Journalist
from tests.deliver.test_send import make_registry


def version(engine: Engine) -> str | None:
    with session_factory(engine)() as session:
        return registry.registry_version(session)


def test_registry_version_moves_with_every_registry_change_and_only_then(
    cli, engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    """Each kind of change to who is mailed, or to what their messages say, gives the registry
    a new version; reading, building and releases leave it as it is."""
    seen = [version(engine)]

    def changed(*args: str) -> None:
        cli(*args)
        now = version(engine)
        assert now is not None and now not in seen, args
        seen.append(now)

    def unchanged(*args: str) -> None:
        cli(*args)
        assert version(engine) == seen[-1], args

    changed("office", "import", str(data_dir / "offices.csv"))
    changed("contact", "import", str(data_dir / "contacts.csv"))
    changed("outlet", "import", str(data_dir / "outlets.csv"))
    changed("journalist", "import", str(data_dir / "journalists.csv"))
    unchanged("journalist", "list", "--json")
    unchanged("release", "add", *map(str, sorted((data_dir / "releases").glob("*.md"))))
    changed("suppress", "add", "adama.kone@example.com", "--reason", "asked")
    changed("suppress", "remove", "adama.kone@example.com")
    contact = cli("contact", "list", "--json").stdout
    first = __import__("json").loads(contact)[0]["email"]
    changed("contact", "edit", first, "--rank", "9")
    unchanged("contact", "edit", first, "--rank", "9")


def _emails(engine: Engine, status: str) -> set[str]:
    with session_factory(engine)() as session:
        return set(session.scalars(select(Delivery.email).where(Delivery.status == status)).all())


def test_deliveries_are_reconciled_a_chunk_at_a_time(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With chunks of 7, a rebuild after two journalists left and one arrived adds exactly the
    newcomer, cancels exactly the two, and keeps every other message as it was."""
    make_registry(db_url, outlets=6, per_outlet=9)
    settings = load_settings(db=db_url)
    monkeypatch.setattr(reconcile.Reconciler, "CHUNK", 7)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        first = build.build_batch(session, "sahel-civilians", None, plan.BuildOptions(), settings)
    assert first.messages == 54 and first.recorded.added == 54 and first.pending == 54
    with factory() as session:
        hashes = dict(session.execute(select(Delivery.email, Delivery.content_hash)).all())
    with factory() as session, session.begin():
        gone = session.scalars(select(Journalist).order_by(Journalist.id).limit(2)).all()
        left = {j.email for j in gone}
        for journalist in gone:
            registry.remove_journalist(session, journalist.email)
        outlet = session.scalar(select(Journalist.outlet_id).limit(1))
        session.add(
            Journalist(outlet_id=outlet, name="Newcomer Person", email="newcomer@example.com")
        )
    monkeypatch.setattr(reconcile.Reconciler, "CHUNK", 3)
    with factory() as session, session.begin():
        again = build.build_batch(session, "sahel-civilians", None, plan.BuildOptions(), settings)
    assert (again.recorded.added, again.recorded.cancelled) == (1, 2)
    assert again.recorded.unchanged == 52 and again.recorded.rerendered == 0
    assert _emails(engine, "cancelled") == left
    with factory() as session:
        now = dict(session.execute(select(Delivery.email, Delivery.content_hash)).all())
    assert {e: h for e, h in now.items() if e in hashes} == hashes
    assert "newcomer@example.com" in _emails(engine, "pending")


def test_a_large_outlet_is_planned_a_piece_at_a_time_with_the_same_messages(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With pieces of 4, outlets of 9 come in three pieces each: no piece is larger, each
    outlet still has one line in the summary counting all its journalists, and every message
    is byte for byte what planning whole outlets makes."""
    make_registry(db_url, outlets=3, per_outlet=9)
    settings = load_settings(db=db_url)
    factory = session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    options = plan.BuildOptions(now=now)

    def built(folder: str) -> tuple[list[tuple[str, int]], dict[str, bytes]]:
        with factory() as session, session.begin():
            report = build.build_batch(
                session, "sahel-civilians", tmp_path / folder, options, settings
            )
            assert report.messages == 27
            lines = [(o.slug, o.recipients) for o in report_outlets(session, options)]
            session.rollback()
        files = {
            str(p.relative_to(tmp_path / folder)): p.read_bytes()
            for p in (tmp_path / folder).rglob("*.eml")
        }
        return lines, files

    def report_outlets(session: Session, options: plan.BuildOptions) -> list[plan.OutletSummary]:
        """The plan's outlet lines, as the summary and the preview show them."""
        identity = Identity.from_settings(settings)
        planned, _planner = plan.plan_batch(session, "sahel-civilians", identity, options, now)
        list(planned.messages())
        return [o for o in planned.outlets if o.recipients]

    whole_lines, whole = built("whole")
    monkeypatch.setattr(plan, "PAGE", 4)
    with factory() as session:
        sizes = [len(people) for _slug, people in plan.people_of(session, 1)]
    assert max(sizes) == 4 and sum(sizes) == 27 and len(sizes) == 9
    piece_lines, pieces = built("pieces")
    assert piece_lines == whole_lines and {n for _s, n in piece_lines} == {9}
    assert pieces == whole and len(pieces) == 27


def test_a_send_of_a_current_batch_plans_only_what_it_sends(engine: Engine, db_url: str) -> None:
    """After a build, a send of 4 plans the outlets of those 4 only; once the registry changes,
    the next send brings the deliveries in line first (the newcomer is mailed, exactly once).
    (What was sent is all this needs to know: the transport keeps it in memory.)"""
    make_registry(db_url, outlets=12, per_outlet=3)
    settings = load_settings(db=db_url)
    transport = MemoryTransport()
    factory = session_factory(engine)
    with factory() as session, session.begin():
        build.build_batch(session, "sahel-civilians", None, plan.BuildOptions(), settings)
    with factory() as session:
        report = send_batch(session, "sahel-civilians", transport, SendOptions(limit=4), settings)
    assert report.sent == 4 and len(transport.kept) == 4
    source = report.plan.source
    assert isinstance(source, prepare.OutletSource)
    assert len(source.outlets) == 2  # 3 journalists an outlet: the 4 come from the first two
    assert report.plan.recorded.added == 0 and report.plan.recipients == 36
    with factory() as session, session.begin():
        outlet = session.scalar(select(Journalist.outlet_id).limit(1))
        session.add(Journalist(outlet_id=outlet, name="Late Comer", email="late@example.com"))
    with factory() as session:
        report = send_batch(session, "sahel-civilians", transport, SendOptions(), settings)
    assert report.plan.recorded.added == 1 and report.plan.recipients == 37
    assert report.sent == 33
    received = transport.recipients()
    assert len(received) == 37 == len(set(received)) and "late@example.com" in received


def test_a_send_whose_files_are_all_there_plans_nothing(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """With the outbox's files in place a send reads nothing more of the registry (no
    planner is made); once a file is gone, its message is planned and rendered again, and
    is the one built (the same bytes as the file was)."""
    make_registry(db_url, outlets=4, per_outlet=3)
    settings = load_settings(db=db_url)
    transport = MemoryTransport()
    factory = session_factory(engine)
    outbox = tmp_path / "outbox"
    with factory() as session, session.begin():
        build.build_batch(session, "sahel-civilians", outbox, plan.BuildOptions(), settings)
    with factory() as session:
        report = send_batch(session, "sahel-civilians", transport, SendOptions(limit=3), settings)
    source = report.plan.source
    assert isinstance(source, prepare.OutletSource)
    assert report.sent == 3 and source.from_outbox == 3
    assert not isinstance(source._planner, plan.Planner) and not source.outlets
    with factory() as session:
        waiting = session.scalars(
            select(Delivery).where(Delivery.status == "pending").order_by(Delivery.id)
        ).first()
        assert waiting is not None
        gone = outbox / waiting.outlet_slug / prepare.file_name(waiting.email)
        address = waiting.email
    kept = gone.read_bytes()
    gone.unlink()
    with factory() as session:
        report = send_batch(session, "sahel-civilians", transport, SendOptions(limit=2), settings)
    source = report.plan.source
    assert isinstance(source, prepare.OutletSource)
    assert report.sent == 2 and source.from_outbox == 1
    assert isinstance(source._planner, plan.Planner)
    [again] = [k.data for k in transport.kept if k.recipient == address]
    # Sent as built, but for the Date the send stamps.
    assert re.sub(rb"\r\nDate: [^\r]*", b"", again) == re.sub(rb"\r\nDate: [^\r]*", b"", kept)


def test_a_large_import_streams_and_stays_all_or_nothing(
    cli, engine: Engine, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In chunks of 3 rows: an address repeated two chunks later names its first row, a bad
    row in the last chunk refuses the whole file (nothing of the earlier chunks stays), and
    with --skip-invalid the good rows go in, each once."""
    from civic_contacts.registry import importing

    monkeypatch.setattr(importing, "IMPORT_CHUNK", 3)
    cli("office", "import", str(data_dir / "offices.csv"))
    cli("outlet", "import", str(data_dir / "outlets.csv"))
    rows = [f"radio-dallol,Person {i},p{i}@example.com,,,+227 93 12 34 {i:02d}" for i in range(9)]
    rows.insert(7, "radio-dallol,Again Person,p1@example.com,,,")
    rows.append("radio-dallol,,bad-address,,,")
    path = tmp_path / "journalists.csv"
    path.write_text(
        "outlet,name,email,language,role,phones\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    refused = cli("journalist", "import", str(path), expect=2).stderr
    lines = [line.strip() for line in refused.splitlines()]
    assert "journalists.csv row 9, email: p1@example.com is already on row 3" in lines
    assert any(line.startswith("journalists.csv row 12, name") for line in lines)
    assert any(line.startswith("journalists.csv row 12, email") for line in lines)
    assert lines.index(next(x for x in lines if "row 9," in x)) < lines.index(
        next(x for x in lines if "row 12," in x)
    )
    with session_factory(engine)() as session:
        assert (
            session.scalar(select(Journalist.id).where(Journalist.email.like("p%@example.com")))
            is None
        )
    done = cli("journalist", "import", str(path), "--skip-invalid")
    assert "journalists: 9 created" in done.stderr
    with session_factory(engine)() as session:
        emails = session.scalars(select(Journalist.email).where(Journalist.email.like("p%"))).all()
    assert sorted(emails) == sorted(f"p{i}@example.com" for i in range(9))


def test_each_new_journalist_gets_their_own_numbers(
    cli, engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    """1,203 new journalists in one chunk (their ids come back from the insert in several
    statements on SQLite): each one's number is the one on their own row."""
    from civic_contacts.registry.models import Phone

    cli("office", "import", str(data_dir / "offices.csv"))
    cli("outlet", "import", str(data_dir / "outlets.csv"))
    rows = [
        f"radio-dallol,Person {i},p{i}@example.com,,,+227 93 1{i // 1000} {i // 10 % 100:02d} {i % 10}0"
        for i in range(1203)
    ]
    path = tmp_path / "journalists.csv"
    path.write_text(
        "outlet,name,email,language,role,phones\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    assert "journalists: 1203 created" in cli("journalist", "import", str(path)).stderr
    with session_factory(engine)() as session:
        found = session.execute(
            select(Journalist.email, Phone.e164).join(Phone, Phone.journalist_id == Journalist.id)
        )
        numbers = {email: e164 for email, e164 in found}
    assert len(numbers) == 1203
    assert all(
        numbers[f"p{i}@example.com"] == f"+227931{i // 1000}{i // 10 % 100:02d}{i % 10}0"
        for i in range(1203)
    )


def test_the_phone_cache_answers_as_the_parser_does_and_hands_out_copies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A number is parsed again until its second sighting, then answered from the cache; each
    answer is a list of its own, so changing one record's number changes no other's."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    from civic_contacts.registry import importing

    calls: list[str] = []
    real = importing.read_phones

    def counted(text: str, region: str) -> tuple[list, list[str]]:
        calls.append(text)
        return real(text, region)

    monkeypatch.setattr(importing, "read_phones", counted)
    cache = importing.PhoneCache()
    example = phonenumbers.example_number_for_type("NE", PhoneNumberType.FIXED_LINE)
    e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    desk = f"{e164} (office); 12 34"
    answers = [cache(desk, "NE") for _ in range(4)]
    assert calls == [desk, desk]  # the third and fourth come from the cache
    for numbers, warnings in answers:
        assert [p.to_json() for p in numbers] == [p.to_json() for p in real(desk, "NE")[0]]
        assert warnings == real(desk, "NE")[1] and len(warnings) == 1
    answers[2][0][0].labels.append("changed")
    answers[2][0][0].e164 = None
    assert answers[3][0][0].labels == ["office"] and answers[3][0][0].e164 == e164
    assert cache(desk, "NE")[0][0].labels == ["office"]
    assert cache(desk, "BF")[0][0].e164 == answers[0][0][0].e164  # another country, parsed
    assert calls == [desk, desk, desk]
