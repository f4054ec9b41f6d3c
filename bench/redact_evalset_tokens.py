"""How customers paste keys and tokens: provider keys, unlabelled keys, JWTs, bearer
headers, session cookies, magic links, URLs and connection strings with passwords, PEM
private keys. Makers return `Snippet`s (see redact_evalset_phrases).
"""

from __future__ import annotations

import random

import redact_evalset_values as V
from redact_evalset_phrases import Sec, Snippet, _lang, _pick, _user

KEY_LABELLED = {
    "en": [
        "API key: {0}",
        "our key is {0}",
        "here is the token: {0}",
        "Secret key: {0}",
        "we use {0} in production",
        "the token we generate is {0}",
        "key = {0}",
        "this is the access key I was given: {0}",
    ],
    "de": ["der API-Schlüssel lautet {0}", "API-Key: {0}", "unser Token ist {0}"],
    "fr": ["la clé API est {0}", "clé : {0}", "voici le jeton : {0}"],
    "es": ["la clave de API es {0}", "el token es {0}"],
    "it": ["la chiave API è {0}", "il token è {0}"],
    "nl": ["de API-sleutel is {0}", "het token is {0}"],
    "pt": ["a chave da API é {0}", "o token é {0}"],
    "sv": ["API-nyckeln är {0}", "token: {0}"],
    "pl": ["klucz API to {0}", "token: {0}"],
}
KEY_LIGHT = [
    "the key from our dashboard is {0}",
    "I copied this from the settings page: {0}",
    "it's {0} (copied from the integrations tab)",
    "we're calling it with {0}",
    "here it is:\n{0}",
    "this one: {0} -- does it look right to you?",
    "the value in the dashboard says {0}",
    "I pasted {0} into the plugin settings",
]
ENV_LINES = {
    "aws_key_id": ["export AWS_ACCESS_KEY_ID={0}", "aws_access_key_id = {0}"],
    "aws_secret": ["aws_secret_access_key = {0}", 'AWS_SECRET_ACCESS_KEY="{0}"'],
    "stripe_key": ["STRIPE_SECRET_KEY={0}", 'stripe.api_key = "{0}"'],
    "sendgrid_key": ["SENDGRID_API_KEY={0}"],
    "openai_key": ["OPENAI_API_KEY={0}", 'client = OpenAI(api_key="{0}")'],
    "twilio_token": ["TWILIO_AUTH_TOKEN={0}", "auth_token: {0}"],
    "uuid_key": ["X-API-Key: {0}", "-H 'X-API-Key: {0}'", "x-api-key: {0}"],
    "mailchimp_key": ["apikey: {0}", "MAILCHIMP_KEY={0}"],
    "unlabelled_key": ["client_secret: {0}", '"secret": "{0}"'],
}


def _split_value(rng: random.Random, value: str) -> str:
    """A token cut into groups by spaces, as people retype or copy it from a PDF."""
    size = rng.choice([4, 5, 6, 8])
    cut = value.find("_") + 1 if value.startswith("whsec_") and rng.random() < 0.5 else 0
    head, rest = value[:cut], value[cut:]
    groups = [rest[i : i + size] for i in range(0, len(rest), size)]
    return (head[:-1] + " _" if head else "") + " ".join(groups)


def api_key(rng: random.Random, lang: str = "en") -> Snippet:
    """A provider key, labelled, lightly labelled, in a config line, split or wrapped."""
    variety = rng.choice(V.API_VARIETIES)
    value = V.api_key(rng, variety)
    style = rng.randrange(10)
    if variety in ("aws_key_id", "slack_token", "webhook_secret") and style < 4:
        if variety == "slack_token":
            prefix, rest = value[:6], value[6:]
            return Snippet(
                "the bot token is {0}",
                [
                    Sec(
                        prefix + " " + " ".join(rest[i : i + 6] for i in range(0, len(rest), 6)),
                        "api_key",
                        variety,
                        ("split",),
                    )
                ],
            )
        return Snippet(
            rng.choice(["key: {0}", "the key is {0}", "{0} (secret)"]),
            [Sec(_split_value(rng, value), "api_key", variety, ("split",))],
        )
    if len(value) > 60 and style < 4:
        return Snippet(
            rng.choice(["Our key: {0}", "we use this key {0}", "KEY={0}"]),
            [Sec(value, "api_key", variety, ("wrapped",))],
        )
    if variety in ENV_LINES and style < 6:
        return Snippet(rng.choice(ENV_LINES[variety]), [Sec(value, "api_key", variety, ("code",))])
    if style < 8 or variety in ("unlabelled_key", "uuid_key", "mailchimp_key"):
        if variety in ("unlabelled_key", "uuid_key", "mailchimp_key", "twilio_token", "aws_secret"):
            return Snippet(rng.choice(KEY_LIGHT), [Sec(value, "api_key", variety)])
        tpl, lang = _pick(rng, KEY_LABELLED, _lang(rng, lang))
        return Snippet(tpl, [Sec(value, "api_key", variety)], lang)
    tpl, lang = _pick(rng, KEY_LABELLED, _lang(rng, lang))
    return Snippet(tpl, [Sec(value, "api_key", variety)], lang)


JWT_PHRASES = {
    "en": [
        "Authorization: Bearer {0}",
        "the token I get back is {0}",
        "id_token={0}",
        '{{"access_token": "{0}", "token_type": "Bearer"}}',
        "here's the JWT: {0}",
    ],
    "de": ["das Token aus der Antwort: {0}"],
    "fr": ["le jeton renvoyé est {0}"],
    "es": ["el token que recibo es {0}"],
    "it": ["il token ricevuto è {0}"],
    "nl": ["het token dat ik terugkrijg is {0}"],
    "pt": ["o token retornado é {0}"],
    "sv": ["token som returneras: {0}"],
    "pl": ["token z odpowiedzi: {0}"],
}


