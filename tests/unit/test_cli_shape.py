"""The command line's shape: every option has help, replay's inputs expand as documented, and
errors are one line (a traceback only with --debug). No database: commands are not run."""

from __future__ import annotations

import argparse
import gzip

import pytest

from dd0c_cost_tools import cli
from dd0c_cost_tools.cli.errors import CliError
from dd0c_cost_tools.cli.inputs import expand


def _parsers(parser: argparse.ArgumentParser, path: str = "dd0c-cost"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_option_and_argument_has_help():
    missing = [
        f"{path}: {action.dest}"
        for path, parser in _parsers(cli.build_parser())
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help
    ]
    assert missing == []


def test_every_command_and_action_has_help():
    for _path, parser in _parsers(cli.build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {choice.dest: choice.help for choice in action._choices_actions}
                assert all(helps.values()), helps


def test_replay_inputs_are_files_folders_and_globs(tmp_path):
    trail = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "eu-west-1" / "2026" / "11" / "16"
    trail.mkdir(parents=True)
    logs = [trail / f"log{i}.json.gz" for i in range(2)]
    for log in logs:
        log.write_bytes(gzip.compress(b'{"Records": []}', mtime=0))
    digest = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail-Digest" / "eu-west-1"
    digest.mkdir(parents=True)
    (digest / "d.json.gz").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not CloudTrail")
    lines = tmp_path / "history.jsonl"
    lines.write_text("{}\n")
    resolved = sorted(p.resolve() for p in [*logs, lines])
    assert sorted(expand([str(tmp_path)])) == resolved
    assert sorted(expand([str(tmp_path / "AWSLogs" / "**" / "*.json.gz")])) == sorted(p.resolve() for p in logs)
    assert expand([str(lines), str(lines), str(tmp_path / "*.jsonl")]) == [lines.resolve()]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CliError, match="no CloudTrail files under"):
        expand([str(empty)])
    with pytest.raises(CliError, match="no CloudTrail files match"):
        expand([str(tmp_path / "*.csv")])
    with pytest.raises(CliError, match="no such file or folder"):
        expand([str(tmp_path / "missing.jsonl")])


def test_errors_are_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom")

    def fixable(args):
        raise CliError("no tenant named 'x'", "create it with: dd0c-cost tenants create x")

    monkeypatch.setattr("dd0c_cost_tools.cli.commands.contracts.cmd_contracts", broken)
    assert cli.main(["contracts"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: boom" in err and "--debug" in err
    with pytest.raises(RuntimeError):
        cli.main(["contracts", "--debug"])
    monkeypatch.setattr("dd0c_cost_tools.cli.commands.contracts.cmd_contracts", fixable)
    assert cli.main(["contracts"]) == 2
    assert capsys.readouterr().err == "dd0c-cost: no tenant named 'x' (create it with: dd0c-cost tenants create x)\n"
    with pytest.raises(SystemExit) as usage:
        cli.main(["tenants", "configure", "x", "--score-threshold", "abc"])
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'abc' is not a number" in err
