"""/healthz and /metrics on the daemon's storage: free bytes and writability of the spool and
data directories; degraded (503, with reasons) when one cannot be written or runs low."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from postdesk.serve.daemon import Daemon
from postdesk.serve.http import HttpEndpoint
from postdesk.serve.metrics import Metrics
from postdesk.serve.storage import StorageCheck, probe
from tests.faults import fill, small_tmpfs
from tests.helpers import make_app


def test_probe_reads_free_bytes_and_writes_a_byte(tmp_path: Path) -> None:
    state = probe(tmp_path)
    assert state.writable and state.free_bytes > 0 and state.error is None
    assert list(tmp_path.iterdir()) == []  # the probe file is gone


def test_low_free_space_is_degraded_with_a_reason(tmp_path: Path) -> None:
    check = StorageCheck({"data": tmp_path}, min_free_bytes=1 << 62)
    reasons, details = check.report()
    assert details["data"]["writable"] is True
    assert reasons == [
        f"data directory {tmp_path} has {details['data']['free_bytes']} bytes free, "
        f"below [ingest] min_free_bytes ({1 << 62})"
    ]
    assert StorageCheck({"data": tmp_path}, min_free_bytes=0).report()[0] == []


def test_full_and_read_only_filesystems_cannot_be_written(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "fs", "1m") as fs:
        ballast = fill(fs)
        full = probe(fs)
        assert not full.writable and full.error == "ENOSPC" and full.free_bytes == 0
        ballast.unlink()
        assert probe(fs).writable
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        reasons, _ = StorageCheck({"spool": fs}, 0).report()
        assert reasons == [f"spool directory {fs} cannot be written (EROFS)"]


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_healthz_answers_503_degraded_and_metrics_export_the_storage(tmp_path: Path) -> None:
    metrics = Metrics()
    metrics.track_storage(StorageCheck({"spool": tmp_path / "spool", "data": tmp_path}, 0))
    (tmp_path / "spool").mkdir()

    def degraded() -> tuple[bool, dict[str, Any]]:
        return False, {"status": "degraded", "reasons": ["data directory is full"]}

    endpoint = HttpEndpoint("127.0.0.1", 0, degraded, metrics.registry)
    endpoint.start()
    try:
        status, body = _get(endpoint.port, "/healthz")
        assert status == 503
        assert json.loads(body) == {"status": "degraded", "reasons": ["data directory is full"]}
        status, body = _get(endpoint.port, "/metrics")
    finally:
        endpoint.stop()
    text = body.decode()
    assert 'postdesk_storage_writable{directory="spool"} 1.0' in text
    assert 'postdesk_storage_writable{directory="data"} 1.0' in text
    free = [line for line in text.splitlines() if line.startswith("postdesk_storage_free_bytes{")]
    assert len(free) == 2 and all(float(line.split()[-1]) > 0 for line in free)


def test_daemon_health_is_degraded_below_min_free_bytes(tmp_path: Path, sqlite_url: str) -> None:
    app = make_app(tmp_path, sqlite_url, ingest={"min_free_bytes": 1 << 62})
    try:
        healthy, body = Daemon(app).health()
        assert not healthy and body["status"] == "degraded" and body["database"] == "ok"
        assert [reason.split()[0] for reason in body["reasons"]] == ["spool", "data"]
        assert body["storage"]["spool"]["writable"] and body["storage"]["data"]["writable"]
        directories = {"spool": app.spool.root, "data": app.settings.ingest.data_dir}
        assert Daemon(app, storage=StorageCheck(directories, 0)).health()[0]
    finally:
        app.close()
