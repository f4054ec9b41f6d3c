"""A bug in a command (an exception nobody foresaw) prints one line saying where the traceback
is; `--debug` shows it here instead."""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.cli import toml_dump
from tests.helpers import example_config

cli_main = importlib.import_module("postdesk.cli.main")  # (postdesk.cli.main is also a function)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:], root.level = handlers, level


def _config(tmp_path: Path, log_file: bool) -> Path:
    data = example_config()
    data["database"]["url"] = f"sqlite:///{tmp_path / 'postdesk.db'}"
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    if log_file:
        data["logging"]["file"] = str(tmp_path / "postdesk.log")
    else:
        data["logging"].pop("file", None)
    path = tmp_path / "config.toml"
    path.write_text(toml_dump(data))
    return path


def _broken(_name: str) -> Callable[[argparse.Namespace], int]:
    def handler(_args: argparse.Namespace) -> int:
        raise KeyError("injected fault")

    return handler


def test_one_line_and_the_traceback_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_main, "_handler", _broken)
    config = _config(tmp_path, log_file=True)
    assert cli_main.main(["--config", str(config), "tickets", "list"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("postdesk: unexpected error in `tickets` (KeyError at test_")
    assert line.endswith(f"the traceback is in the log {tmp_path / 'postdesk.log'}")
    logged = (tmp_path / "postdesk.log").read_text()
    assert "unexpected error in `postdesk tickets`" in logged and "Traceback" in logged


def test_without_a_log_file_it_points_to_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_main, "_handler", _broken)
    config = _config(tmp_path, log_file=False)
    assert cli_main.main(["--config", str(config), "outbox", "list"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("run it again with --debug for the traceback")
    with pytest.raises(KeyError):
        cli_main.main(["--config", str(config), "--debug", "outbox", "list"])
