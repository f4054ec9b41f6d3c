"""Form bodies as providers post them, read byte for byte; basic auth in constant time."""

from __future__ import annotations

import base64

import pytest

from ingest.listen.basic_auth import basic_auth_matches
from ingest.listen.forms import FormError, parse_form

MIME = b"From: a@b.example\r\nSubject: x\r\n\r\n\xe4 8-bit body\r\n--not-the-boundary\r\n"


def _multipart(boundary: str, parts: list[tuple[str, bytes]]) -> bytes:
    body = b""
    for header, value in parts:
        body += f"--{boundary}\r\n{header}\r\n\r\n".encode() + value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def test_multipart_fields_keep_their_bytes() -> None:
    body = _multipart(
        "xYz",
        [
            ('Content-Disposition: form-data; name="token"', b"abc"),
            (
                'Content-Disposition: form-data; name="body-mime"; filename="m.eml"\r\n'
                "Content-Type: message/rfc822",
                MIME,
            ),
            ('Content-Disposition: form-data; name="token"', b"second value ignored"),
            ("Content-Disposition: form-data; name=plain", b""),
        ],
    )
    fields = parse_form('multipart/form-data; boundary="xYz"', body)
    assert fields == {"token": b"abc", "body-mime": MIME, "plain": b""}


def test_urlencoded_fields_are_unquoted_to_bytes() -> None:
    fields = parse_form(
        "application/x-www-form-urlencoded; charset=utf-8",
        b"timestamp=17&body-mime=Subject%3A+x%0D%0A%0D%0A%E4&empty=&flag",
    )
    assert fields == {
        "timestamp": b"17",
        "body-mime": b"Subject: x\r\n\r\n\xe4",
        "empty": b"",
        "flag": b"",
    }


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=x", b"no delimiter at all"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"'),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nv',
        ),
    ],
)
def test_broken_forms_are_refused(content_type: str, body: bytes) -> None:
    with pytest.raises(FormError):
        parse_form(content_type, body)


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_auth() -> None:
    assert basic_auth_matches(_basic("user:pa:ss"), "user", "pa:ss")
    assert basic_auth_matches("basic " + _basic("user:pw")[6:], "user", "pw")
    for header in (
        None,
        "",
        _basic("user:wrong"),
        _basic("other:pw"),
        _basic("userpw"),
        "Bearer abc",
        "Basic !!!",
    ):
        assert not basic_auth_matches(header, "user", "pw"), header
    assert not basic_auth_matches(_basic(":"), "", "")  # empty credentials never match
