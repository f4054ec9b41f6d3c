"""IMAP poller for one account: fetch new mail into the spool, move it away, remember the cursor.

Durable point 2, per batch of UIDs above the saved cursor:
``UID FETCH BODY.PEEK[]`` (the server marks nothing) -> ``Spool.put`` each message (fsynced)
-> ``MOVE`` to the processed mailbox (``COPY`` + ``\\Deleted`` + ``UID EXPUNGE`` where the server
lacks MOVE; ``\\Seen`` only, when no processed mailbox is configured) -> save the cursor.
A crash in between yields a duplicate that dedupe absorbs, never a loss. A changed UIDVALIDITY
voids the cursor and the mailbox is rescanned from UID 1.

Between cycles the poller IDLEs (re-issued every ``idle_timeout``) when the server and the
account allow it, else it waits ``poll_interval``. ``run`` never dies on an error: it drops the
connection and reconnects with capped exponential backoff until the stop event is set.

Logging in is the ``Authenticator``'s job (a password, or an OAuth2 token over SASL: see
``imap_auth``). A failed login (``LoginFailed``) is counted apart and reported through
``on_login``, so that the daemon can mark the account degraded until a login succeeds again.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient import DELETED, SEEN, IMAPClient, SocketTimeout

from ingest.listen.imap_auth import Authenticator, LoginFailed, PasswordLogin
from ingest.listen.imap_cursor import CursorStore
from ingest.listen.imap_message import envelope_recipients, return_path
from ingest.listen.imap_settings import ImapAccount, PollSettings
from ingest.spool.queue import Spool
from store.clock import utcnow

__all__ = ["ImapAccount", "ImapPoller", "LoginEvent", "PollSettings"]

log = logging.getLogger(__name__)

_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def _take_exists_responses(client: Any) -> bool:
    """Pop the EXISTS responses imaplib kept from earlier commands; True if there were any.

    A server reports new mail once, possibly inside the reply to an unrelated command, where
    imaplib stores it unread; IDLE would then wait for the next change. imapclient has no
    public accessor for these responses, hence the guarded private lookup.
    """
    responses = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    return isinstance(responses, dict) and bool(responses.pop("EXISTS", None))


def _shutdown_quietly(client: Any) -> None:
    """Close a connection that may already be broken; errors here carry no news."""
    try:
        client.shutdown()
    except Exception as exc:
        log.debug("imap: shutdown failed: %s", type(exc).__name__)


@dataclass(frozen=True, slots=True)
class LoginEvent:
    """What ``on_login`` hears: a failed login (``error`` set) or the first success after
    the start or after failures (``error`` None)."""

    account: str
    at: datetime
    error: str | None


class ImapPoller:
    """Polls one mailbox into the spool. ``run`` is the daemon loop; ``run_once`` one cycle.

    Health: ``last_success_at`` (last completed cycle), ``error_count`` (failed cycles),
    ``connect_count``, ``uidvalidity_resets``, ``spooled_count``; ``login_failures`` (failed
    logins, counted in ``error_count`` too) and ``login_failing_since`` / ``login_error``
    while logins fail. ``idling`` is set while the poller waits in IDLE (tests use it to know
    when to deliver).
    """

    def __init__(
        self,
        account: ImapAccount,
        spool: Spool,
        cursors: CursorStore,
        *,
        settings: PollSettings | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_spooled: Callable[[], None] | None = None,
        client_factory: Callable[..., Any] = IMAPClient,
        authenticator: Authenticator | None = None,
        on_login: Callable[[LoginEvent], None] | None = None,
    ) -> None:
        self.account = account
        self.settings = settings or PollSettings()
        self.source = f"imap:{account.account_key}"
        self._spool = spool
        self._cursors = cursors
        self._ssl_context = ssl_context
        self._clock = clock
        self._on_spooled = on_spooled
        self._client_factory = client_factory
        self._authenticator: Authenticator = authenticator or PasswordLogin(
            account.username, account.password
        )
        self._on_login = on_login
        self._login_reported = False
        self._client: Any = None
        self.last_success_at: datetime | None = None
        self.last_error: str | None = None
        self.error_count = 0
        self.connect_count = 0
        self.uidvalidity_resets = 0
        self.spooled_count = 0
        self.login_failures = 0
        self.login_failing_since: datetime | None = None
        self.login_error: str | None = None
        self.idling = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Fetch, then IDLE or wait, until ``stop`` is set; reconnect with backoff on errors."""
        failures = 0
        while not stop.is_set():
            try:
                self.run_once()
                failures = 0
                self.wait_for_mail(stop)
            except Exception as exc:
                failures += 1
                self._record_error(exc)
                self.close()
                stop.wait(self.settings.backoff.delay(failures))
        self.close()

    def run_once(self) -> int:
        """One cycle: (re)connect, select, spool every new message, move it, save the cursor.

        Returns how many messages were spooled; raises on any error (``run`` handles it).
        """
        client = self._connected()
        selected = client.select_folder(self.account.mailbox)
        _take_exists_responses(client)  # from here on, an EXISTS means mail arrived mid-cycle
        uidvalidity = int(selected[b"UIDVALIDITY"])
        key = self.account.account_key
        saved = self._cursors.load(key)
        last_uid = 0
        if saved is not None and int(saved[0]) == uidvalidity:
            last_uid = int(saved[1])
        elif saved is not None:
            self.uidvalidity_resets += 1
            log.warning(
                "imap %s: UIDVALIDITY changed from %s to %s; rescanning the mailbox",
                key,
                saved[0],
                uidvalidity,
            )
            self._cursors.save(key, uidvalidity, 0)
        uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        spooled = 0
        for start in range(0, len(uids), self.settings.batch_size):
            batch = uids[start : start + self.settings.batch_size]
            spooled += self._process_batch(client, batch, uidvalidity)
        self.last_success_at = self._clock()
        return spooled

    def wait_for_mail(self, stop: threading.Event) -> None:
        """IDLE until the server reports a change, ``idle_timeout`` passes or ``stop`` is set;
        without IDLE, wait ``poll_interval`` (returns early when ``stop`` is set)."""
        client = self._client
        if client is not None and _take_exists_responses(client):
            return  # mail arrived during the cycle; IDLE would not report it again
        if client is None or not self.account.idle or not client.has_capability("IDLE"):
            stop.wait(self.settings.poll_interval)
            return
        deadline = time.monotonic() + self.settings.idle_timeout
        client.idle()
        self.idling.set()
        try:
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                window = min(self.settings.idle_check_slice, remaining)
                started = time.monotonic()
                responses = client.idle_check(timeout=window)
                # An early empty return means EOF: leave IDLE, so idle_done reports it.
                if responses or time.monotonic() - started < window / 2:
                    break
        finally:
            self.idling.clear()
            client.idle_done()

    def close(self) -> None:
        """Log out (best effort) and forget the connection."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection is being dropped anyway
            _shutdown_quietly(client)

    def _connected(self) -> Any:
        if self._client is not None:
            try:
                self._client.noop()
                return self._client
            except Exception as exc:  # the server closed an idle connection: reconnect
                log.info(
                    "imap %s: connection lost (%s); reconnecting",
                    self.account.account_key,
                    type(exc).__name__,
                )
                self.close()
        account = self.account
        implicit_tls = account.tls and not account.uses_starttls
        if not account.tls and account.host not in _LOOPBACK_HOSTS:
            log.warning(
                "imap %s: plaintext connection; the password or token crosses the network "
                "unencrypted (set tls = true)",
                account.account_key,
            )
        client = self._client_factory(
            account.host,
            port=account.port,
            ssl=implicit_tls,
            ssl_context=self._ssl_context,
            timeout=SocketTimeout(self.settings.socket_timeout, self.settings.socket_timeout),
        )
        try:
            if account.uses_starttls:
                client.starttls(self._ssl_context or ssl.create_default_context())
            self._login(client)
            processed = account.processed_mailbox
            if processed and not client.folder_exists(processed):
                client.create_folder(processed)
                log.info("imap %s: created mailbox %r", account.account_key, processed)
        except BaseException:
            _shutdown_quietly(client)
            raise
        self._client = client
        self.connect_count += 1
        return client

    def _login(self, client: Any) -> None:
        """Log in; a failure is recorded as a login failure (and raised for ``run``)."""
        try:
            self._authenticator.login(client)
        except LoginFailed as exc:
            now = self._clock()
            self.login_failures += 1
            if self.login_failing_since is None:
                self.login_failing_since = now
            self.login_error = str(exc)
            self._login_reported = False
            self._report_login(LoginEvent(self.account.account_key, now, str(exc)))
            raise
        self.login_failing_since, self.login_error = None, None
        if not self._login_reported:
            self._login_reported = True
            self._report_login(LoginEvent(self.account.account_key, self._clock(), None))

    def _report_login(self, event: LoginEvent) -> None:
        if self._on_login is None:
            return
        try:
            self._on_login(event)
        except Exception as exc:  # reporting must not turn a login into a failure
            log.warning("imap: on_login callback failed: %s", type(exc).__name__)

    def _process_batch(self, client: Any, batch: Sequence[int], uidvalidity: int) -> int:
        fetched = client.fetch(list(batch), ["BODY.PEEK[]"])
        handled: list[int] = []
        spooled = 0
        try:
            for uid in batch:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is not None:  # None: expunged by someone else meanwhile
                    self._spool.put(
                        bytes(raw),
                        mail_from=return_path(raw),
                        rcpts=envelope_recipients(raw),
                        source=self.source,
                    )
                    spooled += 1
                handled.append(uid)
        finally:
            if handled:
                try:
                    self._mark_processed(client, handled)
                finally:
                    # Saved even when the move failed: the spooled messages are safe, and
                    # fetching them again every cycle would only pile up duplicates.
                    self._cursors.save(self.account.account_key, uidvalidity, max(handled))
                    self.spooled_count += spooled
        if spooled:
            log.info("imap %s: spooled %d messages", self.account.account_key, spooled)
            if self._on_spooled is not None:
                try:
                    self._on_spooled()
                except Exception as exc:  # the mail is safe; a broken wakeup is not a failure
                    log.warning("imap: on_spooled callback failed: %s", type(exc).__name__)
        return spooled

    def _mark_processed(self, client: Any, uids: list[int]) -> None:
        processed = self.account.processed_mailbox
        if not processed:
            client.add_flags(uids, [SEEN], silent=True)
        elif client.has_capability("MOVE"):
            client.move(uids, processed)
        else:
            client.copy(uids, processed)
            client.add_flags(uids, [DELETED], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()

    def _record_error(self, exc: BaseException) -> None:
        self.error_count += 1
        self.last_error = type(exc).__name__
        # IMAP server replies name the failed command, never message content.
        detail = str(exc).replace("\n", " ")[:200]
        log.error(
            "imap %s: %s: %s; retrying with backoff",
            self.account.account_key,
            type(exc).__name__,
            detail,
        )