def jwt(rng: random.Random, lang: str = "en") -> Snippet:
    """A JWT in a header, JSON or prose, sometimes wrapped at the line width."""
    tags = ("wrapped",) if rng.random() < 0.4 else ()
    tpl, lang = _pick(rng, JWT_PHRASES, _lang(rng, lang))
    return Snippet(tpl, [Sec(V.jwt(rng), "jwt", "jwt", tags)], lang)


COOKIES = [
    ("Cookie: session={0}", lambda r: V.b64url(r, 32)),
    (
        "Cookie: connect.sid={0}",
        lambda r: "s%3A" + V.rand(r, V.URLSAFE, 32) + "." + V.rand(r, V.B62, 43),
    ),
    ("_gh_sess={0}", lambda r: "%2F".join(V.rand(r, V.B62, 40) for _ in range(3)) + "%3D%3D"),
    ("PHPSESSID={0}", lambda r: V.rand(r, "0123456789abcdefghijklmnopqrstuv", 26)),
    ("Set-Cookie: sessionid={0}; Path=/; HttpOnly", lambda r: V.rand(r, V.B62, 32)),
    ("JSESSIONID={0}", lambda r: V.rand(r, "0123456789ABCDEF", 32)),
    ("laravel_session={0}", lambda r: "eyJpdiI6" + V.rand(r, V.B62, 60)),
    ("the cookie value is {0} (name: session)", lambda r: V.b64url(r, 24)),
]
URL_TOKENS = [
    "https://app.example.com/login?token={0}",
    "https://example.com/auth/magic?email=bob%40example.com&token={0}",
    "https://portal.example.com/reset-password?token={0}&lang=de",
    "https://api.example.com/callback#access_token={0}&token_type=bearer",
    "https://example.com/oauth/cb?state=xyz&code={0}",
    "GET /v1/export?format=csv&access_token={0} HTTP/1.1",
    "https://files.example.com/dl/report.pdf?X-Amz-Signature={0}",
]
BEARER = [
    "Authorization: Bearer {0}",
    "Bearer {0}",
    "refresh_token: {0}",
    "the access token is {0}",
    '-H "Authorization: Bearer {0}"',
    "Authorization: Token {0}",
    "access_token={0}",
    "X-Auth-Token: {0}",
]


def bearer(rng: random.Random, lang: str = "en") -> Snippet:
    """An opaque bearer token, a session cookie, or a token in a (magic) link."""
    style = rng.randrange(3)
    if style == 0:
        tpl, make = rng.choice(COOKIES)
        return Snippet(tpl, [Sec(make(rng), "bearer_token", "session_cookie", ("code",))])
    if style == 1:
        value = V.b64url(rng, rng.choice([24, 32, 48]))
        lead = rng.choice(["Here's the link from the mail: ", "I clicked ", "", "Link: "])
        return Snippet(lead + rng.choice(URL_TOKENS), [Sec(value, "bearer_token", "url_token")])
    value = V.rand(rng, V.URLSAFE, rng.randint(32, 64))
    return Snippet(rng.choice(BEARER), [Sec(value, "bearer_token", "bearer", ("code",))])


URL_CREDS = [
    "https://{u}:{0}@git.example.com/acme/app.git",
    "ftp://{u}:{0}@ftp.example.com/in/",
    "https://{u}:{0}@example.com/webdav/",
    "smtp://{u}:{0}@mail.example.com:587",
    "I can open https://{u}:{0}@staging.example.com fine",
]
CONN = [
    "postgres://{u}:{0}@db.internal:5432/prod",
    "DATABASE_URL=mysql://root:{0}@localhost:3306/shop",
    "mongodb+srv://{u}:{0}@cluster0.ab1cd.mongodb.net/?retryWrites=true",
    "Server=tcp:sql.example.net,1433;Database=crm;User Id={u};Password={0};",
    "redis://:{0}@cache.internal:6379/0",
    "amqp://{u}:{0}@rabbit:5672/%2F",
    "jdbc:postgresql://db:5432/app?user={u}&password={0}",
]


def url_credentials(rng: random.Random, lang: str = "en") -> Snippet:
    """A URL with user:password@ (the password is the secret)."""
    tpl = rng.choice(URL_CREDS).replace("{u}", _user(rng))
    value = V.password(rng)
    for ch in "@/:?#%&+":  # a password with these would be percent-encoded in a URL
        value = value.replace(ch, "")
    return Snippet(tpl, [Sec(value, "url_credentials", "url")])


def connection_string(rng: random.Random, lang: str = "en") -> Snippet:
    """A database connection string with its password (the password is the secret)."""
    tpl = rng.choice(CONN).replace("{u}", _user(rng))
    value = V.password(rng)
    for ch in "@/;&:?#%":
        value = value.replace(ch, "")
    return Snippet(tpl, [Sec(value, "connection_string", "database", ("code",))])


def private_key(rng: random.Random, lang: str = "en") -> Snippet:
    """A PEM private key pasted into the mail."""
    lead = rng.choice(
        [
            "Here is the key we use for SFTP:\n",
            "id_rsa:\n",
            "Private key below.\n\n",
            "Der Schlüssel:\n",
            "La clé privée :\n",
            "",
        ]
    )
    return Snippet(lead + "{0}", [Sec(V.pem(rng), "private_key", "pem", ("code",))])
