"""The plain values the pipeline runs with (filled from the configuration by `postdesk.app`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.webhooks import WebhookTarget


@dataclass(frozen=True, slots=True)
class RateWindow:
    count: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """Everything the pipeline needs to know about the desk."""

    secret_key: str
    support_addresses: dict[str, str | None]  # address -> implied category
    # priority -> (first response, resolution) targets, and the calculator of due times (calendar
    # or business hours), both from the configuration: `postdesk.app.pipeline_options`
    sla_targets: dict[str, tuple[timedelta, timedelta]]
    due_times: Callable[[str, datetime], tuple[datetime, datetime]]
    ticket_prefix: str = "SUP"
    desk_name: str = "Support"
    categories: tuple[str, ...] = ("account", "billing", "technical", "feature_request", "general")
    default_category: str = "general"
    unknown_senders: str = "reject"
    reopen_window: timedelta = timedelta(days=14)
    trust_staff_from: bool = False
    trusted_authserv_ids: tuple[str, ...] = ()
    # Senders of automated mail (Auto-Submitted: auto-generated) that may open tickets besides
    # known contacts and domains: addresses, or domains written "example.org" or "@example.org".
    accept_automated_from: tuple[str, ...] = ()
    custom_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_message_attachment_bytes: int = 25 * 1024 * 1024
    blocked_extensions: frozenset[str] = frozenset()
    sender_rate: RateWindow | None = RateWindow(30, timedelta(minutes=10))
    domain_rate: RateWindow | None = RateWindow(300, timedelta(minutes=10))
    ops_addresses: tuple[str, ...] = ()
    team_address: str | None = None
    from_address: str = ""
    # Keys replaced by `secret_key` in a rotation: reply tokens made under them still count.
    previous_secret_keys: tuple[str, ...] = ()
    # The highest priority a customer's `Priority:` line may set, unless the customer's
    # organisation says otherwise (`store.directory.organisation_max_priority`).
    customer_max_priority: str = "high"
    # Mail to customers: the desk's default language, and organisations' own (by name).
    language: str = "en"
    organisation_languages: dict[str, str] = field(default_factory=dict)
    # Configured webhooks and their events (`store.webhooks.emit` queues one row per match).
    webhooks: tuple[WebhookTarget, ...] = ()

    @property
    def support_set(self) -> frozenset[str]:
        return frozenset(self.support_addresses)

    @property
    def message_id_domain(self) -> str:
        address = self.from_address or next(iter(self.support_addresses))
        return address.rpartition("@")[2]

    def dues(self, priority: str, received_at: datetime) -> tuple[datetime, datetime]:
        """(first response due, resolution due) for a ticket received at `received_at`."""
        return self.due_times(priority, received_at)
