"""Run the installed `postdesk` command against a temporary configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT
from tests.helpers import example_config

POSTDESK = [sys.executable, "-m", "postdesk"]


def toml_dump(data: dict[str, Any]) -> str:
    """A minimal TOML writer for the configuration shapes we use in tests."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"
        raise TypeError(type(v))

    lines: list[str] = []
    scalars = {
        k: v
        for k, v in data.items()
        if not isinstance(v, dict | list)
        or (isinstance(v, list) and not (v and isinstance(v[0], dict)))
    }
    lines += [f"{k} = {value(v)}" for k, v in scalars.items()]
    for key, section in data.items():
        if isinstance(section, dict) and key != "support_addresses":
            lines.append(f"\n[{key}]")
            for k, v in section.items():
                if isinstance(v, dict) and key == "sla":
                    continue
                lines.append(f"{json.dumps(k) if '@' in k else k} = {value(v)}")
            if key == "sla":
                for k, v in section.items():
                    if isinstance(v, dict):
                        lines.append(f"\n[sla.{k}]")
                        lines += [f"{kk} = {value(vv)}" for kk, vv in v.items()]
        elif isinstance(section, list) and section and isinstance(section[0], dict):
            for item in section:
                lines.append(f"\n[[{key}]]")
                lines += [f"{k} = {value(v)}" for k, v in item.items()]
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # it must read back
    return text


@dataclass
class Cli:
    config: Path

    def run(
        self,
        *args: str,
        stdin: bytes | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(
            [*POSTDESK, "--config", str(self.config), *args],
            input=stdin,
            capture_output=True,
            cwd=REPO_ROOT,
            timeout=120,
            env={**os.environ, **(env or {})},
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"postdesk {' '.join(args)} exited {result.returncode}: "
                f"{result.stderr.decode(errors='replace')[-2000:]}"
            )
        return result

    def json(self, *args: str, stdin: bytes | None = None) -> Any:
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)


def make_cli(tmp_path: Path, db_url: str, **overrides: Any) -> Cli:
    data = example_config()
    data["database"]["url"] = db_url
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    data["outbound"]["file_dir"] = str(tmp_path / "outbox")
    data["logging"]["file"] = str(tmp_path / "postdesk.log")
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    path = tmp_path / "config.toml"
    path.write_text(toml_dump(data))
    cli = Cli(path)
    cli.run("db", "upgrade")
    return cli
