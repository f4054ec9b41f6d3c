"""No secret survives: one secret of every kind in subject, text, HTML and a .log attachment,
through the spool, the pipeline, the outbox and the logs; then every byte the product wrote
(database file and WAL, attachment store, spool, quarantine, outbox files, log file) is
searched for every secret value.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text

from ingest.model import Outcome, RawMessage
from ingest.worker import SpoolWorker
from postdesk.config.settings import LoggingSettings
from postdesk.notify_build import outbox_worker
from postdesk.serve.logs import configure_logging
from tests.helpers import mail, make_app

SECRETS = {
    "card": "4111 1111 1111 1111",
    "card_digits": "4111111111111111",
    "cvv": "cvv 737",
    "password": "Xk9#mPq2vLr",
    "aws_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "github": "ghp_R8aZ3kLmN0pQ7sT2vX5yB9cD1eF4gH6jK8mP",
    "slack": "xoxb-2048193625-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe": "sk_live_51HqLyjWDarjtT1zdp7dcXyZ0aBcD",
    "openai": "sk-proj-Tq3xV9bN2mK7pL4wR8sY1zA6cE5fH0jU",
    "sendgrid": "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",
    "google": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "gitlab": "glpat-x7Yz9AbCdEfGhIjKlMnO",
    "webhook": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "bearer": "eyA0bWFzZGZhc2RmYXNkZmFzZGZhc2RmYXNkZg1234",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "url_password": "S3cr3tPw0rd",
    "db_password": "DbPa55word99",
    "otp": "482913",
    "recovery": "7hd8-2kd9",
    "pem": "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    # the shapes of issue 15: split, wrapped, quoted, told in sentences
    "card_wrapped": "2223 0031 2200",
    "card_wrapped_digits": "222300312200",
    "expiry": "09/2031",
    "backup_code": "5821 9934",
    "otp_prose": "771204",
    "passphrase": "violet harbor canyon pencil",
    "curl_password": "Qz8!curlPass",
    "cookie": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "magic_link": "Zx8Kq2LmN9pR4tVw7yB1cD3fG6hJ0kM5",
    "mailchimp": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f-us21",
    "slack_spaced": "AbCdEfGhIjKlMnOpQrStUvWz",
}
TEXT = f"""Hello support,

Card {SECRETS["card"]} exp 12/29 {SECRETS["cvv"]}
my password is {SECRETS["password"]}
AWS key {SECRETS["aws_id"]} secret {SECRETS["aws_secret"]}
github token {SECRETS["github"]}
slack {SECRETS["slack"]}
stripe {SECRETS["stripe"]}
openai {SECRETS["openai"]}
sendgrid {SECRETS["sendgrid"]}
google {SECRETS["google"]}
gitlab {SECRETS["gitlab"]}
webhook {SECRETS["webhook"]}
Authorization: Bearer {SECRETS["bearer"]}
jwt {SECRETS["jwt"]}
url https://admin:{SECRETS["url_password"]}@portal.acme.example/login
db postgres://app:{SECRETS["db_password"]}@db.acme.example:5432/prod
Your verification code is {SECRETS["otp"]}
Recovery codes: {SECRETS["recovery"]} 8sk2-19dk 2ks9-dk29
-----BEGIN RSA PRIVATE KEY-----
{SECRETS["pem"]}
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
-----END RSA PRIVATE KEY-----
Invoice INV-2026-0042, order 1234567, call +49 30 1234567, IP 10.0.0.1, version 4.2.1

