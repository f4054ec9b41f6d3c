"""What `serve` checks before it opens anything, and `check-config` with it: every value the
daemon will use (TLS files, templates), and that every listen address is free.

Each failure is a `ConfigError` naming the key and what to do, so the operator reads one line
instead of a traceback from deep in the start-up; all busy addresses are named at once.
"""

from __future__ import annotations

import errno
import os
import pwd
import socket
from dataclasses import dataclass
from pathlib import Path

from ingest.listen.smtp import build_tls_context
from notify.errors import TemplateProblem
from postdesk.config.load import ConfigError
from postdesk.config.settings import Settings
from postdesk.notify_build import renderer

__all__ = ["ListenAddress", "PortsBusy", "check_ports", "check_values", "listen_addresses"]


class PortsBusy(ConfigError):
    """A listen address of the configuration cannot be opened now: the work is not done (exit
    1, so a supervisor tries again), the configuration may well be right."""

    label = ""
    exit_code = 1


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """One address `serve` listens on, and the configuration key that names it."""

    key: str
    host: str
    port: int


def listen_addresses(settings: Settings) -> list[ListenAddress]:
    """Every address `serve` will listen on (port 0: the system picks one, never busy)."""
    found: list[ListenAddress] = []
    if settings.smtp.enabled:
        found.append(ListenAddress("smtp.listen", settings.smtp.host, settings.smtp.port))
    if settings.http.enabled:
        found.append(ListenAddress("http.listen", settings.http.host, settings.http.port))
    lmtp = settings.lmtp.listen
    if lmtp and not lmtp.startswith("unix:"):  # a socket file left by a crash is replaced
        host, _, port = lmtp.rpartition(":")
        found.append(ListenAddress("lmtp.listen", host.strip("[]"), int(port)))
    return [a for a in found if a.port != 0]


def _bind_problem(address: ListenAddress) -> str | None:
    """Why `address` cannot be listened on now (None: it can), tried as the servers bind."""
    try:
        infos = socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return "the host name does not resolve"
    for family, kind, proto, _name, sockaddr in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return "in use"
                if exc.errno == errno.EADDRNOTAVAIL:
                    return "not an address of this machine"
                if exc.errno == errno.EACCES:
                    return "a privileged port (below 1024) this user may not open"
                return exc.strerror or type(exc).__name__
    return None


def check_ports(settings: Settings) -> None:
    """Raise one `ConfigError` naming every listen address that cannot be opened."""
    problems = []
    for address in listen_addresses(settings):
        problem = _bind_problem(address)
        if problem is not None:
            problems.append((address, problem))
    if not problems:
        return
    listed = "; ".join(f"{a.key} {a.host}:{a.port} is {p}" for a, p in problems)
    keys = ", ".join(a.key for a, _ in problems)
    raise PortsBusy(
        f"cannot listen: {listed}. Nothing was started: stop the process holding the port "
        f"(`ss -ltnp` shows it; is postdesk already running?) or change {keys}"
    )


def _writable(key: str, path: Path, *, folder: bool) -> None:
    """`path` (a folder, or a file's folder) exists and can be written by this user, or can
    be created: its nearest existing parent can."""
    target = path if folder else path.parent
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{key}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "write in" if existing == target else f"create {target} in"
        raise ConfigError(
            f"{key}: this user ({_user()}) cannot {what} {existing}; run postdesk as the user "
            "that owns it, or change the key"
        )
    if not folder and path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{key}: this user ({_user()}) cannot write {path}")


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def check_paths(settings: Settings) -> None:
    """The folders and files `serve` writes can be written (or created) by this user."""
    _writable("ingest.data_dir", settings.ingest.data_dir, folder=True)
    if settings.logging.file is not None:
        _writable("logging.file", settings.logging.file, folder=False)
    if settings.outbound.transport == "file":
        _writable("outbound.file_dir", settings.outbound.file_dir, folder=True)
    url = settings.database.url
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        _writable("database.url", Path(url.removeprefix("sqlite:///")), folder=False)


def check_values(settings: Settings) -> None:
    """Every value `serve` uses beyond what loading checked: the paths it writes, the SMTP
    TLS files load, the templates folder is usable."""
    check_paths(settings)
    if settings.smtp.tls_cert is not None and settings.smtp.tls_key is not None:
        try:
            build_tls_context(settings.smtp.tls_cert, settings.smtp.tls_key)
        except ValueError as exc:
            raise ConfigError(f"smtp.tls_cert: {exc}") from None
    try:
        renderer(settings)
    except TemplateProblem as exc:
        raise ConfigError(f"templates_dir: {exc}") from None
