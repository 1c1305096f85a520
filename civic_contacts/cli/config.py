"""`civic-contacts config`: write, show and check the settings file."""

from __future__ import annotations

import typer

from civic_contacts import config
from civic_contacts.cli import common
from civic_contacts.errors import ConfigError

app = typer.Typer(
    help="Settings: the config file, checked.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("init")
def init() -> None:
    """Write a commented config file (mode 0600); never over an existing one."""
    path = config.write_config_template(config.config_path())
    common.say(f"wrote {path}: set [press] name and address, then run civic-contacts config check")


@app.command("show")
def show(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="JSON for scripts.")
) -> None:
    """Every effective setting and where it came from: option, environment, file or default."""
    rows = config.effective_settings(common.state(ctx).db)
    if json:
        common.print_json(
            {
                "config_file": str(config.config_path()),
                "settings": [
                    {"key": r.key.name, "value": r.shown, "source": r.source} for r in rows
                ],
            }
        )
        return
    common.print_table(
        f"Settings ({config.config_path()})",
        ["key", "value", "from"],
        [[r.key.name, r.shown, r.source] for r in rows],
    )


@app.command("check")
def check() -> None:
    """Check the config file: unknown keys, values of the wrong kind, the press identity."""
    path = config.config_path()
    problems = config.config_problems(path)
    if problems:
        for problem in problems[1:]:
            common.err().print(f"  {path}: {problem}", markup=False)
        raise ConfigError(
            f"{path}: {problems[0]}"
            + (f" (and {len(problems) - 1} more above)" if len(problems) > 1 else "")
        )
    common.say(f"ok: {path}")


@app.command("rotate-secret")
def rotate_secret() -> None:
    """Start sealing unsubscribe links with a new generated secret; links sealed with the one
    before keep working for retired_secret_days (180)."""
    from civic_contacts.deliver.tokens import rotate_secret as rotate

    path = rotate()
    common.say(
        f"new unsubscribe secret in {path}; links already sent keep working until the one"
        " before is retired (civic-contacts config retire-secret drops it at once)"
    )


@app.command("retire-secret")
def retire_secret(
    fingerprint: str | None = typer.Argument(None, help="The retired secret to drop."),
    every: bool = typer.Option(False, "--all", help="Drop every retired secret."),
) -> None:
    """Drop a retired unsubscribe secret at once (after a leak): the links it sealed stop
    working. Without a fingerprint, list the retired ones."""
    from civic_contacts.deliver.tokens import retire_secret as retire
    from civic_contacts.deliver.tokens import stored_secrets

    if fingerprint is None and not every:
        found = stored_secrets()
        for entry in found:
            state = (
                "current"
                if entry.retired is None
                else f"retired {entry.retired:%Y-%m-%d %H:%M} UTC"
            )
            common.out().print(f"{entry.fingerprint}  {state}", markup=False)
        raise ConfigError(
            "name the retired secret to drop (a fingerprint above), or pass --all",
            hint="the current one is dropped by rotating first",
        )
    dropped = retire(fingerprint, every)
    common.say(
        f"dropped {len(dropped)} retired secret(s): {', '.join(dropped) or 'none'}; links they"
        " sealed no longer work"
    )
