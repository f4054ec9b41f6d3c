"""Every command, action and option of `postdesk` has a help text, so `postdesk --help` and
`postdesk COMMAND --help` describe them all."""

from __future__ import annotations

import argparse

from postdesk.cli.main import HANDLERS, build_parser


def _walk(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            described = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if not described.get(name):
                    missing.append(f"{path} {name}")
                missing += _walk(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction) and not action.help:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_command_and_option_has_help() -> None:
    assert _walk(build_parser(), "postdesk") == []


def test_every_command_has_a_handler() -> None:
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == set(HANDLERS)


def test_top_level_help_lists_commands_with_descriptions(capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        build_parser().parse_args(["--help"])
    except SystemExit as exit:
        assert exit.code == 0
    text = capsys.readouterr().out
    assert "check-config   validate the configuration file" in text
    assert "tickets        list and show tickets" in text
