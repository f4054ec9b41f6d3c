"""What `serve` checks before it opens anything, and `check-config` with it: every value the
daemon will use (TLS files, templates), and that every listen address is free.

Each failure is a `ConfigError` naming the key and what to do, so the operator reads one line
instead of a traceback from deep in the start-up; all busy addresses are named at once.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

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


def check_values(settings: Settings) -> None:
    """Every value `serve` uses beyond what loading checked: the SMTP TLS files load, the
    templates folder is usable."""
    if settings.smtp.tls_cert is not None and settings.smtp.tls_key is not None:
        try:
            build_tls_context(settings.smtp.tls_cert, settings.smtp.tls_key)
        except ValueError as exc:
            raise ConfigError(f"smtp.tls_cert: {exc}") from None
    try:
        renderer(settings)
    except TemplateProblem as exc:
        raise ConfigError(f"templates_dir: {exc}") from None
