"""Real mails from the shared corpus whose headers only read right since senders, charsets
and encoded words are read the way mail clients read them (each was wrong before)."""

from __future__ import annotations

from pathlib import Path

from ingest.model import Address, ParsedMessage
from ingest.parse.message import parse_message


def parse(corpus: Path, rel: str) -> ParsedMessage:
    return parse_message((corpus / rel).read_bytes())


def test_encoded_words_with_spaces_inside(corpus_dir: Path) -> None:
    otobo = "otobo-otrs-postmaster/EmailParser/"
    assert parse(corpus_dir, otobo + "UTF-7.box").subject == (
        "Microsoft Forefront Protection for SharePoint successfully updated the Command scan "
        "engine on server XXX"
    )
    forwarded = parse(corpus_dir, otobo + "FilenameWithCRLF.box").attachments
    assert "Test test test test dokument.eml" in [a.filename for a in forwarded]


def test_eight_bit_and_rfc2231_attachment_names(corpus_dir: Path) -> None:
    ruby = parse(corpus_dir, "ruby-mail/emails/attachment_emails/attachment_nonascii_filename.eml")
    assert [a.filename for a in ruby.attachments] == ["ciële.txt"]
    spamscope = parse(corpus_dir, "spamscope-mail-parser/mails/mail_test_1")
    assert "ФНС_РФ558.zip" in [a.filename for a in spamscope.attachments]
    otobo = parse(corpus_dir, "otobo-otrs-postmaster/EmailParser/PostMaster-Test12.box")
    names = [a.filename for a in otobo.attachments]
    assert "報告書①..txt" in names  # RFC 2231 in ISO-2022-JP with a NEC circled digit
    assert not any("\ufffd" in name for name in names)


def test_senders_read_leniently(corpus_dir: Path) -> None:
    plain = "ruby-mail/emails/plain_emails/"
    assert parse(corpus_dir, plain + "mix_caps_content_type.eml").sender == Address(
        "Big Bug", "bb@bug.com"
    )
    several = parse(corpus_dir, plain + "raw_email_multiple_from.eml")
    assert several.sender == Address("", "tim@powerupdev.com")
    assert [a.email for a in several.to] == ["tim@powerupdev.com", "concierge@powerupdev.com"]
    apple = parse(corpus_dir, "sisimai-bounces/maildir/bsd/rfc3464-10.eml")
    assert apple.sender == Address("Mail Delivery System", "mailer-daemon@mail-in2.apple.com")


def test_koi8_r_without_any_charset(corpus_dir: Path) -> None:
    parsed = parse(corpus_dir, "request-tracker/emails/russian-subject-no-content-type")
    assert parsed.subject == "тест тест"
    assert parsed.text == "ТЕСТ"  # the same charset as the subject, not windows-1251
