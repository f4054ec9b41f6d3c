"""The frozen settings objects that the configuration file is validated into.

Only `postdesk/` reads configuration; every other package receives these values (or plain
arguments taken from them). Defaults here are the documented defaults of
`config.example.toml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

PRIORITIES: tuple[str, ...] = ("urgent", "high", "medium", "low")
PRIORITY_ALIASES: dict[str, str] = {"critical": "urgent", "normal": "medium"}
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "account",
    "billing",
    "technical",
    "feature_request",
    "general",
)
DEFAULT_BLOCKED_EXTENSIONS: tuple[str, ...] = (
    "exe",
    "com",
    "bat",
    "cmd",
    "scr",
    "pif",
    "msi",
    "msp",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "ps1",
    "psm1",
    "hta",
    "cpl",
    "jar",
    "lnk",
    "reg",
    "dll",
    "sh",
    "app",
    "apk",
    "iso",
    "docm",
    "xlsm",
    "pptm",
)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `count` events per `window`; `None` (the string "off") disables it."""

    count: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class SupportAddress:
    """One address the desk receives mail on, and the category it implies (if any)."""

    address: str
    category: str | None = None


@dataclass(frozen=True, slots=True)
class DeskSettings:
    name: str
    ticket_prefix: str
    support_addresses: tuple[SupportAddress, ...]
    unknown_senders: str
    reopen_window_days: int
    secret_key: str
    trust_staff_from: bool
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    default_category: str = "general"
    # Keys a rotation replaced: reply tokens and quarantine made under them still work.
    previous_secret_keys: tuple[str, ...] = ()
    retention_days: int | None = None  # closed tickets erased after this many days (None: off)
    # The highest priority a customer's `Priority:` line may set (organisations may differ).
    customer_max_priority: str = "high"
    # Mail to customers when neither their organisation nor their mail names a language;
    # mail to staff and ops (staff_language).
    language: str = "en"
    staff_language: str = "en"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str
    busy_timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    enabled: bool
    host: str
    port: int
    max_message_bytes: int
    max_recipients: int
    tls_cert: Path | None
    tls_key: Path | None


@dataclass(frozen=True, slots=True)
class OAuth2Settings:
    """`[imap.oauth2]`: where an account's access tokens come from (see docs/operations.md)."""

    provider: str  # "microsoft", "google" or "generic"
    flow: str  # microsoft: "app" | "device_code"; google: "service_account" | "installed";
    # generic: "refresh_token"
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]
    token_url: str  # google and generic: the token endpoint
    authority_url: str  # microsoft: https://login.microsoftonline.com/<tenant>
    authorization_url: str  # google installed-app: where the browser signs in
    service_account_file: Path | None


@dataclass(frozen=True, slots=True)
class ImapAccount:
    name: str
    host: str
    port: int
    tls: bool
    username: str
    password: str
    mailbox: str
    processed_mailbox: str
    idle: bool
    poll_interval_seconds: float
    auth: str = "password"  # or "oauth2"
    sasl: str = "xoauth2"  # or "oauthbearer" (auth = "oauth2" only)
    oauth2: OAuth2Settings | None = None


@dataclass(frozen=True, slots=True)
class OutboundSettings:
    transport: str
    host: str
    port: int
    starttls: bool
    username: str
    password: str
    from_address: str
    file_dir: Path
    max_attempts: int
    backoff_seconds: tuple[int, ...]
    per_ticket_hourly_limit: int
    per_address_daily_limit: int
    implicit_tls: bool = False  # [outbound] tls = "implicit": SMTPS (port 465)


@dataclass(frozen=True, slots=True)
class SlaTarget:
    first_response: timedelta
    resolution: timedelta


@dataclass(frozen=True, slots=True)
class SlaSettings:
    targets: dict[str, SlaTarget]
    reminder_at: float
    waiting_reminder_days: int
    waiting_close_days: int
    resolved_close_days: int
    business_hours: str | None
    timezone: str
    holidays: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    digest_cron: str
    daily_digest_cron: str
    sweep_interval_seconds: int


@dataclass(frozen=True, slots=True)
class OpsSettings:
    digest_to: tuple[str, ...]
    team_address: str | None


