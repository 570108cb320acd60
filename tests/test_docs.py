"""Meta-tests: every setting is documented, every command in the README exists."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from vitrina_sync.cli import main
from vitrina_sync.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_with_its_default():
    doc = (ROOT / "docs" / "settings.md").read_text("utf-8")
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in doc, f"{setting.name} is missing from docs/settings.md"
        assert setting.help.split(" (")[0][:30] in doc, f"{setting.name}: help text differs"


def test_settings_command_lists_every_setting():
    out = CliRunner().invoke(main, ["settings"]).output
    assert all(s.name in out for s in SETTINGS)


def test_every_command_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text("utf-8")
    named = set(re.findall(r"`vitrina-sync ([a-z]+)", readme))
    assert {
        "run",
        "sync",
        "worker",
        "check",
        "models",
        "pack",
        "upload",
        "plugins",
        "serve",
        "users",
    } <= named
    for name in named:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, f"`vitrina-sync {name}` from the README does not exist"


def test_every_option_the_readme_command_table_shows_exists():
    """Each row of README's command table: the command (`users add`, `models fetch` included)
    and every --option it shows are in that command's --help."""
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme[readme.index("## Commands") : readme.index("## The catalog")]
    rows = re.findall(r"^\| `vitrina-sync ([^`]+)`", table, re.MULTILINE)
    assert len(rows) >= 11, rows
    for row in rows:
        words = row.split()
        path = []
        for word in words:
            if not re.fullmatch(r"[a-z]+", word):
                break
            path.append(word)
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, f"`vitrina-sync {' '.join(path)}`: {result.output}"
        for option in re.findall(r"--[a-z][a-z-]*", row):
            assert option in result.output, f"`vitrina-sync {row}`: no {option}"
