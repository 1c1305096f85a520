"""`civic-contacts bounce` (also `bounces`): what comes back after the send, read from the return mailbox."""

from __future__ import annotations

from pathlib import Path

import typer

from civic_contacts.cli import common

app = typer.Typer(
    help="Bounces, auto-replies and complaints: read the return mailbox, keep the list true.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PATHS = typer.Argument(..., help=".eml files, mbox files or Maildir folders.")


def _check_paths(paths: list[Path]) -> None:
    """Every path is there before any is read (nothing is half-done for a typo)."""
    from civic_contacts.errors import InputError

    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder; nothing was read")


def _sink(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from civic_contacts.after.mailbox import Sink
    from civic_contacts.after.returns import SoftPolicy
    from civic_contacts.db import session_factory
    from civic_contacts.deliver.tokens import check_return_path, verification_secrets

    settings = common.settings(ctx)
    configured = settings.bounces.return_path
    return_path = check_return_path(str(configured)) if configured else None
    ours = {settings.press_address.lower(), settings.unsubscribe_mailto.lower()}
    if return_path:
        ours.add(return_path.lower())
    return Sink(
        sessions=session_factory(common.engine(ctx)),
        return_path=return_path,
        secrets=verification_secrets(),
        policy=SoftPolicy.from_settings(settings),
        ours=ours,
    )


def _say_outcome(outcome, where: str) -> None:  # type: ignore[no-untyped-def]
    from civic_contacts.after.returns import alert_lines

    kinds = outcome.by_kind
    actions = outcome.by_action
    common.say(
        f"read {outcome.reports} new report(s): {kinds['bounce']} bounce(s),"
        f" {kinds['auto-reply']} auto-reply(ies), {kinds['complaint']} complaint(s),"
        f" {kinds['other']} other" + (f"; {outcome.already} read before" if outcome.already else "")
    )
    if outcome.reports:
        common.say(
            f"  {len(outcome.suppressed)} address(es) suppressed, {actions['retry']} soft"
            f" bounce(s) counted, {actions['alert']} sender problem(s),"
            f" {outcome.unmatched} matched no delivery"
            + (f", {outcome.unreadable} unreadable" if outcome.unreadable else "")
        )
    if outcome.held:
        common.warn(
            [
                f"{outcome.held} report(s) held, not acted on: nothing of ours vouches for them"
                " (civic-contacts bounce review)"
            ]
        )
    if outcome.problems:
        common.warn(
            [f"{len(outcome.problems)} report(s) set aside in the Unreadable folder:"]
            + [f"  {line}" for line in outcome.problems[:20]]
        )
    for address in outcome.suppressed[:20]:
        common.say(f"  suppressed {address}")
    if len(outcome.suppressed) > 20:
        common.say(f"  ... and {len(outcome.suppressed) - 20} more (civic-contacts bounce list)")
    if outcome.reviews:
        common.say(
            f"  {len(outcome.reviews)} journalist(s) left and gave another address:"
            " civic-contacts journalist review"
        )
    if outcome.stays:
        common.say(f"  {outcome.stays} message(s) {where}, for a person to read")
    for line in alert_lines(outcome.alerts):
        common.warn([f"sender problem: {line}"])


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    limit: int | None = typer.Option(None, "--limit", min=1, help="Read at most this many."),
) -> None:
    """Read new reports from the bounce mailbox (the bounces table of the config file; the
    password in CIVIC_CONTACTS_BOUNCES_PASSWORD), act on each once and move it to the
    processed folder. Safe to run from cron, and two at once."""
    from civic_contacts.after.mailbox import fetch as fetch_reports
    from civic_contacts.after.mailbox import imap_settings

    imap = imap_settings(common.settings(ctx))
    outcome = fetch_reports(imap, _sink(ctx), limit)
    where = f"moved to {imap.unmatched}" if imap.unmatched else f"left in {imap.folder}"
    _say_outcome(outcome, where)


@app.command("read")
def read(ctx: typer.Context, paths: list[Path] = PATHS) -> None:
    """Do what `fetch` does for reports saved as files (offline): each is acted on once."""
    from civic_contacts.after.classify import messages_in
    from civic_contacts.after.returns import Outcome, file_source

    _check_paths(paths)
    sink = _sink(ctx)
    total = Outcome()
    for path in paths:
        for _name, data in messages_in(path):
            total.add(sink.record(file_source(data), data))
    _say_outcome(total, "matched no delivery or were not reports (civic-contacts bounce list)")


@app.command("classify")
def classify(
    paths: list[Path] = PATHS,
    json: bool = typer.Option(False, "--json", help="One JSON object per message."),
) -> None:
    """Say what each report is and what would be done, changing nothing (no database)."""
    import json as json_module

    from civic_contacts.after.classify import classify as classify_report
    from civic_contacts.after.classify import messages_in

    _check_paths(paths)
    for path in paths:
        for name, data in messages_in(path):
            report = classify_report(data)
            if json:
                shape: dict[str, object] = {
                    "file": name,
                    "kind": report.kind,
                    "recipients": [r.as_json() for r in report.recipients],
                }
                if report.new_address:
                    shape["new_address"] = report.new_address
                if not report.recipients and report.kind in ("bounce", "complaint"):
                    action, reason = report.unnamed
                    shape["unnamed"] = {"action": action, "reason": reason}
                print(json_module.dumps(shape, ensure_ascii=False))
                continue
            common.out().print(f"{name}: {report.kind}", markup=False)
            for r in report.recipients:
                common.out().print(
                    f"  {r.email}: {r.action} ({r.reason}{', ' + r.status if r.status else ''})"
                    + (f" {r.diagnostic[:120]}" if r.diagnostic else ""),
                    markup=False,
                )
            if report.new_address:
                common.out().print(f"  new address given: {report.new_address}", markup=False)
            if not report.recipients and report.kind in ("bounce", "complaint"):
                action, reason = report.unnamed
                common.out().print(
                    f"  names nobody: for its token's own recipient, {action} ({reason})",
                    markup=False,
                )


@app.command("list")
def list_(
    ctx: typer.Context,
    release: str | None = typer.Option(None, "--release", help="Only reports about this release."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Recorded bounces, auto-replies and complaints, newest first, with what was done."""
    from civic_contacts.after.returns import bounce_json, list_bounces

    with common.transaction(ctx) as session:
        rows = [bounce_json(b, slug) for b, slug in list_bounces(session, release)]
    if json:
        common.print_json(rows)
        return
    common.print_table(
        "Bounces and replies",
        ["received", "email", "kind", "action", "reason", "release", "outcome"],
        [
            [
                str(r["received_at"])[:16],
                str(r["email"]),
                str(r["kind"]),
                str(r["action"]),
                f"{r['reason']}{' ' + str(r['status']) if r['status'] else ''}",
                str(r["release"] or ""),
                str(r["outcome"]),
            ]
            for r in rows
        ],
    )


@app.command("review")
def review(
    ctx: typer.Context,
    accept: list[int] = typer.Option([], "--accept", help="Act on this held report (an id)."),
    dismiss: list[int] = typer.Option([], "--dismiss", help="Set this held report aside."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Reports held because nothing of ours vouches for them (no valid return-path token for
    the address they name, or no Message-ID we sent to it): anyone can email the bounce
    address, so these change nothing until an officer accepts one."""
    from civic_contacts.after.returns import bounce_json, decide_held, held
    from civic_contacts.errors import InputError

    both = set(accept) & set(dismiss)
    if both:
        raise InputError(f"report {sorted(both)[0]} is given to both --accept and --dismiss")
    if accept or dismiss:
        with common.transaction(ctx) as session:
            said = decide_held(session, accept, True) + decide_held(session, dismiss, False)
        for line in said:
            common.say(line)
        return
    with common.transaction(ctx) as session:
        rows = [(b.id, bounce_json(b, None)) for b in held(session)]
    if json:
        common.print_json([{"id": i, **r} for i, r in rows])
        return
    if not rows:
        common.say("no report is held for review")
        return
    common.print_table(
        "Held for review (accept with --accept ID, set aside with --dismiss ID)",
        ["id", "received", "email", "kind", "would", "why held"],
        [
            [
                str(i),
                str(r["received_at"])[:16],
                str(r["email"]),
                str(r["kind"]),
                f"{r['action']} ({r['reason']})",
                str(r["held"] or "").removeprefix("held: "),
            ]
            for i, r in rows
        ],
    )
