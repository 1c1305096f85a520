"""How fast the command line starts: commands that need no database or templates, each run
several times as a user runs them, beside a bare Python start and a bare typer app.

    python bench/bench_startup.py [--runs 5]

Prints min / median / max wall seconds per command (GNU time, each in its own process).
`contact extract` reads one invented contact block with an SQLite registry of two offices.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import as_installed

BLOCK = """Media contacts:
In Niamey: Awa Diallo, Press officer, +227 93 12 34 56 (WhatsApp), awa.diallo@example.org
"""


def wall(args: list[str], env: dict[str, str]) -> float:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e", "-o", report.name, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr.decode()}")
        return float(report.read().split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(as_installed())
    with tempfile.TemporaryDirectory(prefix="cc-startup-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "CIVIC_CONTACTS_DB": f"sqlite:///{folder / 'registry.sqlite3'}",
            "CIVIC_CONTACTS_CONFIG": str(folder / "none.toml"),
        }
        data = Path(__file__).resolve().parents[1] / "data" / "offices.csv"
        cli = [sys.executable, "-m", "civic_contacts"]
        subprocess.run(
            [*cli, "office", "import", str(data)], env=env, check=True, capture_output=True
        )
        block = folder / "release.md"
        block.write_text(BLOCK, encoding="utf-8")
        commands = {
            "python -c pass (bare start)": [sys.executable, "-c", "pass"],
            "a bare typer app, --help": [
                sys.executable,
                "-c",
                "import typer; app = typer.Typer(); app.command()(lambda: None); app()",
                "--help",
            ],
            "civic-contacts --help": [*cli, "--help"],
            "civic-contacts --version": [*cli, "--version"],
            "civic-contacts batch --help": [*cli, "batch", "--help"],
            "civic-contacts journalist --help": [*cli, "journalist", "--help"],
            "civic-contacts phone parse": [*cli, "phone", "parse", "+227 93 12 34 56"],
            "civic-contacts config show": [*cli, "config", "show"],
            "civic-contacts contact extract": [*cli, "contact", "extract", str(block)],
        }
        print(f"{args.runs} runs each; wall seconds min / median / max")
        for name, command in commands.items():
            times = sorted(wall(command, env) for _ in range(args.runs))
            print(f"{name:34} {times[0]:5.2f} / {statistics.median(times):5.2f} / {times[-1]:5.2f}")


if __name__ == "__main__":
    main()
