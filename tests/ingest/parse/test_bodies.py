"""Bodies and attachments read the way the sender's client meant them: empty plain
alternatives, Apple Mail's split text, uuencode, attached mails, TNEF, inline images,
signed and encrypted mail, calendar invites."""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ingest.parse.attached import safe_eml_name
from ingest.parse.message import parse_message
from ingest.parse.smime import cms_kind, signed_content
from ingest.parse.tnef import unpack_tnef

HEAD = b"From: Ann <ann@example.org>\nTo: help@desk.example\nSubject: s\nMIME-Version: 1.0\n"


def mail(content_type: str, body: str) -> bytes:
    return HEAD + f"Content-Type: {content_type}\n\n{body}".encode()


def test_empty_plain_alternative_gives_way_to_the_html() -> None:
    blank = base64.b64encode(b" \r\n\xc2\xa0\r\n").decode()
    for empty, encoding in (("", "7bit"), ("  \n\n \t\n", "7bit"), (blank, "base64")):
        raw = mail(
            'multipart/alternative; boundary="b"',
            f"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: {encoding}\n\n{empty}\n"
            "--b\nContent-Type: text/html\n\n<p>The printer on floor 2 is jammed.</p>\n--b--\n",
        )
        parsed = parse_message(raw)
        assert parsed.text == "The printer on floor 2 is jammed.", empty
        assert parsed.html is not None and "jammed" in parsed.html


def test_real_plain_alternative_is_still_preferred() -> None:
    raw = mail(
        'multipart/alternative; boundary="b"',
        "--b\nContent-Type: text/plain\n\nplain words\n"
        "--b\nContent-Type: text/html\n\n<p>html words</p>\n--b--\n",
    )
    assert parse_message(raw).text == "plain words"


