"""ingest.parse on headers as legacy and broken clients write them: 8-bit header bytes,
rule-breaking encoded words, mislabelled and unusable charsets, odd senders, huge lists."""

from __future__ import annotations

import base64

import pytest

from ingest.model import Address
from ingest.parse.addresses import recover_mailboxes
from ingest.parse.charsets import resolve_charset
from ingest.parse.decode import decode_bytes
from ingest.parse.detect import guess_codec
from ingest.parse.message import UnparseableMessage, parse_message


def mail(headers: bytes, body: bytes = b"hello\n") -> bytes:
    return b"From: a@example.com\n" + headers + b"\n" + body


def with_attachment(name: bytes, body_charset: bytes) -> bytes:
    return (
        b'From: a@example.com\nSubject: files\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain; charset=" + body_charset + b"\n\nsee attached\n"
        b'--b\nContent-Type: application/pdf; name="' + name + b'"\n'
        b'Content-Disposition: attachment; filename="' + name + b'"\n\n%PDF\n--b--\n'
    )


def readable(text: str) -> bool:
    return "\ufffd" not in text and "?" not in text


# --- 8-bit bytes in headers, without encoded words ---------------------------------------


@pytest.mark.parametrize(
    "subject, codec, body_charset",
    [
        ("Grüße", "latin-1", None),
        ("Grüße aus Köln", "latin-1", b"iso-8859-1"),
        ("お問い合わせの件について", "cp932", b"shift_jis"),
        ("お問い合わせの件について確認", "cp932", None),
        ("見積書の送付", "euc_jp", b"euc-jp"),
        ("关于订单的问题请帮忙", "gb2312", b"gb2312"),
        ("关于订单的问题", "gb2312", None),
        ("안녕하세요 문의드립니다", "euc-kr", None),
        ("тест тест", "koi8-r", None),
        ("Привет", "cp1251", b"windows-1251"),
        ("Grüße", "utf-8", b"iso-8859-1"),  # valid UTF-8 wins over the body's label
    ],
)
def test_eight_bit_subject_is_read_in_the_charset_the_sender_meant(
    subject: str, codec: str, body_charset: bytes | None
) -> None:
    headers = b"Subject: " + subject.encode(codec) + b"\n"
    if body_charset is not None:
        headers += b"Content-Type: text/plain; charset=" + body_charset + b"\n"
    parsed = parse_message(mail(headers))
    assert parsed.subject == subject
    assert "Subject: raw 8-bit bytes in a header" in parsed.defects


def test_body_charset_decides_between_readings_of_short_header_bytes() -> None:
    # "テスト" in Shift_JIS, a body that says so: the hint, not a guess, is used
    raw = mail(
        "From: 山田太郎 <yamada@example.jp>\nSubject: テスト\n".encode("cp932")
        + b"Content-Type: text/plain; charset=Shift_JIS\n",
        "本文です".encode("cp932"),
    ).replace(b"From: a@example.com\n", b"", 1)
    parsed = parse_message(raw)
    assert parsed.subject == "テスト"
    assert parsed.sender == Address("山田太郎", "yamada@example.jp")
    assert parsed.text == "本文です"


def test_latin_hint_is_not_forced_on_double_byte_header_bytes() -> None:
    # a us-ascii body says nothing about a Shift_JIS subject (us-ascii reads as cp1252)
    raw = mail(
        "Subject: ご注文の確認\n".encode("cp932") + b"Content-Type: text/plain; charset=us-ascii\n"
    )
    assert parse_message(raw).subject == "ご注文の確認"


@pytest.mark.parametrize(
    "name, codec",
    [("Jürgen Groß", "latin-1"), ("山田太郎", "cp932"), ("王小明", "gb2312")],
)
def test_eight_bit_display_name(name: str, codec: str) -> None:
    raw = (
        b"From: " + name.encode(codec) + b" <sender@example.org>\nSubject: x\n"
        b"Content-Type: text/plain; charset=" + codec.encode() + b"\n\nhello\n"
    )
    assert parse_message(raw).sender == Address(name, "sender@example.org")


@pytest.mark.parametrize(
    "name, codec, body_charset",
    [
        ("Grüße.pdf", "latin-1", b"iso-8859-1"),
        ("ciële.txt", "latin-1", b"us-ascii"),
        ("見積書.pdf", "cp932", b"shift_jis"),
        ("見積書.pdf", "cp932", b"utf-8"),
        ("报价单.pdf", "gb2312", b"gb2312"),
    ],
)
def test_eight_bit_attachment_file_names(name: str, codec: str, body_charset: bytes) -> None:
    parsed = parse_message(with_attachment(name.encode(codec), body_charset))
    assert [a.filename for a in parsed.attachments] == [name]
    assert "attachment name: raw 8-bit bytes in a header" in parsed.defects


