"""Operator mistakes end in one line naming the key, port or role and what to do, with exit 2
for bad usage or configuration and 1 for work not done; never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import REPO_ROOT
from tests.e2e.cli import POSTDESK, make_cli, toml_dump
from tests.e2e.serve_helpers import child_env, free_port, serve_config
from tests.helpers import example_config, mail


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POSTDESK, "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=child_env(),
        timeout=120,
        check=False,
    )


def _config(tmp_path: Path, **sections: dict[str, object]) -> Path:
    data = example_config()
    data["database"]["url"] = f"sqlite:///{tmp_path / 'postdesk.db'}"
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    data["outbound"]["file_dir"] = str(tmp_path / "outbox")
    data["logging"]["file"] = str(tmp_path / "postdesk.log")
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path = tmp_path / "config.toml"
    path.write_text(toml_dump(data))
    return path


def test_busy_ports_are_all_named_before_any_opens(tmp_path: Path, sqlite_url: str) -> None:
    config = serve_config(tmp_path / "serve", sqlite_url)
    with socket.socket() as smtp, socket.socket() as http:
        smtp.bind(("127.0.0.1", config.smtp_port))
        smtp.listen()
        http.bind(("127.0.0.1", config.http_port))
        http.listen()
        result = config.cli("serve")
    line = _one_line(result)
    assert result.returncode == 1  # work not done: a supervisor may try again
    assert f"smtp.listen 127.0.0.1:{config.smtp_port} is in use" in line
    assert f"http.listen 127.0.0.1:{config.http_port} is in use" in line
    assert "configuration error" not in line
    assert not (tmp_path / "serve" / "data" / "spool").exists()  # nothing was started


def test_missing_postgresql_role_and_database_are_named(tmp_path: Path, pg_url: str) -> None:
    url = make_url(pg_url)
    no_role = url.set(username="postdesk_no_such_role").render_as_string(hide_password=False)
    config = _config(tmp_path, database={"url": no_role})
    for command in (["db", "upgrade"], ["tickets", "list"]):
        result = _run(config, *command)
        line = _one_line(result)
        assert result.returncode == 2, line
        assert "is running but has no role 'postdesk_no_such_role'" in line
        assert "createuser postdesk_no_such_role" in line
        assert "server is running" not in line.replace("is running but", "")
    no_db = url.set(database="postdesk_no_such_db").render_as_string(hide_password=False)
    config = _config(tmp_path, database={"url": no_db})
    result = _run(config, "tickets", "list")
    line = _one_line(result)
    assert result.returncode == 2
    assert "has no database 'postdesk_no_such_db'" in line and "createdb" in line


def test_tls_the_server_does_not_offer_names_sslmode(tmp_path: Path, pg_url: str) -> None:
    url = make_url(pg_url)
    if url.host not in ("127.0.0.1", "localhost"):
        return  # only the local test server is known to run without TLS
    required = url.update_query_dict({"sslmode": "require"}).render_as_string(hide_password=False)
    result = _run(_config(tmp_path, database={"url": required}), "tickets", "list")
    line = _one_line(result)
    if "TLS failed" not in line:
        return  # this server offers TLS: nothing to refuse
    assert result.returncode == 2
    assert "check sslmode and sslrootcert in [database] url" in line


def test_unreachable_database_is_work_not_done(tmp_path: Path) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    result = _run(_config(tmp_path, database={"url": closed}), "tickets", "list")
    line = _one_line(result)
    assert result.returncode == 1
    assert "cannot reach the database" in line and "[database] url" in line


def test_a_reader_that_goes_away_is_no_error(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    cli.run("ingest", "-", stdin=mail(body="line\n" * 20000))
    command = f"{' '.join(POSTDESK)} --config {cli.config} tickets show SUP-1001 | head -n 1"
    result = subprocess.run(  # noqa: S602 - a shell pipeline is the case under test
        command,
        shell=True,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert result.stdout.startswith("SUP-1001")
    assert result.stderr == ""


def test_bad_filter_values_list_the_valid_ones(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    status = cli.run("tickets", "list", "--status", "bogus", check=False)
    assert status.returncode == 2
    assert b"invalid choice: 'bogus'" in status.stderr and b"'waiting_on_customer'" in status.stderr
    org = cli.run("tickets", "list", "--org", "Nobody", check=False)
    assert org.returncode == 2
    assert org.stderr.decode().strip() == (
        "postdesk: tickets list --org: no organisation 'Nobody'; "
        "valid: 'Acme', 'Globex', 'Initech Partners'"
    )
    limit = cli.run("tickets", "list", "--limit", "0", check=False)
    assert limit.returncode == 2 and b"must be 1 or more" in limit.stderr


def test_check_config_names_the_bad_cron_field(tmp_path: Path) -> None:
    result = _run(_config(tmp_path, schedule={"digest": "0 25 * * *"}), "check-config")
    line = _one_line(result)
    assert result.returncode == 2
    assert line.startswith("postdesk: configuration error: schedule.digest: the hour field '25'")


def test_check_config_refuses_duplicate_staff(tmp_path: Path) -> None:
    config = _config(tmp_path)
    text = config.read_text() + '\n[[staff]]\nname = "Alice Again"\nemail = "Alice@desk.example"\n'
    config.write_text(text)
    result = _run(config, "check-config")
    assert result.returncode == 2
    assert "staff: 'alice@desk.example' is listed twice" in _one_line(result)


@pytest.mark.parametrize("now", ["2099-01-01T00:00:00Z"])
def test_sweep_in_the_future_then_a_plain_flush_sends(
    tmp_path: Path, sqlite_url: str, now: str
) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    cli.run("ingest", "-", stdin=mail())
    cli.run("outbox", "flush")
    sweep = json.loads(cli.run("sweep", "--now", now).stdout)
    assert sweep["sweep"]["escalations"] == 2
    queued = [r for r in cli.json("outbox", "list") if r["status"] == "pending"]
    assert queued
    flushed = json.loads(cli.run("outbox", "flush", "--json").stdout)
    assert flushed["sent"] == len(queued)
    assert not [r for r in cli.json("outbox", "list") if r["status"] == "pending"]


def test_every_listen_address_is_checked(tmp_path: Path) -> None:
    from postdesk.config.load import load_settings
    from postdesk.serve.preflight import PortsBusy, check_ports

    port = free_port()
    config = _config(tmp_path, lmtp={"listen": f"127.0.0.1:{port}"})
    with socket.socket() as held:
        held.bind(("127.0.0.1", port))
        held.listen()
        try:
            check_ports(load_settings(config))
        except PortsBusy as exc:
            assert f"lmtp.listen 127.0.0.1:{port} is in use" in str(exc)
        else:
            raise AssertionError("a busy LMTP port passed")
