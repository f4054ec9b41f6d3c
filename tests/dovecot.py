"""A throwaway Dovecot IMAP server on a free loopback port, for tests that speak real IMAP.

``ensure_dovecot()`` installs ``dovecot-imapd`` with apt-get when ``/usr/sbin/dovecot`` is
missing (once per session). ``DovecotServer`` writes its own configuration into a private
directory (maildir storage owned by the ``mail`` user; a static passdb: any user name, one
plaintext password; plain IMAP with STARTTLS on ``port``, implicit TLS on ``tls_port``, with a
self-signed certificate; 127.0.0.1 only), runs ``dovecot -F`` as a child process, and can stop,
restart and reset a mailbox's UIDVALIDITY. The ``dovecot`` fixture (session scope) yields a
running server, or skips (fails under POSTDESK_REQUIRE_SERVICES=1) when it cannot start.
``DovecotServer.create(introspection_url)`` also accepts XOAUTH2 and OAUTHBEARER, checked by
Dovecot's ``oauth2`` passdb at that RFC 7662 endpoint (tests/idp.py runs one).
Supports Dovecot 2.3 (Debian 12); 2.4 changed the configuration syntax and is refused clearly.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

from tests.conftest import skip_or_fail

DOVECOT = Path("/usr/sbin/dovecot")
START_TIMEOUT_SECONDS = 20.0
_install_error: str | None = None
_install_tried = False

_CONFIG = """\
# Written by tests/dovecot.py for one test session; not for production.
instance_name = postdesk-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
mail_location = maildir:{root}/mail/%n
mail_uid = mail
mail_gid = mail
first_valid_uid = {mail_uid}
last_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
mailbox_idle_check_interval = 1 secs
shutdown_clients = yes
auth_failure_delay = 0 secs
passdb {{
  driver = static
  args = password={password}
  mechanisms = plain login
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


# With an identity provider: XOAUTH2 and OAUTHBEARER logins are checked by Dovecot's oauth2
# passdb, which asks the provider's introspection endpoint (RFC 7662, token in a POST body).
_OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}}
"""
_OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {introspection_url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
"""


def ensure_dovecot() -> str | None:
    """Install dovecot-imapd when missing; returns None when usable, else the reason."""
    global _install_error, _install_tried  # noqa: PLW0603 - one install per session
    if DOVECOT.exists():
        return _version_problem()
    if _install_tried:
        return _install_error
    _install_tried = True
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "dovecot-imapd"]
    done = subprocess.run(install, env=env, capture_output=True, check=False, timeout=600)
    if done.returncode != 0:
        subprocess.run(
            ["apt-get", "update", "-q"], env=env, capture_output=True, check=False, timeout=600
        )
        done = subprocess.run(install, env=env, capture_output=True, check=False, timeout=600)
    if done.returncode != 0 or not DOVECOT.exists():
        tail = done.stderr.decode(errors="replace")[-300:]
        _install_error = f"could not install dovecot-imapd with apt-get: {tail}"
        return _install_error
    return _version_problem()


