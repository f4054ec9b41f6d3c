"""Load the TOML configuration file into frozen `Settings`, naming any bad key.

Secrets may come from the environment instead of the file: `POSTDESK_SECRET_KEY`,
`POSTDESK_DATABASE_URL`, `POSTDESK_OUTBOUND_PASSWORD`, and per IMAP account the variable
named by its `password_env` key. Relative paths are taken relative to the configuration
file's folder, so a service unit and a shell in another folder see the same files.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from postdesk.config.intake import inbound_webhooks, lmtp_settings
from postdesk.config.reader import ConfigError, Table
from postdesk.config.settings import (
    DEFAULT_BLOCKED_EXTENSIONS,
    DEFAULT_CATEGORIES,
    PRIORITIES,
    PRIORITY_ALIASES,
    Contact,
    DatabaseSettings,
    DeskSettings,
    FieldSpec,
    HttpSettings,
    ImapAccount,
    IngestSettings,
    LoggingSettings,
    NotifySettings,
    OAuth2Settings,
    OpsSettings,
    Organisation,
    OutboundSettings,
    ScheduleSettings,
    Settings,
    SlaSettings,
    SlaTarget,
    SmtpSettings,
    StaffMember,
    SupportAddress,
)
from postdesk.config.webhooks import read_webhooks
from store.languages import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["ConfigError", "load_settings", "settings_from_mapping"]

DEFAULT_SLA = {
    "urgent": ("1h", "8h"),
    "high": ("4h", "2d"),
    "medium": ("24h", "5d"),
    "low": ("48h", "10d"),
}
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
_CONTACT = re.compile(
    r"^\s*(?:(?P<name>[^<]*?)\s*<(?P<angle>[^<>@\s]+@[^<>@\s]+)>|(?P<bare>\S+@\S+))\s*$"
)
MIN_SECRET_KEY_LENGTH = 16


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return settings_from_mapping(data, base=path.resolve().parent, source=path, env=env)


def settings_from_mapping(
    data: Mapping[str, object],
    *,
    base: Path,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Validate an already parsed configuration mapping."""
    environ = os.environ if env is None else env
    root = Table(dict(data), "")
    desk = _desk(root.table("desk"), environ)
    settings = Settings(
        source=source,
        desk=desk,
        database=_database(root.table("database"), base, environ),
        smtp=_smtp(root.table("smtp"), base),
        imap=tuple(_imap(t, i, environ, base) for i, t in enumerate(root.tables("imap"))),
        outbound=_outbound(root.table("outbound"), base, environ, desk),
        sla=_sla(root.table("sla")),
        schedule=_schedule(root.table("schedule")),
        ops=_ops(root.table("ops")),
        ingest=_ingest(root.table("ingest"), base),
        logging=_logging(root.table("logging"), base),
        fields=tuple(_field(t) for t in root.tables("fields")),
        http=_http(root.table("http")),
        staff=tuple(_staff(t) for t in root.tables("staff")),
        organisations=tuple(_organisation(t) for t in root.tables("organisations")),
        templates_dir=root.path("templates_dir", None, base),
        notify=_notify(root.table("notify")),
        lmtp=lmtp_settings(root.table("lmtp")),
        inbound=inbound_webhooks(root.tables("inbound"), environ),
        webhooks=read_webhooks(root.tables("webhooks"), environ),
    )
    root.finish()
    _cross_check(settings)
    return settings


