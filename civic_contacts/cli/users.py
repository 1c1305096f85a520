"""`civic-contacts user`: the people who work at the desk, and their roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common

if TYPE_CHECKING:
    from civic_contacts.registry import users
else:  # loaded when a command uses it: `user --help` needs none of it
    users = common.lazy("civic_contacts.registry.users")

app = typer.Typer(
    help="Users of the desk: names, roles, passwords.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Their name, as they log in."),
    role: str = typer.Option(..., help="viewer, officer, approver or admin."),
    language: str = typer.Option("en", help="The desk's language for them: en or fr."),
    timezone: str = typer.Option("UTC", help="Their time zone, as Africa/Niamey."),
    email: str | None = typer.Option(None, help="Their own address, for test sends from the desk."),
) -> None:
    """Add a user; prints a one-time password, to give them once (they change it at their
    first login)."""
    with common.transaction(ctx) as session:
        user, password = users.add_user(session, name, role, language, timezone, email)
        said = f"user {user.name}: created ({user.role})"
    common.say(said)
    common.say("one-time password (shown once; they choose their own at the first login):")
    print(password)


@app.command("list")
def list_(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="JSON for scripts.")
) -> None:
    """List the users and their roles (never a password)."""
    with common.transaction(ctx) as session:
        rows = [
            {
                "name": u.name,
                "role": u.role,
                "language": u.language,
                "timezone": u.timezone,
                "email": u.email,
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
                "must_change_password": u.must_change_password,
            }
            for u in users.list_users(session)
        ]
    if json:
        common.print_json(rows)
        return
    common.print_table(
        "Users",
        ["name", "role", "language", "time zone", "last login"],
        [
            [
                r["name"],
                r["role"],
                r["language"],
                r["timezone"],
                str(r["last_login_at"] or "never")[:16],
            ]
            for r in rows
        ],
    )


@app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(..., help="Their name.")) -> None:
    """Remove a user (never the last admin)."""
    with common.transaction(ctx) as session:
        users.remove_user(session, name)
    common.say(f"user {name}: removed")


@app.command("reset-password")
def reset_password(ctx: typer.Context, name: str = typer.Argument(..., help="Their name.")) -> None:
    """A new one-time password for a user; their open sessions end."""
    with common.transaction(ctx) as session:
        password = users.reset_password(session, name)
    common.say(f"user {name}: new one-time password (shown once):")
    print(password)