def _version_problem() -> str | None:
    out = subprocess.run([str(DOVECOT), "--version"], capture_output=True, check=False)
    version = out.stdout.decode().strip()
    if not version.startswith("2.3."):
        return f"tests/dovecot.py writes Dovecot 2.3 configuration; found {version or '?'}"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` for localhost / 127.0.0.1 (valid one day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def client_tls_context(cert_path: Path) -> ssl.SSLContext:
    """A client context that trusts exactly the given self-signed certificate."""
    return ssl.create_default_context(cafile=str(cert_path))


@dataclass
class DovecotServer:
    """One Dovecot instance; ``start`` blocks until it greets on ``port`` (bounded)."""

    root: Path
    port: int
    tls_port: int
    cert_path: Path
    password: str
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"

    @classmethod
    def create(cls, introspection_url: str | None = None) -> DovecotServer:
        """Write the configuration into a fresh directory (not started yet).

        ``introspection_url``: also accept XOAUTH2 and OAUTHBEARER, checked by the oauth2
        passdb against that endpoint (the test's identity provider stand-in).
        """
        root = Path(tempfile.mkdtemp(prefix="postdesk-dovecot-"))
        root.chmod(0o755)  # the mail user must reach root/mail
        mail = pwd.getpwnam("mail")
        (root / "mail").mkdir(mode=0o700)
        os.chown(root / "mail", mail.pw_uid, mail.pw_gid)
        (root / "state").mkdir(mode=0o755)
        (root / "tls").mkdir(mode=0o700)
        cert_path, _ = self_signed_certificate(root / "tls")
        server = cls(
            root=root,
            port=free_port(),
            tls_port=free_port(),
            cert_path=cert_path,
            password=secrets.token_urlsafe(12),
        )
        server.config_path.write_text(
            _CONFIG.format(
                root=root,
                port=server.port,
                tls_port=server.tls_port,
                password=server.password,
                mail_uid=mail.pw_uid,
                mail_gid=mail.pw_gid,
                oauth2_mechanisms=" xoauth2 oauthbearer" if introspection_url else "",
                oauth2_passdb=_OAUTH2_PASSDB.format(root=root) if introspection_url else "",
            )
        )
        if introspection_url:
            (root / "dovecot-oauth2.conf.ext").write_text(
                _OAUTH2_CONF.format(introspection_url=introspection_url)
            )
        return server

    @property
    def config_path(self) -> Path:
        """The dovecot.conf of this instance."""
        return self.root / "dovecot.conf"

    def add_user(self) -> tuple[str, str]:
        """A new user name with fresh, empty mailboxes, and the password; (user, password).

        The static passdb accepts any user name with the server's one password (a
        passwd-file would not be re-read by Dovecot within the second of its last lookup).
        """
        return f"user{secrets.token_hex(4)}", self.password

    def start(self) -> None:
        """Start dovecot in the foreground as a child and wait until it greets."""
        if self.process is not None and self.process.poll() is None:
            return
        self.process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited at start: {err.strip()} {self.log_tail()}")
            if self._greets():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log_tail()}")

    def stop(self) -> None:
        """Stop this instance and every process it forked (its own process group), bounded.

        Waiting for the imap children matters: one still running after the master would
        keep writing index files (and answering clients) across a restart.
        """
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def restart(self) -> None:
        """Stop, then start again on the same port (clients are disconnected)."""
        self.stop()
        self.start()

    def reset_uidvalidity(self, user: str, mailbox: str = "INBOX") -> None:
        """Give ``mailbox`` a new UIDVALIDITY: stop, drop its uidlist and indexes, start.

        The messages stay; Dovecot renumbers them from UID 1 under the new UIDVALIDITY.
        """
        self.stop()
        home = self.root / "mail" / user
        folder = home if mailbox == "INBOX" else home / f".{mailbox}"
        for path in folder.iterdir():
            if path.name == "dovecot-uidlist" or path.name.startswith("dovecot.index"):
                path.unlink()
        for path in home.glob("dovecot.list.index*"):  # caches every mailbox's UIDVALIDITY
            path.unlink()
        self.start()

    def client(self, user: str, password: str) -> IMAPClient:
        """A logged-in plain IMAP client for a test to arrange or inspect mailboxes."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, password)
        return client

    def log_tail(self, chars: int = 2000) -> str:
        """The end of dovecot's log file, for failure messages."""
        with contextlib.suppress(OSError):
            return (self.root / "dovecot.log").read_text(errors="replace")[-chars:]
        return ""

    def remove(self) -> None:
        """Stop and delete every file of this instance."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A running throwaway Dovecot for the whole session; tests add their own users."""
    server = started_dovecot()
    yield server
    server.remove()


def started_dovecot(introspection_url: str | None = None) -> DovecotServer:
    """A created and started server, or skip (fail under POSTDESK_REQUIRE_SERVICES=1)."""
    problem = ensure_dovecot()
    if problem is not None:
        skip_or_fail(problem)
    server = DovecotServer.create(introspection_url)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.remove()
        skip_or_fail(f"cannot start dovecot: {exc}")
    return server
