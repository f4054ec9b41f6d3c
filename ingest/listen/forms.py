"""HTML form bodies (``multipart/form-data`` and ``application/x-www-form-urlencoded``) as
field name -> bytes, exactly as posted: the raw message a provider puts in a form field must
reach the spool byte for byte (no charset decoding, no line-ending changes).

Only what provider webhooks send is read: the first value of each field, the whole body
already in memory (the caller bounds its size). Files and fields are treated alike.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

__all__ = ["FormError", "parse_form"]

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_NAME = re.compile(rb"""[;\s]name=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))""", re.IGNORECASE)


class FormError(ValueError):
    """The body is not a form of the kind its Content-Type says."""


def parse_form(content_type: str, body: bytes) -> dict[str, bytes]:
    """The form's fields (first value of each name); FormError when it cannot be read."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _urlencoded(body)
    if kind == "multipart/form-data":
        match = _BOUNDARY.search(content_type)
        if match is None:
            raise FormError("multipart/form-data without a boundary")
        return _multipart(body, (match.group(1) or match.group(2)).encode("latin-1"))
    raise FormError(f"not a form: {kind or 'no content type'}")


def _urlencoded(body: bytes) -> dict[str, bytes]:
    fields: dict[str, bytes] = {}
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        key = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
        fields.setdefault(key, unquote_to_bytes(value.replace(b"+", b" ")))
    return fields


def _multipart(body: bytes, boundary: bytes) -> dict[str, bytes]:
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0:
        raise FormError("multipart body without its boundary")
    fields: dict[str, bytes] = {}
    position = start + len(delimiter)
    separator = b"\r\n" + delimiter
    while True:
        if body.startswith(b"--", position):
            return fields  # the closing delimiter
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise FormError("multipart body ends inside a part")
        headers_end = body.find(b"\r\n\r\n", line_end)
        if headers_end < 0:
            raise FormError("multipart part without a blank line after its headers")
        end = body.find(separator, headers_end + 4)
        if end < 0:
            raise FormError("multipart body without its closing boundary")
        name = _field_name(body[line_end + 2 : headers_end + 2])
        if name is not None:
            fields.setdefault(name, body[headers_end + 4 : end])
        position = end + len(separator)


def _field_name(headers: bytes) -> str | None:
    for line in headers.split(b"\r\n"):
        field, _, value = line.partition(b":")
        if field.strip().lower() == b"content-disposition":
            match = _NAME.search(b";" + value)
            if match is not None:
                raw = match.group(1) if match.group(1) is not None else match.group(2)
                return raw.replace(b'\\"', b'"').decode("utf-8", "replace")
    return None