def test_apple_mail_text_parts_between_attachments_are_all_kept_in_order() -> None:
    image = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    raw = mail(
        'multipart/mixed; boundary="m"',
        "--m\nContent-Type: text/plain; charset=us-ascii\n\nFirst, the screenshot:\n"
        "--m\nContent-Type: image/png; name=shot.png\nContent-Disposition: inline; "
        f"filename=shot.png\nContent-Transfer-Encoding: base64\n\n{image}\n"
        "--m\nContent-Type: text/plain; charset=us-ascii\n\nThen the invoice:\n"
        "--m\nContent-Type: application/pdf; name=inv.pdf\nContent-Disposition: attachment; "
        "filename=inv.pdf\n\n%PDF-1.4\n"
        "--m\nContent-Type: text/plain; charset=us-ascii\n\nThanks, Ann\n--m--\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "First, the screenshot:\n\nThen the invoice:\n\nThanks, Ann"
    assert [(a.filename, a.inline) for a in parsed.attachments] == [
        ("shot.png", True),
        ("inv.pdf", False),
    ]


def test_uuencoded_files_in_a_text_part_are_attachments_in_order(corpus_dir: Path) -> None:
    parsed = parse_message((corpus_dir / "mime4j/mimetools-testmsgs/sig-uu.msg").read_bytes())
    assert "begin 644" not in parsed.text and "M1TE&" not in parsed.text
    assert parsed.text.endswith("And now, a little .gif icon:\n\nDone!")
    names = [(a.filename, a.content_type) for a in parsed.attachments]
    assert names == [(".signature", "application/octet-stream"), ("uuencoded.gif", "image/gif")]
    assert parsed.attachments[1].payload.startswith(b"GIF89a")
    junk = parse_message((corpus_dir / "mime4j/mimetools-testmsgs/uu-junk.msg").read_bytes())
    assert [a.filename for a in junk.attachments] == ["up.gif", "zeegee.gif"]


def test_attached_mail_is_kept_as_eml_named_after_its_subject() -> None:
    inner = (
        "From: Carl <carl@customer.example>\nSubject: Re: Order 42/2026 <urgent>\n\n"
        "The delivery never arrived.\n"
    )
    raw = mail(
        'multipart/mixed; boundary="m"',
        "--m\nContent-Type: text/plain\n\nSee the attached mail.\n"
        f"--m\nContent-Type: message/rfc822\n\n{inner}--m--\n",
    )
    parsed = parse_message(raw)
    assert "The delivery never arrived." in parsed.text
    assert "From: Carl <carl@customer.example>" in parsed.text
    [eml] = parsed.attachments
    assert (eml.filename, eml.content_type) == ("Re Order 42 2026 urgent.eml", "message/rfc822")
    assert parse_message(eml.payload).text == "The delivery never arrived."


def test_eml_names_are_safe() -> None:
    assert safe_eml_name("") == "forwarded-message.eml"
    assert safe_eml_name("../../etc/passwd") == "etc passwd.eml"
    assert safe_eml_name("a\x00b\r\nc " + "x" * 300).startswith("a b c x")
    assert len(safe_eml_name("y" * 300)) == 104


def _tnef_object(level: int, name: int, data: bytes) -> bytes:
    return (
        struct.pack("<BHHI", level, name, 0x0006, len(data))
        + data
        + struct.pack("<H", sum(data) & 0xFFFF)
    )


def tnef(files: dict[str, bytes], body: bytes = b"") -> bytes:
    out = struct.pack("<IH", 0x223E9F78, 1)
    if body:
        out += _tnef_object(1, 0x800C, body)
    for name, data in files.items():
        out += _tnef_object(2, 0x9002, b"\x01\x00\xff\xff\xff\xff")
        out += _tnef_object(2, 0x8010, name.encode() + b"\x00")
        out += _tnef_object(2, 0x800F, data)
    return out


def winmail_mail(container: bytes, text: str = "") -> bytes:
    encoded = base64.b64encode(container).decode()
    first = f"--m\nContent-Type: text/plain\n\n{text}\n" if text else ""
    return mail(
        'multipart/mixed; boundary="m"',
        f"{first}--m\nContent-Type: application/ms-tnef; name=winmail.dat\n"
        "Content-Disposition: attachment; filename=winmail.dat\n"
        f"Content-Transfer-Encoding: base64\n\n{encoded}\n--m--\n",
    )


def test_winmail_dat_is_unpacked_into_its_files() -> None:
    files = {"report.pdf": b"%PDF-1.4 report", "notes.txt": b"call back at 10"}
    parsed = parse_message(winmail_mail(tnef(files), "See attached."))
    assert parsed.text == "See attached."
    assert [(a.filename, a.content_type, a.payload) for a in parsed.attachments] == [
        ("report.pdf", "application/pdf", b"%PDF-1.4 report"),
        ("notes.txt", "text/plain", b"call back at 10"),
    ]


def test_tnef_body_is_used_when_the_mail_has_none() -> None:
    parsed = parse_message(winmail_mail(tnef({"a.txt": b"some text"}, b"Body from Outlook\x00")))
    assert parsed.text == "Body from Outlook"
    assert [a.filename for a in parsed.attachments] == ["a.txt"]


def test_broken_tnef_stays_winmail_dat_and_never_crashes() -> None:
    good = tnef({"report.pdf": b"%PDF-1.4 report"})
    for broken in (b"not tnef at all", good[:20], good[:-7], b"\x78\x9f\x3e\x22" + b"\xff" * 40):
        parsed = parse_message(winmail_mail(broken, "text"))
        assert [a.filename for a in parsed.attachments] == ["winmail.dat"], broken
        assert any("TNEF" in d for d in parsed.defects)
        assert unpack_tnef(broken) is None


def test_inline_and_cid_images_are_kept_and_counted() -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nimg").decode()
    raw = mail(
        'multipart/related; boundary="r"',
        '--r\nContent-Type: text/html\n\n<p>Error:</p><img src="cid:shot1@x">\n'
        f"--r\nContent-Type: image/png\nContent-ID: <shot1@x>\n"
        f"Content-Transfer-Encoding: base64\n\n{png}\n"
        f"--r\nContent-Type: image/gif; name=logo.gif\nContent-Disposition: inline\n"
        f"Content-Transfer-Encoding: base64\n\n{png}\n--r--\n",
    )
    parsed = parse_message(raw)
    assert [(a.filename, a.inline, a.content_id) for a in parsed.attachments] == [
        ("image-1.png", True, "shot1@x"),
        ("logo.gif", True, None),
    ]
    assert parsed.html is not None and "cid:shot1@x" in parsed.html


def _signer() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ann")])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert, key


CONTENT = b"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease reset my account.\r\n"


def _signed(options: list[pkcs7.PKCS7Options]) -> bytes:
    cert, key = _signer()
    builder = pkcs7.PKCS7SignatureBuilder().set_data(CONTENT).add_signer(cert, key, hashes.SHA256())
    return builder.sign(serialization.Encoding.SMIME, options)


def test_smime_detached_signature_is_read_through_and_not_an_attachment() -> None:
    parsed = parse_message(HEAD + _signed([pkcs7.PKCS7Options.DetachedSignature]))
    assert parsed.text == "Please reset my account."
    assert parsed.attachments == ()


def test_opaque_smime_signed_mail_is_read_through() -> None:
    cert, key = _signer()
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(CONTENT)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [])
    )
    encoded = base64.encodebytes(der).decode()
    raw = (
        HEAD
        + (
            "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\n"
            f"Content-Transfer-Encoding: base64\n\n{encoded}"
        ).encode()
    )
    parsed = parse_message(raw)
    assert parsed.text == "Please reset my account."
    assert parsed.attachments == ()
    assert cms_kind(der) == "signed" and signed_content(der) == CONTENT
    assert signed_content(der[: len(der) // 2]) is None and cms_kind(b"\x30\x80") == "unknown"


def test_pgp_signed_mail_is_read_through(corpus_dir: Path) -> None:
    raw = (corpus_dir / "ruby-mail/emails/mime_emails/sig_only_email.eml").read_bytes()
    parsed = parse_message(raw)
    assert parsed.text.startswith("This is random text, not what has been signed below")
    assert parsed.attachments == ()
    only_signature = mail(
        'multipart/signed; protocol="application/pgp-signature"; boundary="s"',
        "--s\nContent-Type: text/plain\n\nsigned words\n--s\n"
        "Content-Type: application/pgp-signature; name=signature.asc\n\n"
        "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n--s--\n",
    )
    parsed = parse_message(only_signature)
    assert (parsed.text, parsed.attachments) == ("signed words", ())


def test_encrypted_mail_is_kept_as_attachment_with_a_note() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - a test key, fast to make
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "desk")])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    smime = pkcs7.PKCS7EnvelopeBuilder().set_data(CONTENT).add_recipient(cert)
    parsed = parse_message(HEAD + smime.encrypt(serialization.Encoding.SMIME, []))
    assert "This mail is encrypted (S/MIME)" in parsed.text
    assert [a.filename for a in parsed.attachments] == ["smime.p7m"]
    pgp = mail(
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"',
        "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
        "--e\nContent-Type: application/octet-stream; name=encrypted.asc\n\n"
        "-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n--e--\n",
    )
    parsed = parse_message(pgp)
    assert "This mail is encrypted (PGP/MIME)" in parsed.text
    assert [a.filename for a in parsed.attachments] == ["encrypted.asc"]


