"""`civic-contacts config`: write, show and check the settings file."""

from __future__ import annotations

import typer

from civic_contacts import config
from civic_contacts.cli import common
from civic_contacts.errors import ConfigError

app = typer.Typer(help="Settings: the config file, checked.", no_args_is_help=True)


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
    """Start signing unsubscribe links with a new generated secret (older links keep working)."""
    from civic_contacts.deliver.tokens import rotate_secret as rotate

    path = rotate()
    common.say(f"new unsubscribe secret in {path}; links already sent keep working")
