"""`postdesk serve`: SMTP and LMTP listeners, IMAP pollers, spool worker, outbox worker,
scheduler, HTTP.

The SMTP listener runs in the asyncio loop of the main thread; the spool worker and the
outbox worker run in processes of their own (postdesk/workers.py); the IMAP pollers are
threads; the scheduler is APScheduler's background
scheduler. SIGTERM or SIGINT: stop accepting (close the listener), let in-flight work
finish, stop the threads, exit 0.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

from ingest.listen.imap import ImapAccount as PollerAccount
from ingest.listen.imap import ImapPoller, LoginEvent, PollSettings
from ingest.listen.lmtp import LmtpHandler, parse_listen, remove_socket, start_lmtp_server
from ingest.listen.smtp import (
    SpoolingHandler,
    build_tls_context,
    start_smtp_server,
    support_address_matcher,
)
from ingest.model import IngestResult, Outcome
from ingest.spool import writer as spool_writer
from postdesk.app import App
from postdesk.config.intake import missing_inbound_secrets
from postdesk.config.reader import ConfigError
from postdesk.config.settings import Settings
from postdesk.imap_oauth import authenticator
from postdesk.serve.api.routes import api_context, api_routes
from postdesk.serve.attachments import attachment_routes
from postdesk.serve.http import HttpEndpoint
from postdesk.serve.inbound import inbound_routes_for
from postdesk.serve.logs import configure_logging
from postdesk.serve.metrics import Metrics
from postdesk.serve.notify_start import start_notify
from postdesk.serve.preflight import check_ports, check_values
from postdesk.serve.reload import reloaded_settings
from postdesk.serve.storage import StorageCheck
from postdesk.serve.workers import WorkerProcess, spool_worker_main
from store import intake_counts, migrate
from store.cursors import DatabaseCursorStore
from store.imap_credentials import ImapCredentials

log = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class Daemon:
    """Every running part of `serve`, so that it can be started and stopped as one."""

    app: App
    metrics: Metrics = field(default_factory=Metrics)
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    pollers: list[ImapPoller] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    spool_process: WorkerProcess | None = None
    wake_outbox: Callable[[], None] | None = None
    smtp_port: int | None = None
    http: HttpEndpoint | None = None
    storage: StorageCheck | None = None
    restart_outbox: Callable[[Settings], None] | None = None
    verbose: bool = False
    reload_lock: threading.Lock = field(default_factory=threading.Lock)
    # Routes other parts serve on the HTTP listener besides /healthz, /metrics and /api/v1.
    extra_routes: list[BaseRoute] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.storage is None:
            self.storage = storage_check(self.app)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy when the database answers and the spool and data directories can be
        written with `min_free_bytes` to spare (else "degraded", with the reasons); details
        on the spool, the storage and IMAP."""
        body: dict[str, Any] = {"spool_depth": self.app.spool.depth()}
        healthy = True
        reasons: list[str] = []
        try:
            with self.app.db.transaction() as session:
                session.connection().exec_driver_sql("SELECT 1")
            body["database"] = "ok"
        except Exception as exc:  # any failure to answer is unhealthy
            healthy = False
            body["database"] = f"unreachable ({type(exc).__name__})"
            reasons.append("database unreachable")
        assert self.storage is not None
        storage_reasons, body["storage"] = self.storage.report()
        if storage_reasons:
            if healthy:
                body["status"] = "degraded"  # mail is accepted and decided no longer
            healthy = False
            reasons += storage_reasons
        login_reasons = self._login_reasons()
        if login_reasons:
            if healthy:
                body["status"] = "degraded"  # the other mailboxes and listeners still work
            healthy = False
            reasons += login_reasons
        if reasons:
            body["reasons"] = reasons
        body["imap"] = {
            p.account.account_key: {
                "last_success_at": p.last_success_at.isoformat() if p.last_success_at else None,
                "errors": p.error_count,
                "login_failures": p.login_failures,
                "login_failing_since": (
                    p.login_failing_since.isoformat() if p.login_failing_since else None
                ),
            }
            for p in self.pollers
        }
        return healthy, body

    def _login_reasons(self) -> list[str]:
        """One reason per mailbox that cannot log in: since when, why, and what fixes it."""
        auth = {a.name: a.auth for a in self.app.settings.imap}
        reasons = []
        for poller in self.pollers:
            since = poller.login_failing_since
            if since is None:
                continue
            name = poller.account.account_key
            fix = (
                f"run: postdesk imap login {name}"
                if auth.get(name) == "oauth2"
                else "check the account's password"
            )
            reasons.append(
                f"imap {name}: cannot log in since {since.isoformat(timespec='seconds')} "
                f"({poller.login_error}); {fix}"
            )
        return reasons

    def _on_login(self, credentials: ImapCredentials, oauth2: bool) -> Callable[[LoginEvent], None]:
        """Count failed logins in /metrics; for OAuth2 accounts keep the login state in the
        database too (the ops digest names the mailbox and `postdesk imap login`)."""

        def report(event: LoginEvent) -> None:
            if event.error is not None:
                self.metrics.imap_login_failures.labels(event.account).inc()
            if not oauth2:
                return
            if event.error is not None:
                credentials.login_failed(event.account, event.error, event.at)
            else:
                credentials.login_succeeded(event.account)

        return report

    def _spool_report(self, item: tuple[Any, ...]) -> None:
        """A step's decisions for /metrics, or a commit: wake the outbox worker for its mails."""
        if item[0] == "committed":
            if self.wake_outbox is not None:
                self.wake_outbox()
            return
        for outcome, redactions, latency, source in item[1]:
            result = IngestResult(Outcome(outcome), None, None, "", redactions)
            self.metrics.observe(result, latency, source)

    def start_threads(self) -> None:
        """Start the spool worker, IMAP pollers, outbox worker, scheduler and HTTP endpoint."""
        app, settings = self.app, self.app.settings
        recovered = app.spool.recover()  # before any worker runs: nothing is claimed now
        if recovered:
            log.info("spool: %d interrupted message(s) queued again", recovered)
        # Before the listeners open: a burst right after the start then writes into existing
        # files too (ingest.spool.free; the folder is kept across restarts, so only the first
        # start creates them all, in 0.2-0.4 s on the development machine).
        stocked = app.spool.free.stock(at_most=app.spool.free.keep)
        log.debug("spool: %d empty files added to the free folder", stocked)
        self.metrics.track_spool(app.spool.depth)
        self.metrics.track_recorded(functools.partial(recorded_intake_counts, app))
        assert self.storage is not None
        self.metrics.track_storage(self.storage)
        self.spool_process = WorkerProcess(
            "spool-worker", spool_worker_main, settings, self._spool_report
        )
        self.spool_process.start()
        cursors = DatabaseCursorStore(app.db)
        credentials = ImapCredentials(
            app.db, settings.desk.secret_key, settings.desk.previous_secret_keys
        )
        for account in settings.imap:
            poller = ImapPoller(
                PollerAccount(
                    host=account.host,
                    port=account.port,
                    tls=account.tls,
                    username=account.username,
                    password=account.password,
                    mailbox=account.mailbox,
                    processed_mailbox=account.processed_mailbox,
                    idle=account.idle,
                    key=account.name,
                ),
                app.spool,
                cursors,
                settings=PollSettings(poll_interval=account.poll_interval_seconds),
                on_spooled=self.spool_process.wakeup,
                authenticator=authenticator(account, credentials),
                on_login=self._on_login(credentials, account.auth == "oauth2"),
            )
            self.pollers.append(poller)
            self.metrics.track_imap(account.name, _error_count(poller))
            self._thread(f"imap-{account.name}", poller.run)
        notify = start_notify(app, self.metrics, self.stop_event, self._thread)
        self.wake_outbox = notify.wake_outbox
        self.restart_outbox = notify.restart_outbox
        self.closers += notify.closers
        if settings.http.enabled:
            assert self.spool_process is not None
            routes = [
                *api_routes(api_context(app, self.wake_outbox)),
                *attachment_routes(
                    app.db,
                    app.blobs,
                    settings.desk.secret_key,
                    previous_keys=settings.desk.previous_secret_keys,
                ),
                *inbound_routes_for(settings, app.spool, on_spooled=self.spool_process.wakeup),
                *self.extra_routes,
            ]
            self.http = HttpEndpoint(
                settings.http.host, settings.http.port, self.health, self.metrics.registry, routes
            )
            self.http.start()
            log.info(
                "http: /healthz, /metrics, /api/v1, /attachments%s on %s:%d",
                "".join(f", {w.path}" for w in settings.inbound),
                settings.http.host,
                self.http.port,
            )

    def reload(self) -> bool:
        """SIGHUP (postdesk.serve.reload): reopen the log, write the directory, start the
        workers again on the new organisations, staff, fields and templates. Whether the
        new configuration was applied."""
        with self.reload_lock:
            # First, so that the lines of this reload go to the file the operator expects.
            configure_logging(self.app.settings.logging, verbose=self.verbose)
            loaded = reloaded_settings(self.app.settings)
            if loaded is None:
                return False
            settings, restart_needed = loaded
            configure_logging(settings.logging, verbose=self.verbose)
            self.app.settings = settings
            self.app.sync_directory()
            if self.spool_process is not None:
                self.spool_process.restart(settings, STOP_TIMEOUT_SECONDS)
            if self.restart_outbox is not None:
                self.restart_outbox(settings)
            log.info(
                "reloaded: organisations %d, staff %d, fields %d, templates, log file",
                len(settings.organisations),
                len(settings.staff),
                len(settings.fields),
            )
            if restart_needed:
                log.warning(
                    "reload: changes to %s apply only after a restart of postdesk serve",
                    ", ".join(restart_needed),
                )
            return True

    def _thread(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self.stop_event,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop_threads(self) -> None:
        self.stop_event.set()
        if self.spool_process is not None:
            self.spool_process.shutdown(STOP_TIMEOUT_SECONDS)
        for poller in self.pollers:
            poller.close()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        for close in self.closers:
            close()
        if self.http is not None:
            self.http.stop()
        self.app.close()


def storage_check(app: App) -> StorageCheck:
    """The directories `serve` writes: the spool and the data directory (attachments,
    quarantine), each to keep `[ingest] min_free_bytes` free."""
    directories = {"spool": app.spool.root, "data": app.settings.ingest.data_dir}
    return StorageCheck(directories, app.settings.ingest.min_free_bytes)


def recorded_intake_counts(app: App) -> dict[str, int]:
    """The paths counted by `postdesk ingest` and `import` (store.intake_counts)."""
    with app.db.transaction() as session:
        return intake_counts.counts(session)


def _error_count(poller: ImapPoller) -> Callable[[], int]:
    return lambda: poller.error_count


async def _serve(daemon: Daemon) -> None:
    settings = daemon.app.settings
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    # A reload waits for the workers to finish their step: off the loop, which keeps serving.
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, daemon.reload))
    daemon.start_threads()
    server = None
    # Spool writes (fsync) get their own threads, so other work can never stall acceptance.
    # One thread for each group of messages the SMTP handler's writer keeps in flight.
    spool_writers = ThreadPoolExecutor(
        max_workers=spool_writer.DEFAULT_WRITERS, thread_name_prefix="spool-write"
    )
    daemon.closers.append(lambda: spool_writers.shutdown(wait=True))
    if settings.smtp.enabled:
        assert daemon.spool_process is not None
        handler = SpoolingHandler(
            daemon.app.spool,
            support_address_matcher(settings.support_address_list),
            max_message_bytes=settings.smtp.max_message_bytes,
            max_recipients=settings.smtp.max_recipients,
            on_spooled=daemon.spool_process.wakeup,
            executor=spool_writers,
        )
        tls = None
        if settings.smtp.tls_cert and settings.smtp.tls_key:
            tls = build_tls_context(settings.smtp.tls_cert, settings.smtp.tls_key)
        server = await start_smtp_server(
            handler, settings.smtp.host, settings.smtp.port, tls_context=tls
        )
        daemon.smtp_port = server.sockets[0].getsockname()[1]
        log.info("smtp: listening on %s:%d", settings.smtp.host, daemon.smtp_port)
    lmtp = await start_lmtp(daemon, spool_writers)
    log.info("postdesk serving (%s)", settings.desk.name)
    await stopping.wait()
    log.info("stopping: no new connections; finishing in-flight work")
    if lmtp is not None:
        lmtp.close()
    if server is not None:
        server.close()
        await asyncio.wait_for(server.wait_closed(), timeout=STOP_TIMEOUT_SECONDS)
    if lmtp is not None:
        await asyncio.wait_for(lmtp.wait_closed(), timeout=STOP_TIMEOUT_SECONDS)
        remove_socket(parse_listen(settings.lmtp.listen))