def test_calendar_invite_is_one_ics_attachment() -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    encoded = base64.b64encode(ics.encode()).decode()
    raw = mail(
        'multipart/mixed; boundary="m"',
        '--m\nContent-Type: multipart/alternative; boundary="a"\n\n'
        "--a\nContent-Type: text/plain\n\nInvitation: review\n"
        "--a\nContent-Type: text/html\n\n<p>Invitation: review</p>\n"
        f"--a\nContent-Type: text/calendar; method=REQUEST\n\n{ics}\n--a--\n"
        "--m\nContent-Type: application/ics; name=invite.ics\n"
        "Content-Disposition: attachment; filename=invite.ics\n"
        f"Content-Transfer-Encoding: base64\n\n{encoded}\n--m--\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Invitation: review"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("invite.ics", "text/calendar")
    ]


INNER = (
    "From: Carl <carl@customer.example>\nSubject: Broken login\n"
    'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="i"\n\n'
    "--i\nContent-Type: text/plain\n\nI cannot log in since Friday.\n"
    "--i\nContent-Type: image/jpeg; name=error.jpg\nContent-Transfer-Encoding: base64\n\n"
    "/9j/4AAQ\n"
    "--i\nContent-Type: message/rfc822\n\nFrom: Dan <dan@customer.example>\n"
    "Subject: older\n\nOlder words.\n--i--\n"
)


