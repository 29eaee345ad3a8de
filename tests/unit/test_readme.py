"""The README tells the truth about the command line and the settings.

Every command and option it names exists in ``services/cli.py``, and its settings table
lists exactly the settings of ``services/settings.py`` with their defaults. (The
"Benchmarks" section describes a command of its own and is left to its own tests.)
"""

import argparse
import re
from pathlib import Path

import pytest

from accountability.services.cli import build_parser
from accountability.services.settings import PREFIX, Settings, setting_names

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

_SECTION = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)
_CODE = re.compile(r"`([^`]+)`")
_FENCED = re.compile(r"^```.*?^```$", re.MULTILINE | re.DOTALL)


def sections() -> dict[str, str]:
    text = _FENCED.sub("", README.read_text(encoding="utf-8"))
    heads = list(_SECTION.finditer(text))
    return {
        head["title"].strip(): text[head.end() : nxt.start() if nxt else len(text)]
        for head, nxt in zip(heads, [*heads[1:], None], strict=True)
    }


def _readme_without_benchmarks() -> str:
    return "\n".join(body for title, body in sections().items() if title != "Benchmarks")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def invocations() -> list[list[str]]:
    """Every ``accountability …`` (or ``… rebuild …``) the README shows, as words."""
    found = []
    for span in _CODE.findall(_readme_without_benchmarks()):
        words = span.split()
        if words[:1] == ["…"]:
            words = ["accountability", *words[1:]]
        if len(words) >= 2 and words[0] == "accountability" and words[1].islower():
            found.append(words[1:])
    # The command line section lists the subcommands themselves, one span each.
    listing = sections()["Command line"].strip().split("\n\n", 1)[0]
    for span in _CODE.findall(listing):
        words = span.split()
        found.append(words[1:] if words[0] == "accountability" else words)
    return found


def _resolve(words: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The (sub)parser the words name, and the options they give it."""
    parser = build_parser()
    rest = list(words)
    while rest and (choices := _subcommands(parser)) and rest[0] in choices:
        parser = choices[rest.pop(0)]
    options = [
        option
        for word in rest
        for part in word.strip("[]()").split("|")
        if (option := part.strip("[]()")).startswith("--")
    ]
    return parser, options


def test_the_readme_shows_commands() -> None:
    commands = {tuple(words[:1]) for words in invocations()}

    assert len(commands) >= 15


@pytest.mark.parametrize("words", invocations(), ids=" ".join)
def test_each_command_the_readme_names_exists_with_its_options(words: list[str]) -> None:
    parser, options = _resolve(words)

    assert parser.prog != "accountability", f"no subcommand {words[0]!r}"
    assert set(options) <= _options(parser), (
        f"{parser.prog} has no {set(options) - _options(parser)}"
    )


def test_each_make_target_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README.read_text(encoding="utf-8")))
    named |= set(re.findall(r"^make ([a-z][a-z-]*)", README.read_text(encoding="utf-8"), re.M))

    assert {"run", "check"} <= named
    assert named <= targets


def _settings_table() -> dict[str, str]:
    """Each setting's name in the table, with the text of its default column."""
    rows = {}
    for line in sections()["Settings"].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        names = [n.replace("…_", PREFIX) for n in _CODE.findall(cells[0])]
        defaults = _CODE.findall(cells[1])
        for n, name in enumerate(names):
            rows[name] = defaults[n] if len(defaults) == len(names) else cells[1]
    return rows


def test_the_settings_table_names_every_setting_once() -> None:
    assert sorted(_settings_table()) == sorted(setting_names())


def test_the_settings_table_gives_the_defaults() -> None:
    defaults = Settings()
    derived = {"data_dir", "database_url", "checkpoint_key_file"}  # described, not literal

    for name, text in _settings_table().items():
        attribute = name.removeprefix(PREFIX).lower()
        if attribute in derived:
            continue
        value = getattr(defaults, attribute)
        shown = type(value)(text.split()[0].strip("`"))
        assert shown == value, f"README gives {name} the default {text!r}, the code {value!r}"
    assert _settings_table()[f"{PREFIX}DATA_DIR"] == str(defaults.data_dir)