On Monday Carol wrote:
> please charge my other card {SECRETS["card_wrapped"]}
> 3222, expiring {SECRETS["expiry"]}. My backup codes:
> {SECRETS["backup_code"]}
> 1029 3847
> The code I received was {SECRETS["otp_prose"]}. My password broke, so I reset it to
> {SECRETS["passphrase"]}.
curl -u carol:{SECRETS["curl_password"]} https://api.acme.example/v1
Cookie: theme=dark; PHPSESSID={SECRETS["cookie"]}
https://app.acme.example/magic/{SECRETS["magic_link"]}
mailchimp {SECRETS["mailchimp"]}
xoxb-1 234567 890123 {SECRETS["slack_spaced"]}
"""
ORDINARY = ["INV-2026-0042", "order 1234567", "+49 30 1234567", "10.0.0.1", "version 4.2.1"]


def _html(text: str) -> str:
    rows = "".join(f"<p>{line}</p>" for line in text.splitlines())
    return f"<html><body>{rows}<table><tr><td>Password:</td><td><b>{SECRETS['password']}</b></td></tr></table></body></html>"


def _written_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_no_secret_value_is_written_anywhere(tmp_path: Path, sqlite_url: str) -> None:
    log_file = tmp_path / "postdesk.log"
    configure_logging(LoggingSettings(level="DEBUG", file=log_file, json=False))
    try:
        app = make_app(tmp_path, sqlite_url)
        data = mail(
            subject=f"Login broken, password {SECRETS['password']} card {SECRETS['card']}",
            body=TEXT,
            html=_html(TEXT),
            attachments=[
                ("debug.log", "text/plain", TEXT.encode()),
                (
                    "settings.env",
                    "application/octet-stream",
                    f"STRIPE_KEY={SECRETS['stripe']}\n".encode(),
                ),
            ],
        )
        app.spool.put(
            data, mail_from="carol@acme.example", rcpts=["support@desk.example"], source="smtp"
        )
        worker = SpoolWorker(app.spool, app.intake.ingest, app.intake.quarantine_raw)
        assert worker.drain() == 1
        with app.db.transaction() as session:
            outcomes = session.execute(text("SELECT outcome FROM inbound_messages")).scalars().all()
        assert outcomes == [Outcome.CREATED.value]
        reply = mail(
            subject="Re: [SUP-1001] Login broken",
            body=f"Sorry, the new one: password: {SECRETS['db_password']}\n",
        )
        assert app.intake.ingest(RawMessage(data=reply)).outcome is Outcome.COMMENTED
        report = outbox_worker(app).drain()
        assert report.sent >= 3 and report.dead == 0
        app.close()
    finally:
        logging.getLogger().handlers[:] = []

    written = _written_bytes(tmp_path)
    assert len(written) > 10_000
    assert app.spool.depth() == 0
    found = {name for name, value in SECRETS.items() if value.encode() in written}
    assert found == set()
    stored_text = _written_bytes(tmp_path / "outbox").decode("utf-8", "replace")
    assert "[password removed]" in stored_text or "password" in stored_text
    database = (tmp_path / "postdesk.db").read_bytes()
    for phrase in ORDINARY:
        assert phrase.encode() in database, phrase


CORNERS = {
    "name_card": "5500 0000 0000 0004",
    "name_card_digits": "5500000000000004",
    "message_id": "Hunt3rTw0Pw",
    "utf16": "U16Secret9x",
    "csv_column": "Csv0nlyPw7",
    "file_name": "Fn4meSecret8",
    "zip": "Z1pSecret55",
    "gzip": "Gz1pSecret6",
    "pdf": "PdfSecret77",
    "docx": "D0cxSecret3",
}
SECRET_ID = f"<password={CORNERS['message_id']}@acme.example>"


def _corner_attachments() -> list[tuple[str, str, bytes]]:
    from tests.ingest.redact.documents import docx, gzipped, pdf, zipped

    def said(key: str) -> str:
        return f"Login for the portal\npassword: {CORNERS[key]}\n"

    return [
        ("notes.txt", "text/plain", b"\xff\xfe" + said("utf16").encode("utf-16-le")),
        ("users.csv", "text/csv", f"user,password\nerin,{CORNERS['csv_column']}\n".encode()),
        (f"password={CORNERS['file_name']}.txt", "text/plain", b"nothing secret here\n"),
        ("creds.zip", "application/zip", zipped({"creds.txt": said("zip").encode()})),
        ("app.log.gz", "application/gzip", gzipped(said("gzip").encode())),
        ("creds.pdf", "application/pdf", pdf(said("pdf"))),
        (
            "creds.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx(said("docx")),
        ),
    ]


def _forms(value: str) -> list[bytes]:
    """The ways a secret could be written: UTF-8 and the UTF-16/32 byte orders."""
    return [value.encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le")]


def test_no_secret_in_any_corner(tmp_path: Path, sqlite_url: str) -> None:
    """A card as the From name, a password in the Message-ID (and in the References of the
    reply), a UTF-16 attachment, a CSV password column, a file name, and secrets inside a
    zip, a gzip, a PDF and a docx: none reaches a byte the product writes."""
    log_file = tmp_path / "postdesk.log"
    configure_logging(LoggingSettings(level="DEBUG", file=log_file, json=False))
    try:
        app = make_app(tmp_path, sqlite_url)
        data = mail(
            sender=f'"{CORNERS["name_card"]}" <erin@acme.example>',
            subject="Portal login",
            body="Hello, the files are attached.\n",
            message_id=SECRET_ID,
            attachments=_corner_attachments(),
        )
        app.spool.put(
            data, mail_from="erin@acme.example", rcpts=["support@desk.example"], source="smtp"
        )
        worker = SpoolWorker(app.spool, app.intake.ingest, app.intake.quarantine_raw)
        assert worker.drain() == 1
        again = app.intake.ingest(RawMessage(data=data))
        assert again.outcome is Outcome.DUPLICATE  # the stand-in is the dedupe key
        reply = mail(
            sender="Erin <erin@acme.example>",
            subject="One more thing",  # no tag: only In-Reply-To/References name the ticket
            body="And the export fails too.\n",
            headers={"In-Reply-To": SECRET_ID, "References": SECRET_ID},
        )
        answered = app.intake.ingest(RawMessage(data=reply))
        assert answered.outcome is Outcome.COMMENTED and answered.ticket == "SUP-1001"
        report = outbox_worker(app).drain()
        assert report.sent >= 2 and report.dead == 0
        with app.db.transaction() as session:
            kept = session.execute(text("SELECT filename FROM attachments")).scalars().all()
        app.close()
    finally:
        logging.getLogger().handlers[:] = []

    assert sorted(kept) == ["notes.txt", "password=[password removed].txt", "users.csv"]
    written = _written_bytes(tmp_path)
    found = {name for name, value in CORNERS.items() for form in _forms(value) if form in written}
    assert found == set()
    outbox = _written_bytes(tmp_path / "outbox").decode("utf-8", "replace")
    assert "contains a password" in outbox  # the sender is told which files were withheld
    assert "@postdesk.invalid" in outbox  # the stand-in threads the answers