@dataclass(frozen=True, slots=True)
class IngestSettings:
    data_dir: Path
    max_attachment_bytes: int
    max_message_bytes_attachments: int
    blocked_extensions: tuple[str, ...]
    quarantine_retention_days: int
    sender_rate_limit: RateLimit | None
    domain_rate_limit: RateLimit | None
    trusted_authserv_ids: tuple[str, ...]
    accept_automated_from: tuple[str, ...]
    max_attempts: int
    # /healthz is degraded while the spool or data directory has less free space than this.
    min_free_bytes: int = 100 * 1024 * 1024
    max_processing_seconds: float = 30.0  # analysing one message: past it, quarantined


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str
    file: Path | None
    json: bool


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A custom field a customer may set with a field line (`Name: value`)."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HttpSettings:
    enabled: bool
    host: str
    port: int
    # The address people reach the listener at, for links in mail ("" = http://listen).
    public_url: str = ""

    @property
    def base_url(self) -> str:
        """`public_url`, else the listen address, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass(frozen=True, slots=True)
class StaffMember:
    name: str
    email: str
    display_name: str = ""  # e.g. "Alice Moreau": relayed replies read "Alice Moreau (Desk)"
    signature: str = ""  # appended to the staff member's relayed replies


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    domains: tuple[str, ...]
    contacts: tuple[Contact, ...]
    partner_of: tuple[str, ...]
    max_priority: str | None = None  # None: `[desk] customer_max_priority`
    language: str | None = None  # of mail to its people; None: from their mail, else desk's


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """`[notify]`: how staff notices and relayed replies carry attachments, and which
    automatic mails customers get."""

    # Attachments up to this many bytes in total go with the mail; above it they are
    # listed with signed download links that expire after `link_expiry_days`.
    attach_max_bytes: int = 10 * 1024 * 1024
    link_expiry_days: int = 7
    customer_escalation_mail: bool = True  # "escalated, we are sorry" at an SLA breach
    customer_reminder_mail: bool = True  # "we are waiting for your reply"


# --- Intake paths beside SMTP and IMAP: LMTP and provider webhooks (postdesk.config.intake) ---

INBOUND_PROVIDERS: tuple[str, ...] = ("mailgun", "postmark", "sendgrid")


@dataclass(frozen=True, slots=True)
class LmtpSettings:
    """`[lmtp]`: `listen` is "unix:/path.sock" or "host:port"; empty: no LMTP listener."""

    listen: str = ""
    socket_mode: int = 0o660

    @property
    def enabled(self) -> bool:
        return bool(self.listen)


@dataclass(frozen=True, slots=True)
class InboundWebhook:
    """One `[[inbound]]` provider webhook. The secrets come from the environment variables
    the configuration names (`*_env`); "" when the variable is not set in this process."""

    provider: str
    path: str
    signing_key_env: str = ""
    username_env: str = ""
    password_env: str = ""
    allowed_recipients: tuple[str, ...] = ()
    replay_window_seconds: float = 300.0
    signing_key: str = field(default="", repr=False)
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    def missing_secrets(self) -> tuple[str, ...]:
        """The environment variables this webhook needs that are not set (or empty)."""
        needed = (
            ((self.signing_key_env, self.signing_key),)
            if self.provider == "mailgun"
            else ((self.username_env, self.username), (self.password_env, self.password))
        )
        return tuple(name for name, value in needed if not value)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """One outbound webhook ([[webhooks]]): where events go, which ones, how they are signed."""

    name: str  # shown in `outbox list` as webhook:NAME; default: the URL's host
    url: str = field(repr=False)  # a Slack incoming-webhook URL is itself a secret
    events: tuple[str, ...]
    format: str  # "standard" (signed, Standard Webhooks) | "slack" ({"text": ...}, unsigned)
    secret: str = field(default="", repr=False)  # "whsec_" + base64; standard format only


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the configuration file says, validated."""

    source: Path | None
    desk: DeskSettings
    database: DatabaseSettings
    smtp: SmtpSettings
    imap: tuple[ImapAccount, ...]
    outbound: OutboundSettings
    sla: SlaSettings
    schedule: ScheduleSettings
    ops: OpsSettings
    ingest: IngestSettings
    logging: LoggingSettings
    fields: tuple[FieldSpec, ...]
    http: HttpSettings
    staff: tuple[StaffMember, ...]
    organisations: tuple[Organisation, ...]
    templates_dir: Path | None = field(default=None)
    notify: NotifySettings = field(default_factory=NotifySettings)
    lmtp: LmtpSettings = field(default_factory=LmtpSettings)
    inbound: tuple[InboundWebhook, ...] = ()
    webhooks: tuple[WebhookSettings, ...] = ()

    @property
    def support_address_list(self) -> tuple[str, ...]:
        """The support addresses, lowercased, in configured order."""
        return tuple(a.address for a in self.desk.support_addresses)
