"""Typed per-command settings, and config files applied to them without click."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import click
import pytest
from clirun import ROOT

from scanner.cli.group import cli
from scanner.errors import UsageError
from scanner.pipeline.config import (
    BaselineSettings,
    CiSettings,
    HistorySettings,
    ScanSettings,
    StagedSettings,
    VerifySettings,
    apply_config,
    parse_size,
)


def test_config_loads_and_applies_without_click():
    code = ("import sys; from scanner.pipeline.config import ScanSettings, apply_config, find_config; "
            "s = ScanSettings(); apply_config(s, {'format': 'json', 'jobs': 3}, 'x.toml'); "
            "assert (s.fmt, s.jobs) == ('json', 3), s; "
            "assert 'click' not in sys.modules, 'config pulled in click'")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_file_fills_what_the_command_line_left_and_never_what_it_gave():
    s = ScanSettings(fmt="sarif", exclude=("cli/*",), given=frozenset({"fmt"}))
    notes = apply_config(s, {"format": "json", "exclude": ["file/*"], "max-file-size": "1K", "rules": ["r.toml"],
                             "include-binary": True}, "/proj/.tokenscan.toml")
    assert notes == []
    assert s.fmt == "sarif" and s.max_file_size == 1024 and s.include_binary is True
    assert s.exclude == ("file/*", "cli/*")  # list options: the file's, then the command line's
    assert s.rule_files == ("/proj/r.toml",)  # paths are relative to the file


def test_file_never_loosens_the_gate_nor_turns_on_the_network():
    s = HistorySettings()
    notes = apply_config(s, {"fail-on": "none", "decode-depth": 0, "allow-unknown": True, "verify": True,
                             "archive-depth": 1}, "c.toml")
    assert (s.fail_on, s.decode_depth, s.allow_unknown, s.verify, s.archive_depth) == ("any", 2, False, False, 2)
    assert len(notes) == 5 and any("'verify' ignored" in n for n in notes)
    apply_config(s, {"archive-depth": 4, "fail-on-incomplete": True}, "c.toml")  # tightening applies
    assert (s.archive_depth, s.fail_on_incomplete) == (4, True)


def test_a_key_for_another_command_is_passed_over():
    s = HistorySettings()
    apply_config(s, {"exclude": ["x"], "max-file-size": "1M", "no-gitignore": True}, "c.toml")
    assert not hasattr(s, "exclude") and not hasattr(s, "max_file_size")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("format", "xml", "'xml' is not one of 'text', 'json'"),
    ("jobs", 0, "0 is not in the range x>=1."),
    ("verify-concurrency", 99, "99 is not in the range 1<=x<=32."),
    ("quiet", "maybe", "'maybe' is not a valid boolean."),
    ("quiet", 1, None),  # click's own conversion raised AttributeError here (an internal error)
    ("max-file-size", "abc", "'abc' is not a size"),
    ("decode-depth", "x", "'x' is not a valid integer."),
    ("nosuch", 1, "unknown key 'nosuch'"),
])
def test_bad_values_are_usage_errors_naming_file_and_key(key, value, message):
    s = ScanSettings()
    if message is None:
        apply_config(s, {key: value}, "ci.toml")
        return
    with pytest.raises(UsageError) as err:
        apply_config(s, {key: value}, "ci.toml")
    assert str(err.value).startswith("ci.toml: ") and message in str(err.value)


def test_parse_size():
    assert [parse_size(v) for v in ("10M", "512K", "1048576", "2GiB", "1kb")] == [10 << 20, 512 << 10, 1 << 20,
                                                                                  2 << 30, 1024]
    for bad in ("0", "x", "-1K"):
        with pytest.raises(ValueError):
            parse_size(bad)


@pytest.mark.parametrize(("path", "cls"), [
    (("scan",), ScanSettings), (("history",), HistorySettings), (("staged",), StagedSettings),
    (("verify",), VerifySettings), (("baseline", "create"), BaselineSettings), (("ci",), CiSettings),
])
def test_every_option_of_a_command_has_a_typed_setting(path, cls):
    """A click option without a field would be dropped on the way to the app; the reverse is fine
    (force_verify, given are set by the command itself)."""
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        found = cmd.get_command(click.Context(cmd), name)
        assert found is not None, name
        cmd = found
    names = {f.name for f in fields(cls)}
    assert {p.name for p in cmd.params} - names == set()