# --- encoded words that break the rules -------------------------------------------------


def jis_pair(sjis: bytes) -> bytes:
    """The JIS X 0208 bytes of one Shift_JIS (cp932) character."""
    lead, trail = sjis
    lead -= 0x40 if lead >= 0xE0 else 0
    row = (lead - 0x81) * 2 + 0x21
    if trail >= 0x9F:
        return bytes((row + 1, trail - 0x7E))
    return bytes((row, trail - 0x1F - (trail >= 0x80)))


def test_jis_pair_helper_agrees_with_python() -> None:
    assert b"\x1b$B" + jis_pair("日".encode("cp932")) + b"\x1b(B" == "日".encode("iso2022_jp")


@pytest.mark.parametrize(
    "header, expected",
    [
        (b"=?us-ascii?Q?Order 42 / Berlin?=", "Order 42 / Berlin"),
        (b"=?UTF-8?Q? Gr=C3=BC=C3=9Fe?=", "Grüße"),
        (b"Re: =?UTF-8?Q?Gr=C3=BC=C3=9Fe aus K=C3=B6ln?= und mehr", "Re: Grüße aus Köln und mehr"),
        (b"abc=?utf-8?q?=C3=A9?=def", "abcédef"),
        (b"=?utf-8?q?Preis 5=E2=82?= =?utf-8?q?=AC?=", "Preis 5€"),
        (b"=?utf-8?b?" + base64.b64encode("€".encode()[:2]) + b"?=\n =?UTF-8?B?rA==?=", "€"),
        (b"=?iso-8859-8-i?b?" + base64.b64encode("שלום".encode("iso-8859-8")) + b"?=", "שלום"),
        (b"=?utf8?q?=C3=A9t=C3=A9?=", "été"),
        (b"=?x-unknown?q?caf=E9?=", "café"),
        (b"=?unicode-1-1-utf-7?q?Gr+APwA3w-e?=", "Grüße"),
        (b"=?utf-8?b?R3LDvMOfZQ?=", "Grüße"),  # lowercase b, padding missing
        (b"=?gb2312?b?" + base64.b64encode("镕".encode("gbk")) + b"?=", "镕"),  # GBK-only
        (b"=?ks_c_5601-1987?b?" + base64.b64encode("똠".encode("cp949")) + b"?=", "똠"),
        (b"=?shift_jis?b?" + base64.b64encode("①髙".encode("cp932")) + b"?=", "①髙"),
    ],
)
def test_lenient_encoded_words(header: bytes, expected: str) -> None:
    assert parse_message(mail(b"Subject: " + header + b"\n")).subject == expected


def test_iso_2022_jp_with_microsoft_extensions() -> None:
    # ① (NEC row 13) and 髙 (NEC-selected IBM extension), plus half-width katakana
    extended = b"".join(jis_pair(c.encode("cp932")) for c in "①髙橋様")
    word = b"\x1b$B" + extended + b"\x1b(I" + b"\x31\x32\x33" + b"\x1b(B"
    for label in (b"iso-2022-jp", b"ISO-2022-JP", b"cp50220", b"csISO2022JP"):
        header = b"Subject: =?" + label + b"?B?" + base64.b64encode(word) + b"?=\n"
        assert parse_message(mail(header)).subject == "①髙橋様ｱｲｳ"
    body = mail(b"Subject: x\nContent-Type: text/plain; charset=iso-2022-jp\n", word + b"\n")
    assert parse_message(body).text == "①髙橋様ｱｲｳ"


# --- mislabelled charsets: one alias table for headers and bodies --------------------------


@pytest.mark.parametrize(
    "label, codec",
    [
        ("GB2312", "gb18030"),
        ("GBK", "gb18030"),
        ("Shift_JIS", "cp932"),
        ("ks_c_5601-1987", "cp949"),
        ("euc-kr", "cp949"),
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("latin1", "cp1252"),
        ("Big5", "big5hkscs"),
        ("ISO-8859-9", "cp1254"),
        ("TIS-620", "cp874"),
        ("iso-8859-8-i", "iso8859-8"),
        ("utf8", "utf-8"),
        ('"UTF-8"', "utf-8"),
        ("unicode-1-1-utf-7", "utf-7"),
        ("x-unknown", None),
        ("unknown-8bit", None),
        ("idna", None),
        ("utf\x00-8", None),
        ("rot13", None),
        ("base64", None),
        ("no-such-charset", None),
    ],
)
def test_charset_labels_resolve_as_browsers_read_them(label: str, codec: str | None) -> None:
    assert resolve_charset(label) == codec


