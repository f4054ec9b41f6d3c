"""What an IMAP poller is told: the account's connection values, its timing, its backoff.

Plain frozen values built by ``postdesk/config``; nothing here reads configuration itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential reconnect delay: ``initial * factor**(failures-1)``, capped at ``maximum``.

    ``jitter`` adds up to that fraction of the delay at random, so many pollers restarted
    together do not reconnect in lockstep; tests pass ``jitter=0``.
    """

    initial: float = 1.0
    maximum: float = 300.0
    factor: float = 2.0
    jitter: float = 0.1

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``failures`` consecutive failures (``failures >= 1``)."""
        exponent = max(failures - 1, 0)
        base = (
            self.maximum
            if exponent > 64
            else min(self.maximum, self.initial * self.factor**exponent)
        )
        spread = (rng or random).random() * self.jitter * base
        return min(base + spread, self.maximum * (1 + self.jitter))


@dataclass(frozen=True, slots=True)
class ImapAccount:
    """Connection values of one mailbox (plain values; ``postdesk/config`` builds them).

    ``tls``: encrypt, with STARTTLS when ``starttls`` is true, or when it is None and ``port``
    is 143; implicit TLS otherwise. ``processed_mailbox`` None: leave messages in place,
    flagged ``\\Seen``. ``key`` names the account in cursors and in the spool source
    ``imap:<key>``; empty means ``username@host:port/mailbox``.
    """

    host: str
    port: int
    tls: bool
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    processed_mailbox: str | None = "Processed"
    idle: bool = True
    key: str = ""
    starttls: bool | None = None

    @property
    def uses_starttls(self) -> bool:
        """True when TLS is started on a plain connection rather than from the first byte."""
        if not self.tls:
            return False
        return self.port == 143 if self.starttls is None else self.starttls

    @property
    def account_key(self) -> str:
        """The cursor key and spool source suffix of this account."""
        return self.key or f"{self.username}@{self.host}:{self.port}/{self.mailbox}"


@dataclass(frozen=True, slots=True)
class PollSettings:
    """Timing of one poller, in seconds."""

    poll_interval: float = 60.0
    idle_timeout: float = 240.0
    idle_check_slice: float = 1.0
    batch_size: int = 25
    socket_timeout: float = 60.0
    backoff: Backoff = field(default_factory=Backoff)