def _desk(t: Table, env: Mapping[str, str]) -> DeskSettings:
    prefix = t.text("ticket_prefix", "SUP")
    if not _PREFIX.match(prefix):
        raise t.fail(
            "ticket_prefix", "1-10 capital letters or digits, starting with a letter", prefix
        )
    addresses = _support_addresses(t)
    file_secret = t.text("secret_key", "")
    secret = env.get("POSTDESK_SECRET_KEY") or file_secret
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            "desk.secret_key: required, at least 16 characters (or set POSTDESK_SECRET_KEY); "
            "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    categories = t.str_list("categories", DEFAULT_CATEGORIES)
    default_category = t.text("default_category", "general")
    if default_category not in categories:
        raise t.fail("default_category", "one of desk.categories", default_category)
    for item in addresses:
        if item.category is not None and item.category not in categories:
            raise t.fail("support_addresses", "categories from desk.categories", item.category)
    settings = DeskSettings(
        name=t.text("name", "Support"),
        ticket_prefix=prefix,
        support_addresses=addresses,
        unknown_senders=t.choice("unknown_senders", ("reject", "hold", "create"), "reject"),
        reopen_window_days=t.whole("reopen_window_days", 14),
        secret_key=secret,
        trust_staff_from=t.flag("trust_staff_from", False),
        categories=categories,
        default_category=default_category,
        previous_secret_keys=_previous_keys(t, env, secret),
        retention_days=t.whole("retention_days", 0, minimum=0) or None,
        customer_max_priority=_priority(t, "customer_max_priority", "high") or "high",
        language=t.choice("language", LANGUAGES, DEFAULT_LANGUAGE),
        staff_language=t.choice("staff_language", LANGUAGES, DEFAULT_LANGUAGE),
    )
    t.finish()
    return settings


def _previous_keys(t: Table, env: Mapping[str, str], secret: str) -> tuple[str, ...]:
    """`[desk] previous_secret_keys`, or POSTDESK_PREVIOUS_SECRET_KEYS (comma-separated)."""
    from_env = env.get("POSTDESK_PREVIOUS_SECRET_KEYS", "")
    keys = t.str_list("previous_secret_keys")
    if from_env:
        keys = tuple(k.strip() for k in from_env.split(",") if k.strip())
    for key in keys:
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                "desk.previous_secret_keys: every key at least 16 characters (a key that "
                "secret_key used to be)"
            )
    return tuple(k for k in dict.fromkeys(keys) if k != secret)


def _support_addresses(t: Table) -> tuple[SupportAddress, ...]:
    if not t.has("support_addresses"):
        raise ConfigError("desk.support_addresses: required, but missing")
    raw = t.raw("support_addresses")
    if isinstance(raw, dict):
        inner = t.table("support_addresses")
        result = []
        for address in raw:
            category = inner.text(address, required=True)
            result.append(SupportAddress(_checked_email(inner, address), category))
        inner.finish()
        return tuple(result)
    values = t.str_list("support_addresses")
    if not values:
        raise t.fail("support_addresses", "at least one address", values)
    return tuple(SupportAddress(_checked_email(t, v, key="support_addresses")) for v in values)


def _checked_email(t: Table, value: str, *, key: str | None = None) -> str:
    if not re.match(r"^[^@\s+]+@[^@\s]+\.[^@\s]+$", value):
        raise t.fail(key or value, "an email address without '+'", value)
    return value.lower()