@pytest.mark.parametrize(
    "label, text, codec",
    [
        (b"gb2312", "镕钢", "gbk"),
        (b"shift_jis", "①番", "cp932"),
        (b"euc-kr", "똠방", "cp949"),
        (b"iso-8859-1", "“quoted” €5", "cp1252"),
        (b"us-ascii", "“quoted” €5", "cp1252"),
        (b"iso-8859-9", "Güle güle €", "cp1254"),
        (b"tis-620", "สวัสดี €", "cp874"),
        (b"big5", "香港", "big5hkscs"),
    ],
)
def test_mislabelled_body_is_read_with_the_wider_charset(
    label: bytes, text: str, codec: str
) -> None:
    raw = mail(
        b"Subject: x\nContent-Type: text/plain; charset=" + label + b"\n", text.encode(codec)
    )
    parsed = parse_message(raw)
    assert parsed.text == text
    assert not any("body" in d for d in parsed.defects)


@pytest.mark.parametrize(
    "text, codec, used",
    [
        ("Grüße, schöne Grüße aus Köln", "utf-8", "utf-8"),
        ("Grüße, schöne Grüße aus Köln", "latin-1", "cp1252"),
        ("Здравствуйте, у меня проблема с заказом номер 42", "cp1251", "cp1251"),
        ("Здравствуйте, у меня проблема с заказом номер 42", "koi8-r", "koi8"),
        ("お問い合わせの件について確認をお願いします", "cp932", "cp932"),
    ],
)
def test_eight_bit_body_without_charset(text: str, codec: str, used: str) -> None:
    parsed = parse_message(mail(b"Subject: x\n", text.encode(codec)))
    assert parsed.text == text
    if codec != "utf-8":
        assert any(f"without a charset: decoded as {used}" in d for d in parsed.defects)


def test_detection_never_raises_and_always_decodes() -> None:
    for data in (b"\xff" * 7, bytes(range(256)), b"\x81", b"\xa1\xa1\xa1", b"a\x80b"):
        data.decode(guess_codec(data))
        text, _ = decode_bytes(data, None)
        assert "\x00" not in text


# --- every charset label decodes or falls back ---------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        b'text/plain; charset="idna"',
        b'text/plain; charset="utf\x00-8"',
        b"text/plain; charset*=idna''x",
        b"text/plain; charset*=utf-8''%00",
        b"text/plain; charset=punycode",
        b"text/plain; charset=unicode_escape",
        b"text/html; charset=idna",
        b"text/plain; charset=\xff\xfe",
    ],
)
@pytest.mark.parametrize("multipart", [False, True])
def test_unusable_charset_gives_a_normal_body(content_type: bytes, multipart: bool) -> None:
    from ingest.classify import classify

    body = "Grüße aus Köln".encode()
    if multipart:
        raw = mail(
            b'Subject: x\nContent-Type: multipart/mixed; boundary="b"\n',
            b"--b\nContent-Type: " + content_type + b"\n\n" + body + b"\n--b--\n",
        )
    else:
        raw = mail(b"Subject: x\nContent-Type: " + content_type + b"\n", body + b"\n")
    parsed = parse_message(raw)
    assert parsed.text == "Grüße aus Köln"
    assert parsed.message is not None
    classify(parsed.message, own_addresses=frozenset())  # get_payload() no longer raises


# --- senders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "from_, expected",
    [
        (b"Jane jane@example.org", Address("Jane", "jane@example.org")),
        (b"Jane Doe jane.doe@example.org", Address("Jane Doe", "jane.doe@example.org")),
        (b'"Sales Team"@example.org>', Address("", '"sales team"@example.org')),
        (b"Jane Doe <jane doe@example.org>", Address("Jane Doe", '"jane doe"@example.org')),
        (b"jane.@example.org", Address("", "jane.@example.org")),
        (b"Jane <jane.@example.org>", Address("Jane", "jane.@example.org")),
        (b"<jane@example.org> (Jane)", Address("Jane", "jane@example.org")),
        (b"jane@example.org (Jane Doe)", Address("Jane Doe", "jane@example.org")),
        (b"Jane <jane@example.org", Address("Jane", "jane@example.org")),
        (
            b"Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>",
            Address("Pete", "pete@silly.test"),
        ),
        (b"Jane (Sales) Doe <jane@example.org>", Address("Jane Doe", "jane@example.org")),
    ],
)
def test_odd_from_lines_are_read_like_mail_clients(from_: bytes, expected: Address) -> None:
    parsed = parse_message(b"From: " + from_ + b"\nSubject: x\n\nhello\n")
    assert parsed.sender == expected
    assert parsed.sender_header == "from"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jane jane@example.org", [("Jane", "jane@example.org")]),
        ("John Doe <jdoe@machine(comment).  example>", [("John Doe", "jdoe@machine.example")]),
        ("a@b.example c@d.example", [("", "a@b.example"), ("", "c@d.example")]),
        ("jane at example dot org", []),
    ],
)
def test_recover_mailboxes(text: str, expected: list[tuple[str, str]]) -> None:
    assert recover_mailboxes(text) == expected