def test_mail_that_is_only_an_attached_mail_reads_as_that_mail() -> None:
    for own_after in ("", "--m\nContent-Type: text/plain\n\nSent from my phone\n"):
        raw = mail(
            'multipart/mixed; boundary="m"',
            f"--m\nContent-Type: message/rfc822\n\n{INNER}{own_after}--m--\n",
        )
        parsed = parse_message(raw)
        assert parsed.text.startswith("I cannot log in since Friday.\n\n")
        # only the mail nested in it, after the attached mail's own text, has a banner
        assert parsed.text.count("Forwarded message") == 1
        assert "---------- Forwarded message ----------\nFrom: Dan" in parsed.text
        assert "Older words." in parsed.text  # the nested mail's text stays searchable
        assert parsed.text.endswith("Sent from my phone" if own_after else "Older words.")
        # one attachment: the attached mail; its picture and its own attached mail stay in it
        [eml] = parsed.attachments
        assert eml.filename == "Broken login.eml"
        inner = parse_message(eml.payload)
        assert [a.filename for a in inner.attachments] == ["error.jpg", "older.eml"]


def test_own_text_before_an_attached_mail_keeps_the_banner() -> None:
    raw = mail(
        'multipart/mixed; boundary="m"',
        "--m\nContent-Type: text/plain\n\nPlease look.\n"
        f"--m\nContent-Type: message/rfc822\n\n{INNER}--m--\n",
    )
    parsed = parse_message(raw)
    assert parsed.text.startswith(
        "Please look.\n\n---------- Forwarded message ----------\n"
        "From: Carl <carl@customer.example>\nSubject: Broken login\n\n"
        "I cannot log in since Friday."
    )
    assert [a.filename for a in parsed.attachments] == ["Broken login.eml"]


BOUNCE = (
    "--r\nContent-Type: text/plain\n\nYour mail could not be delivered.\n"
    "--r\nContent-Type: message/delivery-status{disposition}\n\n"
    "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; gone@example.org\n"
    "Action: failed\nStatus: 5.1.1\n"
    "--r\nContent-Type: text/rfc822-headers\n\nFrom: a@example.org\nSubject: hi\n"
    "--r--\n"
)


def test_delivery_reports_read_as_text_and_returned_headers_as_a_file() -> None:
    report = 'multipart/report; report-type=delivery-status; boundary="r"'
    parsed = parse_message(mail(report, BOUNCE.format(disposition="")))
    assert parsed.text.startswith("Your mail could not be delivered.\n\nReporting-MTA: dns;")
    assert "Status: 5.1.1" in parsed.text
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("attachment-1.txt", "text/rfc822-headers")
    ]
    # a report sent as an attachment is read after the content, never as a file
    sent = "\nContent-Disposition: attachment; filename=status.txt"
    only_report = mail(
        'multipart/mixed; boundary="r"',
        f"--r\nContent-Type: message/delivery-status{sent}\n\nStatus: 5.1.1\n"
        f"--r\nContent-Type: message/rfc822\n\n{INNER}--r--\n",
    )
    parsed = parse_message(only_report)
    assert parsed.text.startswith("I cannot log in since Friday.")
    assert parsed.text.endswith("Status: 5.1.1")
    assert [a.filename for a in parsed.attachments] == ["Broken login.eml"]


def test_abuse_feedback_report_is_text() -> None:
    raw = mail(
        'multipart/report; report-type=feedback-report; boundary="f"',
        "--f\nContent-Type: text/plain\n\nThis is an abuse report.\n"
        "--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
        "User-Agent: SomeGenerator/1.0\nVersion: 1\n"
        "--f\nContent-Type: message/rfc822\n\nFrom: x@example.org\nSubject: spam\n\nBuy.\n--f--\n",
    )
    parsed = parse_message(raw)
    assert "Feedback-Type: abuse" in parsed.text
    assert [a.filename for a in parsed.attachments] == ["spam.eml"]


def test_external_body_references_and_stray_signatures_are_no_files() -> None:
    raw = mail(
        'multipart/mixed; boundary="x"',
        "--x\nContent-Type: text/plain\n\nSee the draft.\n"
        '--x\nContent-Type: message/external-body; access-type="anon-ftp"; '
        'site="ftp.example.org"; name="draft.txt"\n\nContent-Type: text/plain\n\n'
        "--x\nContent-Type: application/pkcs7-signature; name=smime.p7s\n"
        "Content-Disposition: attachment; filename=smime.p7s\n"
        "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQE=\n--x--\n",
    )
    parsed = parse_message(raw)
    assert (parsed.text, parsed.attachments) == ("See the draft.", ())
    assert any("external-body" in d for d in parsed.defects)
    assert any("outside multipart/signed" in d for d in parsed.defects)