async def start_lmtp(daemon: Daemon, executor: ThreadPoolExecutor) -> asyncio.Server | None:
    """The `[lmtp]` listener, when configured: the SMTP listener's checks and size limit."""
    settings = daemon.app.settings
    if not settings.lmtp.enabled:
        return None
    assert daemon.spool_process is not None
    handler = LmtpHandler(
        daemon.app.spool,
        support_address_matcher(settings.support_address_list),
        max_message_bytes=settings.smtp.max_message_bytes,
        max_recipients=settings.smtp.max_recipients,
        on_spooled=daemon.spool_process.wakeup,
        executor=executor,
    )
    address = parse_listen(settings.lmtp.listen)
    server = await start_lmtp_server(handler, address, socket_mode=settings.lmtp.socket_mode)
    log.info("lmtp: listening on %s", address)
    return server


def run_daemon(settings: Settings, *, verbose: bool = False) -> int:
    """Run until SIGTERM/SIGINT; refuses to start on an out-of-date schema, on a value it
    cannot use or on a busy listen address (checked all before anything is opened)."""
    problems = missing_inbound_secrets(settings)
    if problems:  # a webhook that cannot verify its requests must not run
        raise ConfigError(problems[0])
    check_values(settings)
    check_ports(settings)
    app = App.build(settings)
    migrate.ensure_current(app.db.engine, busy_timeout_seconds=app.db.busy_timeout_seconds)
    app.sync_directory()
    daemon = Daemon(app, verbose=verbose)
    try:
        asyncio.run(_serve(daemon))
    except TimeoutError:
        log.warning("stopping: SMTP sessions did not finish in time; closing anyway")
    finally:
        daemon.stop_threads()
    log.info("postdesk stopped")
    return 0
