"""Secrets with a recognisable shape: provider API keys, JWTs, PEM private keys, URLs and
connection strings with passwords in them.

Provider keys are found through their literal prefixes (the keyword trigger hands each
prefix to `PREFIXES`); the other shapes have their own cheap literal anchors.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.redact.model import Span
from ingest.redact.phrases import curl_passwords
from ingest.redact.views import TextViews
from ingest.redact.web import link_tokens, mailchimp_keys
from ingest.redact.wrapped import continues, match_joined, match_joined_walk

Handler = Callable[[str, str, int, int], list[Span]]

_B62 = "A-Za-z0-9"
_URLSAFE = "A-Za-z0-9_\\-"
# lower-case prefix -> (pattern matched on the original text at the prefix, marker label)
_FORMATS: dict[str, tuple[str, str]] = {
    "akia": (
        r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}",
        "aws key",
    ),
    "ghp_": (rf"gh[pousr]_[{_B62}]{{36,251}}", "github token"),
    "github_pat_": (r"github_pat_[A-Za-z0-9_]{22,255}", "github token"),
    "glpat-": (rf"gl(?:pat|dt|rt|ptt|cbt|soat|ft|imt|agent)-[{_URLSAFE}]{{20,64}}", "gitlab token"),
    "xoxb-": (r"xox[abposre]-[A-Za-z0-9\-]{10,250}", "slack token"),
    "xapp-": (r"xapp-\d-[A-Za-z0-9\-]{10,250}", "slack token"),
    "https://hooks.slack.com/": (
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{20,200}",
        "slack webhook",
    ),
    "sk_live_": (rf"[sr]k_(?:live|test)_[{_B62}]{{10,247}}", "stripe key"),
    "whsec_": (r"whsec_[A-Za-z0-9+/=]{20,128}", "webhook secret"),
    "aiza": (rf"AIza[{_URLSAFE}]{{35}}", "google api key"),
    "ya29.": (rf"ya29\.[{_URLSAFE}]{{20,2048}}", "google token"),
    "gocspx-": (rf"GOCSPX-[{_URLSAFE}]{{20,64}}", "google client secret"),
    "sk-": (rf"sk-(?:[a-z]{{2,10}}-)*[{_URLSAFE}]{{20,256}}", "api key"),
    "sk": (r"SK[0-9a-fA-F]{32}", "twilio key"),
    "sg.": (rf"SG\.[{_URLSAFE}]{{22}}\.[{_URLSAFE}]{{43}}", "sendgrid key"),
    "key-": (r"key-[0-9a-f]{32}", "mailgun key"),
    "npm_": (rf"npm_[{_B62}]{{36}}", "npm token"),
    "pypi-": (rf"pypi-AgE[{_URLSAFE}]{{50,400}}", "pypi token"),
    "hf_": (rf"hf_[{_B62}]{{30,40}}", "hugging face token"),
    "shpat_": (r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", "shopify token"),
    "dop_v1_": (r"do[por]_v1_[a-f0-9]{64}", "digitalocean token"),
    "sq0atp-": (rf"sq0(?:atp|csp)-[{_URLSAFE}]{{22,43}}", "square token"),
    "https://discord.com/api/webhooks/": (
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]{20,100}",
        "discord webhook",
    ),
}
_ALIASES = {
    "akia": "asia abia acca agpa aida aipa anpa anva aroa apka asca",
    "ghp_": "gho_ ghu_ ghs_ ghr_",
    "glpat-": "gldt- glrt- glptt- glcbt- glsoat- glft- glimt- glagent-",
    "xoxb-": "xoxa- xoxp- xoxo- xoxs- xoxr- xoxe-",
    "whsec_": "whsec",
    "sk_live_": "sk_test_ rk_live_ rk_test_",
    "shpat_": "shpca_ shppa_ shpss_",
    "dop_v1_": "doo_v1_ dor_v1_",
    "sq0atp-": "sq0csp-",
    "https://discord.com/api/webhooks/": "https://discordapp.com/api/webhooks/",
}
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_\-]")


# Keys that customers paste split into groups by spaces ("xoxb-1 234567 890123 ...").
# The formats of a fixed length (SendGrid, npm, Google) are read over spaces too: the
# pattern's length decides where the key ends.
_SPACED_LABELS = frozenset(
    {"aws key", "slack token", "webhook secret", "stripe key", "sendgrid key", "npm token",
     "google api key"}
)  # fmt: skip


def _format_handler(pattern: str, label: str) -> Handler:
    regex = re.compile(pattern)
    spaced = label in _SPACED_LABELS

    def handle(text: str, low: str, start: int, end: int) -> list[Span]:
        m = regex.match(text, start)
        if m is not None and m.end() < len(text) and _TOKEN_CHAR.match(text, m.end()):
            return []
        stop = m.end() if m is not None else -1
        # A key that ends in "-", "_" or "." where its line ends was cut there.
        cut = m is None or (text[stop - 1] in "-_." and text[stop : stop + 1] in ("\r", "\n"))
        if cut or continues(text, stop, spaces=spaced):
            longest = 160 if spaced else 512  # a key split by spaces is short
            # A key too short for its format where its line ends was cut there (a table
            # cell, a narrow client): its first line may be short.
            first_min = 0 if cut else None
            joined_end = match_joined(
                regex, text, start, spaces=spaced, max_chars=longest, first_min=first_min
            )
            stop = max(stop, joined_end)
        if stop < 0:
            return []
        spans = [Span.of(start, stop, "api_key", label, 10)]
        if label == "aws key":
            window = stop + 200
            s = _AWS_SECRET.search(text, stop, window)
            if s and _mixed(s.group()):
                spans.append(Span.of(s.start(), s.end(), "api_key", "aws secret", 10))
        return spans

    return handle


def _mixed(value: str) -> bool:
    return (
        any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
    )


def _build_prefixes() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for prefix, (pattern, label) in _FORMATS.items():
        handler = _format_handler(pattern, label)
        table[prefix] = handler
        for alias in _ALIASES.get(prefix, "").split():
            table[alias] = handler
    return table


PREFIXES: dict[str, Handler] = _build_prefixes()
"""Lower-case literal prefix of a provider key -> handler verifying the exact format."""

_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{8,4096}\.[A-Za-z0-9_\-]{8,8192}\.[A-Za-z0-9_\-]{0,2048}")
_PEM_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9]+ ){0,4}PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END ([A-Z0-9]+ ){0,4}PRIVATE KEY( BLOCK)?-----")
_PEM_BODY = re.compile(
    r"(?:(?:\r?\n|\\n)[ \t]*(?:[A-Za-z0-9+/]{16,100}={0,2}|[A-Za-z0-9+/]{1,100}={1,2}|"
    r"(?:Proc-Type|DEK-Info|Comment|Version):[^\r\n]{0,200}))*"
)
_PEM_MAX = 200_000
_PPK = re.compile(
    r"PuTTY-User-Key-File-\d: [^\n]{0,100}\n(?:[^\n]{0,200}\n){0,120}?Private-MAC: [0-9a-f]{20,128}"
)
_URL_CREDS = re.compile(
    r"://([^\s:/@?#\[\]\"'<>]{0,128}):([^\s/@?#\"'<>]{1,256})@(?=[A-Za-z0-9\[])"
)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]{0,30})\Z")
_DB_SCHEMES = frozenset(
    [
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "mongodb",
        "mongodb+srv",
        "redis",
        "rediss",
        "amqp",
        "amqps",
        "mssql",
        "sqlserver",
        "oracle",
        "cockroachdb",
        "clickhouse",
        "couchdb",
        "neo4j",
        "cassandra",
        "db2",
        "jdbc:postgresql",
        "jdbc:mysql",
        "jdbc:sqlserver",
        "jdbc:oracle",
        "postgresql+psycopg",
        "postgresql+psycopg2",
        "postgresql+asyncpg",
        "mysql+pymysql",
        "mysql+mysqldb",
        "sqlite",
        "kafka",
        "nats",
        "memcached",
    ]
)
_AZURE_KEY = re.compile(
    r"(?i)(?:account|sharedaccess|primary|secondary)key\s*=\s*([A-Za-z0-9+/]{20,512}={0,2})"
)
_AZURE_SECRET = re.compile(
    r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])"
)
_SAS_SIG = re.compile(r"[?&;]sig=([A-Za-z0-9%+/=]{30,200})")
# Is any of "ccountKey", "ccessKey", "aryKey" in the text? One scan for the rarer "Key".
_AZURE_KEY_HINT = re.compile(rb"Key(?:(?<=ccountKey)|(?<=ccessKey)|(?<=aryKey))")


def find_shaped(views: TextViews) -> list[Span]:
    """JWTs, PEM/PuTTY private keys, URL and connection-string passwords, Azure keys,
    link tokens, Mailchimp keys and `curl -u` passwords.

    Which of them may be there is asked of the one-byte view (`views.encoded`, where every
    ASCII character is itself): a bytes search is several times faster than one in a str
    of wide characters."""
    text, enc = views.text, views.encoded
    spans: list[Span] = []
    if b"eyJ" in enc:
        spans.extend(_jwts(text))
    if b"PRIVATE KEY" in enc:
        spans.extend(_pem_blocks(text))
    if b"PuTTY-User-Key-File-" in enc:
        spans.extend(
            Span.of(m.start(), m.end(), "private_key", "private key") for m in _PPK.finditer(text)
        )
    urls = b"://" in enc
    if urls:
        spans.extend(_url_passwords(text))
    if _AZURE_KEY_HINT.search(enc):
        for m in _AZURE_KEY.finditer(text):
            spans.append(Span.of(m.start(1), m.end(1), "connection_string", "azure key"))
    if b"sig=" in enc:
        for m in _SAS_SIG.finditer(text):
            spans.append(Span.of(m.start(1), m.end(1), "api_key", "azure signature"))
    if b"Q~" in enc:
        spans.extend(
            Span.of(m.start(), m.end(), "api_key", "azure secret")
            for m in _AZURE_SECRET.finditer(text)
        )
    if urls:
        spans.extend(link_tokens(text))
    if b"-us" in enc:
        spans.extend(mailchimp_keys(text))
    if b"curl" in enc:
        spans.extend(curl_passwords(text))
    return spans


_JWT_RUN = re.compile(r"[A-Za-z0-9_\-.]{0,8192}")


def _jwts(text: str) -> list[Span]:
    """JWTs, also wrapped over lines (at 76 columns, in quoted replies)."""
    spans: list[Span] = []
    pos = text.find("eyJ")
    while pos >= 0:
        m = _JWT.match(text, pos)
        stop = m.end() if m is not None else _JWT_RUN.match(text, pos).end()  # type: ignore[union-attr]
        resume = stop
        cut = m is None and stop < len(text) and text[stop] in "\r\n"  # not a JWT yet
        if cut or continues(text, stop, spaces=False):
            joined_end, resume = match_joined_walk(
                _JWT, text, pos, spaces=False, first_min=0 if cut else None
            )
            if joined_end > stop:
                m, stop = None, joined_end
                spans.append(Span.of(pos, stop, "jwt", "jwt"))
        if m is not None:
            spans.append(Span.of(pos, stop, "jwt", "jwt"))
        # on from where this read ended: each part of the text is read once
        pos = text.find("eyJ", max(stop, resume, pos + 3))
    return spans


def _pem_blocks(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    while True:
        begin = _PEM_BEGIN.search(text, pos)
        if begin is None:
            return spans
        end = _PEM_END.search(text, begin.end(), begin.end() + _PEM_MAX)
        stop = end.end() if end else _PEM_BODY.match(text, begin.end()).end()  # type: ignore[union-attr]
        spans.append(Span.of(begin.start(), stop, "private_key", "private key"))
        pos = stop


def _url_passwords(text: str) -> list[Span]:
    spans: list[Span] = []
    for m in _URL_CREDS.finditer(text):
        scheme = _SCHEME.search(text, max(0, m.start() - 40), m.start())
        if scheme is None:
            continue
        name = scheme.group(1).lower()
        if name.startswith("jdbc:"):
            name = name[5:]
        if name in _DB_SCHEMES or name.split("+")[0] in _DB_SCHEMES:
            spans.append(Span.of(m.start(2), m.end(2), "connection_string", "database password"))
        else:
            spans.append(Span.of(m.start(2), m.end(2), "url_credentials", "url password"))
    return spans