def _database(t: Table, base: Path, env: Mapping[str, str]) -> DatabaseSettings:
    file_url = t.text("url", "sqlite:///var/postdesk.db")
    url = env.get("POSTDESK_DATABASE_URL") or file_url
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise t.fail("url", "a sqlite:/// or postgresql:// URL", url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if (
        url.startswith("sqlite:///")
        and not url.startswith("sqlite:////")
        and url != "sqlite:///:memory:"
    ):
        url = "sqlite:///" + str(base / url.removeprefix("sqlite:///"))
    busy_timeout = t.number("busy_timeout_seconds", 30.0, low=0.0, high=3600.0)
    t.finish()
    return DatabaseSettings(url=url, busy_timeout_seconds=busy_timeout)


def _smtp(t: Table, base: Path) -> SmtpSettings:
    host, port = t.host_port("listen", "127.0.0.1:2525")
    cert, key = t.path("tls_cert", None, base), t.path("tls_key", None, base)
    if (cert is None) != (key is None):
        raise t.fail("tls_key" if key is None else "tls_cert", "tls_cert and tls_key together", "")
    settings = SmtpSettings(
        enabled=t.flag("enabled", True),
        host=host,
        port=port,
        max_message_bytes=t.whole("max_message_bytes", 25 * 1024 * 1024, minimum=1024),
        max_recipients=t.whole("max_recipients", 100, minimum=1),
        tls_cert=cert,
        tls_key=key,
    )
    t.finish()
    return settings


def _imap(t: Table, index: int, env: Mapping[str, str], base: Path) -> ImapAccount:
    password_env = t.text("password_env", "")
    file_password = t.text("password", "")
    password = (env.get(password_env, "") if password_env else "") or file_password
    auth = t.choice("auth", ("password", "oauth2"), "password")
    sasl = t.choice("sasl", ("xoauth2", "oauthbearer"), "xoauth2")
    oauth2 = _oauth2(t, env, base) if auth == "oauth2" else None
    if auth == "password" and t.has("oauth2"):
        raise t.fail("auth", '"oauth2" where [imap.oauth2] is given', auth)
    account = ImapAccount(
        name=t.text("name", f"imap{index}"),
        host=t.text("host", required=True),
        port=t.whole("port", 993, minimum=1),
        tls=t.flag("tls", True),
        username=t.text("username", required=True),
        password=password,
        mailbox=t.text("mailbox", "INBOX"),
        processed_mailbox=t.text("processed_mailbox", "postdesk/processed"),
        idle=t.flag("idle", True),
        poll_interval_seconds=t.number("poll_interval_seconds", 60.0, low=1.0, high=86400.0),
        auth=auth,
        sasl=sasl,
        oauth2=oauth2,
    )
    if auth == "password" and not account.password:
        raise ConfigError(
            f"{t.key('password')}: required (or name an environment variable in "
            f"{t.key('password_env')})"
        )
    t.finish()
    return account


# Defaults per provider: the flows, their scopes, and the provider's endpoints.
OAUTH2_FLOWS = {
    "microsoft": ("app", "device_code"),
    "google": ("service_account", "installed"),
    "generic": ("refresh_token",),
}
OAUTH2_SCOPES = {
    ("microsoft", "app"): ("https://outlook.office365.com/.default",),
    ("microsoft", "device_code"): ("https://outlook.office.com/IMAP.AccessAsUser.All",),
    ("google", "service_account"): ("https://mail.google.com/",),
    ("google", "installed"): ("https://mail.google.com/",),
    ("generic", "refresh_token"): (),
}
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a public endpoint
GOOGLE_AUTHORIZATION_URL = "https://accounts.google.com/o/oauth2/v2/auth"
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com/{tenant}"


def _oauth2(account: Table, env: Mapping[str, str], base: Path) -> OAuth2Settings:
    t = account.table("oauth2")
    provider = t.choice("provider", tuple(OAUTH2_FLOWS), "generic")
    flows = OAUTH2_FLOWS[provider]
    flow = t.choice("flow", flows, flows[0])
    secret_env = t.text("client_secret_env", "")
    secret = (env.get(secret_env, "") if secret_env else "") or t.text("client_secret", "")
    tenant = t.text("tenant", "")
    authority = t.text("authority_url", "")
    if provider == "microsoft" and not authority:
        if not tenant:
            raise ConfigError(
                f"{t.key('tenant')}: required for Microsoft 365 (the directory (tenant) id or "
                "domain, e.g. contoso.onmicrosoft.com)"
            )
        authority = MICROSOFT_AUTHORITY.format(tenant=tenant)
    default_token_url = GOOGLE_TOKEN_URL if provider == "google" else ""
    settings = OAuth2Settings(
        provider=provider,
        flow=flow,
        client_id=t.text("client_id", required=flow != "service_account"),
        client_secret=secret,
        scopes=t.str_list("scopes", OAUTH2_SCOPES[(provider, flow)]),
        token_url=t.text("token_url", default_token_url, required=provider == "generic"),
        authority_url=authority,
        authorization_url=t.text("authorization_url", GOOGLE_AUTHORIZATION_URL),
        service_account_file=t.path("service_account_file", None, base),
    )
    needs_secret = (provider, flow) in {("microsoft", "app"), ("google", "installed")}
    if needs_secret and not settings.client_secret:
        raise ConfigError(
            f"{t.key('client_secret')}: required for {provider} {flow} (or name an environment "
            f"variable in {t.key('client_secret_env')})"
        )
    if flow == "service_account" and settings.service_account_file is None:
        raise ConfigError(
            f"{t.key('service_account_file')}: required: the service account's JSON key file"
        )
    for name in ("token_url", "authority_url", "authorization_url"):
        value = getattr(settings, name)
        if value and not value.startswith(
            ("https://", "http://127.", "http://[::1]", "http://localhost")
        ):
            raise t.fail(name, "an https:// URL (plain http only on loopback)", value)
    t.finish()
    return settings


def _outbound(t: Table, base: Path, env: Mapping[str, str], desk: DeskSettings) -> OutboundSettings:
    file_password = t.text("password", "")
    backoff = t.raw("backoff_seconds", [60, 300, 900, 3600, 7200])
    if not (
        isinstance(backoff, list) and backoff and all(isinstance(b, int) and b > 0 for b in backoff)
    ):
        raise t.fail("backoff_seconds", "a non-empty list of positive whole seconds", backoff)
    tls = t.choice("tls", ("none", "starttls", "implicit"), "none")
    starttls = t.flag("starttls", False)
    if starttls and tls == "implicit":
        raise t.fail("starttls", 'false with tls = "implicit" (one or the other)', starttls)
    settings = OutboundSettings(
        transport=t.choice("transport", ("smtp", "file"), "file"),
        host=t.text("host", "127.0.0.1"),
        port=t.whole("port", 25, minimum=1),
        starttls=starttls or tls == "starttls",
        implicit_tls=tls == "implicit",
        username=t.text("username", ""),
        password=env.get("POSTDESK_OUTBOUND_PASSWORD") or file_password,
        from_address=t.email("from_address", desk.support_addresses[0].address),
        file_dir=t.path("file_dir", "var/outbox", base) or base / "var/outbox",
        max_attempts=t.whole("max_attempts", 8, minimum=1),
        backoff_seconds=tuple(backoff),
        per_ticket_hourly_limit=t.whole("per_ticket_hourly_limit", 10, minimum=1),
        per_address_daily_limit=t.whole("per_address_daily_limit", 50, minimum=1),
    )
    t.finish()
    return settings


def _sla(t: Table) -> SlaSettings:
    targets: dict[str, SlaTarget] = {}
    for priority in PRIORITIES:
        first, resolution = DEFAULT_SLA[priority]
        sub = t.table(priority)
        targets[priority] = SlaTarget(
            first_response=sub.duration("first_response", first),
            resolution=sub.duration("resolution", resolution),
        )
        sub.finish()
    business_hours = t.text("business_hours", "")
    if business_hours and not re.match(
        r"^(mon|tue|wed|thu|fri|sat|sun)-(mon|tue|wed|thu|fri|sat|sun) \d\d:\d\d-\d\d:\d\d$",
        business_hours,
    ):
        raise t.fail(
            "business_hours", '"mon-fri 09:00-17:00" or empty for calendar time', business_hours
        )
    timezone = t.text("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise t.fail("timezone", "an IANA timezone like Europe/Berlin", timezone) from exc
    holidays = t.str_list("holidays")
    for holiday in holidays:
        try:
            date.fromisoformat(holiday)
        except ValueError as exc:
            raise t.fail("holidays", "ISO dates like 2026-12-25", holiday) from exc
    settings = SlaSettings(
        targets=targets,
        reminder_at=t.number("reminder_at", 0.75, low=0.05, high=0.99),
        waiting_reminder_days=t.whole("waiting_reminder_days", 3, minimum=1),
        waiting_close_days=t.whole("waiting_close_days", 7, minimum=1),
        resolved_close_days=t.whole("resolved_close_days", 7, minimum=1),
        business_hours=business_hours or None,
        timezone=timezone,
        holidays=holidays,
    )
    t.finish()
    return settings


def _schedule(t: Table) -> ScheduleSettings:
    interval = t.duration("sweep_interval", "1m")
    settings = ScheduleSettings(
        digest_cron=t.text("digest", "0 * * * *"),
        daily_digest_cron=t.text("daily_digest", "0 7 * * *"),
        sweep_interval_seconds=max(1, int(interval / timedelta(seconds=1))),
    )
    for key, value in (
        ("digest", settings.digest_cron),
        ("daily_digest", settings.daily_digest_cron),
    ):
        _check_cron(t, key, value)
    t.finish()
    return settings


CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


def _check_cron(t: Table, key: str, value: str) -> None:
    """A 5-field crontab that the scheduler (APScheduler's CronTrigger) accepts; else an error
    naming the key and the bad field."""
    parts = value.split()
    if len(parts) != len(CRON_FIELDS):
        raise t.fail(key, 'a cron expression with 5 fields like "0 * * * *"', value)
    for name, part in zip(CRON_FIELDS, parts, strict=True):
        try:
            CronTrigger(**{name: part}, timezone="UTC")
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{t.key(key)}: the {name.replace('_', ' ')} field {part!r} of {value!r} is "
                f"invalid ({exc}); fields are minute hour day month day-of-week"
            ) from None
    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except (ValueError, TypeError) as exc:
        raise t.fail(key, f"a valid cron expression ({exc})", value) from None


def _ops(t: Table) -> OpsSettings:
    settings = OpsSettings(
        digest_to=t.emails("digest_to"), team_address=t.email("team_address") or None
    )
    t.finish()
    return settings


def _ingest(t: Table, base: Path) -> IngestSettings:
    settings = IngestSettings(
        data_dir=t.path("data_dir", "var/data", base) or base / "var/data",
        max_attachment_bytes=t.whole("max_attachment_bytes", 10 * 1024 * 1024, minimum=1),
        max_message_bytes_attachments=t.whole(
            "max_message_bytes_attachments", 25 * 1024 * 1024, minimum=1
        ),
        blocked_extensions=tuple(
            e.lower().lstrip(".")
            for e in t.str_list("blocked_extensions", DEFAULT_BLOCKED_EXTENSIONS)
        ),
        quarantine_retention_days=t.whole("quarantine_retention_days", 30, minimum=1),
        sender_rate_limit=t.rate_limit("sender_rate_limit", "30/10m"),
        domain_rate_limit=t.rate_limit("domain_rate_limit", "300/10m"),
        trusted_authserv_ids=tuple(v.lower() for v in t.str_list("trusted_authserv_ids")),
        accept_automated_from=tuple(v.lower() for v in t.str_list("accept_automated_from")),
        max_attempts=t.whole("max_attempts", 5, minimum=1),
        min_free_bytes=t.whole("min_free_bytes", 100 * 1024 * 1024, minimum=0),
        max_processing_seconds=t.number("max_processing_seconds", 30.0, low=1.0, high=3600.0),
    )
    t.finish()
    return settings


def _logging(t: Table, base: Path) -> LoggingSettings:
    settings = LoggingSettings(
        level=t.choice("level", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        file=t.path("file", None, base),
        json=t.flag("json", False),
    )
    t.finish()
    return settings


def _field(t: Table) -> FieldSpec:
    spec = FieldSpec(name=t.text("name", required=True).strip(), values=t.str_list("values"))
    t.finish()
    return spec


def _http(t: Table) -> HttpSettings:
    host, port = t.host_port("listen", "127.0.0.1:8025")
    public_url = t.text("public_url", "").strip()
    if public_url and not re.match(r"^https?://[^\s/]+(/\S*)?$", public_url):
        raise t.fail("public_url", 'a URL like "https://desk.example.com"', public_url)
    settings = HttpSettings(
        enabled=t.flag("enabled", True), host=host, port=port, public_url=public_url
    )
    t.finish()
    return settings


def _staff(t: Table) -> StaffMember:
    member = StaffMember(
        name=t.text("name", required=True),
        email=t.email("email", required=True),
        display_name=t.text("display_name", "").strip(),
        signature=t.text("signature", "").strip("\n"),
    )
    t.finish()
    return member


def _organisation(t: Table) -> Organisation:
    contacts = []
    for value in t.str_list("contacts"):
        match = _CONTACT.match(value)
        if not match:
            raise t.fail("contacts", 'entries like "Name <email>" or a bare email', value)
        email = (match.group("angle") or match.group("bare")).lower()
        contacts.append(Contact(name=(match.group("name") or "").strip(), email=email))
    org = Organisation(
        name=t.text("name", required=True),
        domains=tuple(d.lower().lstrip("@") for d in t.str_list("domains")),
        contacts=tuple(contacts),
        partner_of=t.str_list("partner_of"),
        max_priority=_priority(t, "max_priority", None),
        language=t.choice("language", LANGUAGES, DEFAULT_LANGUAGE) if t.has("language") else None,
    )
    t.finish()
    return org


def _first_duplicate(values: list[str]) -> str | None:
    seen: set[str] = set()
    for value in values:
        if value.lower() in seen:
            return value
        seen.add(value.lower())
    return None


def _check_duplicates(settings: Settings) -> None:
    """The directory must say one thing about each address, name and domain."""
    staff = _first_duplicate([s.email for s in settings.staff])
    if staff is not None:
        raise ConfigError(f"staff: {staff!r} is listed twice; keep one [[staff]] entry per address")
    org = _first_duplicate([o.name for o in settings.organisations])
    if org is not None:
        raise ConfigError(
            f"organisations: two organisations are named {org!r}; names must be unique"
        )
    owner: dict[str, str] = {}
    for o in settings.organisations:
        for domain in o.domains:
            if domain in owner and owner[domain] != o.name:
                raise ConfigError(
                    f"organisations: the domain {domain!r} belongs to both {owner[domain]!r} "
                    f"and {o.name!r}; a domain may name one organisation only"
                )
            owner[domain] = o.name
    contact_owner: dict[str, str] = {}
    for o in settings.organisations:
        for c in o.contacts:
            if c.email in contact_owner and contact_owner[c.email] != o.name:
                raise ConfigError(
                    f"organisations: the contact {c.email!r} is listed in both "
                    f"{contact_owner[c.email]!r} and {o.name!r}; list it in one"
                )
            contact_owner[c.email] = o.name
    smtp, http = settings.smtp, settings.http
    if smtp.enabled and http.enabled and (smtp.host, smtp.port) == (http.host, http.port):
        raise ConfigError(
            f"http.listen: {settings.http.host}:{settings.http.port} is also smtp.listen; "
            "give each its own port"
        )


def _priority(t: Table, name: str, default: str | None) -> str | None:
    """A priority key (aliases like "critical" accepted), or `default` when absent."""
    value = t.text(name, default)
    if not value:
        return default
    word = PRIORITY_ALIASES.get(value.strip().lower(), value.strip().lower())
    if word not in PRIORITIES:
        raise t.fail(name, "one of " + ", ".join(PRIORITIES), value)
    return word


def _notify(t: Table) -> NotifySettings:
    settings = NotifySettings(
        attach_max_bytes=t.whole("attach_max_bytes", 10 * 1024 * 1024),
        link_expiry_days=t.whole("link_expiry_days", 7, minimum=1),
        customer_escalation_mail=t.flag("customer_escalation_mail", True),
        customer_reminder_mail=t.flag("customer_reminder_mail", True),
    )
    t.finish()
    return settings


def _cross_check(settings: Settings) -> None:
    _check_duplicates(settings)
    names = [o.name for o in settings.organisations]
    for i, org in enumerate(settings.organisations):
        for client in org.partner_of:
            if client not in names:
                raise ConfigError(
                    f"organisations[{i}].partner_of: no organisation named {client!r}"
                )
    field_names = {f.name.lower() for f in settings.fields}
    builtin = {"priority", "category", "call reference", "visibility"}
    clash = field_names & builtin
    if clash:
        raise ConfigError(
            f"fields: {sorted(clash)[0]!r} is a built-in field line; choose another name"
        )
