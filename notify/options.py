"""Option objects that `postdesk/app.py` fills from Settings; notify never reads config itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from notify.sla import SlaOptions
from store.webhooks import WebhookTarget


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """How the outbox worker addresses, retries and limits mail ([outbound] + [desk])."""

    from_address: str
    secret_key: str
    desk_name: str = "Support"
    max_attempts: int = 8
    backoff_seconds: tuple[int, ...] = (60, 300, 900, 3600, 7200)
    per_ticket_hourly_limit: int = 10
    per_address_daily_limit: int = 50
    # Our own addresses (ops digest_to, team address, staff): never rate limited.
    exempt_recipients: frozenset[str] = frozenset()
    lease_seconds: int = 300
    batch_size: int = 20
    idle_poll_seconds: float = 15.0
    # The relay connection is kept while mail keeps coming, closed after this long without.
    connection_idle_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class SmtpRelayOptions:
    """The relay the SMTP transport hands mail to ([outbound] host, port, starttls, auth)."""

    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    implicit_tls: bool = False  # TLS from the first byte (SMTPS, port 465), not STARTTLS
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_seconds: float = 60.0
    local_hostname: str | None = None


@dataclass(frozen=True, slots=True)
class SweepOptions:
    """What the time-driven sweeps do ([sla], [ops]) and how their rows are addressed."""

    message_id_domain: str
    sla: SlaOptions = field(default_factory=SlaOptions)
    waiting_reminder_days: int = 3
    waiting_close_days: int = 7
    resolved_close_days: int = 7
    digest_to: tuple[str, ...] = ()
    team_address: str | None = None
    desk_name: str = "Support"
    # [notify]: the requester's "escalated" mail at a breach, and "waiting for your reply".
    customer_escalation_mail: bool = True
    customer_reminder_mail: bool = True
    webhooks: tuple[WebhookTarget, ...] = ()  # subscribers to sla.breached, ticket.escalated, ...


@dataclass(frozen=True, slots=True)
class ScheduleOptions:
    """When jobs run ([schedule]): the sweep interval and the two digest crons."""

    sweep_interval_seconds: int = 60
    digest_cron: str = "0 * * * *"
    daily_digest_cron: str = "0 7 * * *"
    timezone: str = "UTC"
    misfire_grace_seconds: int = 3600
