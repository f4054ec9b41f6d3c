"""Files a real `postdesk` run creates are private to its user: the SQLite database and its
-wal and -shm files, the log file and attachments 0600; the data folders 0700."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.e2e.cli import toml_dump
from tests.helpers import example_config, mail

# Runs the real command line (`db upgrade`, then `ingest`) in a process of its own, started
# with umask 022 as a shell would, recording the modes of the database's files just before
# its connections close (the last close removes -wal and -shm).
OBSERVED_RUN = """
import json, os, sys
from pathlib import Path
from store import db
from postdesk.cli.main import main

os.umask(0o022)
seen = {}
dispose = db.Database.dispose

def observe(self):
    database = Path(self.engine.url.database)
    for name in (database.name, database.name + "-wal", database.name + "-shm"):
        path = database.with_name(name)
        if path.exists():
            seen[name] = oct(path.stat().st_mode & 0o777)
    dispose(self)

db.Database.dispose = observe
config = sys.argv[1]
code = main(["--config", config, "db", "upgrade"]) or main(["--config", config, "ingest"])
print(json.dumps(seen))
sys.exit(code)
"""


def test_database_wal_log_and_data_files_are_private(tmp_path: Path) -> None:
    database = tmp_path / "db" / "postdesk.db"  # created by the command, not by the test
    config = example_config()
    config["database"]["url"] = f"sqlite:///{database}"
    config["ingest"]["data_dir"] = str(tmp_path / "data")
    config["outbound"]["file_dir"] = str(tmp_path / "outbox")
    config["logging"]["file"] = str(tmp_path / "postdesk.log")
    (tmp_path / "config.toml").write_text(toml_dump(config))
    run = subprocess.run(
        [sys.executable, "-c", OBSERVED_RUN, str(tmp_path / "config.toml")],
        input=mail(attachments=[("app.log", "text/plain", b"export failed\n" * 50)]),
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    modes = json.loads(run.stdout.decode().strip().splitlines()[-1])
    assert modes == {"postdesk.db": "0o600", "postdesk.db-wal": "0o600", "postdesk.db-shm": "0o600"}

    def mode(path: Path) -> int:
        return path.stat().st_mode & 0o777

    assert mode(tmp_path / "postdesk.log") == 0o600
    assert mode(database.parent) == 0o700
    data = tmp_path / "data"
    folders = [data, *(path for path in data.rglob("*") if path.is_dir())]
    files = [path for path in data.rglob("*") if path.is_file()]
    assert {"attachments", "quarantine", "spool"} <= {path.name for path in folders}
    assert files, "the attachment was stored"
    assert {mode(path) for path in folders} == {0o700}
    assert {mode(path) for path in files} == {0o600}