def test_a_token_glued_to_brackets_is_not_taken_for_an_address() -> None:
    raw = b"From: a@example.com\nTo: bounce+Zo-[redacted].br@example.net\nSubject: x\n\nhi\n"
    assert parse_message(raw).to == ()


@pytest.mark.parametrize(
    "headers, expected, header",
    [
        (b"Sender: s@example.org\nReply-To: r@example.org\nReturn-Path: <p@example.org>\n",
         "s@example.org", "sender"),
        (b"Reply-To: Rita <r@example.org>\nReturn-Path: <p@example.org>\n",
         "r@example.org", "reply-to"),
        (b"Return-Path: <p@example.org>\n", "p@example.org", "return-path"),
    ],
)  # fmt: skip
def test_unusable_from_falls_back_in_order(headers: bytes, expected: str, header: str) -> None:
    raw = b"From: jane at example dot org\n" + headers + b"Subject: x\n\nhello\n"
    parsed = parse_message(raw)
    assert parsed.sender is not None and parsed.sender.email == expected
    assert parsed.sender_header == header
    assert f"From: missing or unreadable; sender taken from {header.title()}" in parsed.defects


def test_no_usable_sender_anywhere() -> None:
    parsed = parse_message(b"From: jane at example dot org\nSubject: x\n\nhello\n")
    assert (parsed.sender, parsed.sender_header) == (None, "")
    with pytest.raises(UnparseableMessage, match="no readable sender"):
        parse_message(b"From: jane at example dot org\nSubject: x\n\n\n")


@pytest.mark.parametrize(
    "banner",
    [
        b"From jane@example.org Mon Jan  1 00:00:00 2024\n",
        b">From jane@example.org Mon Jan  1 00:00:00 2024\n",
        b"X-Garbage line without colon\n",
        b"From jane@example.org Mon Jan  1 00:00:00 2024\n>From jane@example.org\n",
        b"\xef\xbb\xbfsome banner\n",
        b"\xef\xbb\xbf",
    ],
)
def test_stray_banner_line_before_the_headers(banner: bytes) -> None:
    raw = banner + b"From: Jane <jane@example.org>\nSubject: banner\n\nhello\n"
    parsed = parse_message(raw)
    assert parsed.sender == Address("Jane", "jane@example.org")
    assert (parsed.subject, parsed.text) == ("banner", "hello")


def test_text_that_only_looks_like_a_header_after_its_first_line_stays_text() -> None:
    raw = b"These test messages are part of a library:\nhttp://example.org/x\n\nmore\n"
    parsed = parse_message(raw)
    assert parsed.sender is None
    assert "http://example.org/x" in parsed.text


# --- address lists (issue 20) ----------------------------------------------------------------


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    "shape",
    ["u{i}@example.org", 'User {i} <u{i}@example.org>', '"U, {i}" <u{i}@example.org>',
     "u{i}@example.org (c{i})"],
)  # fmt: skip
def test_hundred_thousand_cc_addresses_are_capped(shape: str) -> None:
    cc = ", ".join(shape.format(i=i) for i in range(100_000))
    raw = f"From: a@example.com\nCc: {cc}\nSubject: x\n\nhi\n".encode()
    parsed = parse_message(raw)
    assert len(parsed.cc) == 1000
    assert parsed.cc[0].email == "u0@example.org"
    assert parsed.cc[-1].email == "u999@example.org"
    assert "cc: more than 1000 addresses; only the first 1000 kept" in parsed.defects


@pytest.mark.timeout(5)
def test_many_address_headers_and_duplicates() -> None:
    lines = b"".join(
        b"To: u%d@example.org, U%d@Example.org\n" % (i % 50, i % 50) for i in range(20_000)
    )
    parsed = parse_message(
        b"From: a@example.com\n" + lines + b"Subject: x\n\nhi\n", max_addresses=40
    )
    assert [a.email for a in parsed.to] == [f"u{i}@example.org" for i in range(40)]
    assert "to: more than 40 addresses; only the first 40 kept" in parsed.defects
