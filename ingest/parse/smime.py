"""S/MIME and PGP/MIME wrappers: which parts are signatures, and the content of opaque
S/MIME signed mail.

Signed mail is read through: the signed content is the mail, the signature part is
neither text nor an attachment. Signatures are not verified (nothing in a help desk
decides on them). An opaque-signed mail (`application/pkcs7-mime; smime-type=signed-data`,
usually `smime.p7m`) carries the signed MIME entity inside a CMS SignedData structure;
`signed_content` digs it out with a small BER reader, because `cryptography`'s pkcs7
module loads certificates and decrypts but does not return signed content. Encrypted
mail (S/MIME enveloped-data, PGP/MIME multipart/encrypted) cannot be read without the
recipient's key: the caller keeps it as an attachment and says so in the body.
"""

from __future__ import annotations

SIGNATURE_TYPES = frozenset(
    {
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-signature",
    }
)
PKCS7_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2
_ENVELOPED_DATA = bytes.fromhex("2a864886f70d010703")  # 1.2.840.113549.1.7.3
_AUTH_ENVELOPED = bytes.fromhex("2a864886f70d0109100117")  # 1.2.840.113549.1.9.16.1.23
_MAX_DEPTH = 40


class _BerError(ValueError):
    """The bytes are not the BER structure expected."""


def _header(data: bytes, pos: int) -> tuple[int, int, int | None]:
    """(tag byte, content start, content length or None for indefinite) at `pos`."""
    if pos + 2 > len(data):
        raise _BerError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise _BerError("high tag numbers are not used in CMS here")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        return tag, pos, first
    if first == 0x80:
        return tag, pos, None
    count = first & 0x7F
    if count > 4 or pos + count > len(data):
        raise _BerError("bad length")
    return tag, pos + count, int.from_bytes(data[pos : pos + count], "big")


def _element(data: bytes, pos: int, depth: int = 0) -> tuple[int, int, int, int]:
    """(tag, content start, content end, element end) of the element at `pos`."""
    if depth > _MAX_DEPTH:
        raise _BerError("nested too deeply")
    tag, start, length = _header(data, pos)
    if length is not None:
        end = start + length
        if end > len(data):
            raise _BerError("truncated")
        return tag, start, end, end
    if not tag & 0x20:
        raise _BerError("indefinite length on a primitive")
    cursor = start
    while not data.startswith(b"\x00\x00", cursor):
        cursor = _element(data, cursor, depth + 1)[3]
    return tag, start, cursor, cursor + 2


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(tag, content start, content end) of each element in data[start:end]."""
    out: list[tuple[int, int, int]] = []
    while start < end:
        tag, cstart, cend, start = _element(data, start)
        out.append((tag, cstart, cend))
    return out


def _octets(data: bytes, tag: int, start: int, end: int, depth: int = 0) -> bytes:
    """The value of an OCTET STRING, primitive (0x04) or constructed of chunks (0x24)."""
    if tag == 0x04:
        return data[start:end]
    if tag != 0x24 or depth > _MAX_DEPTH:
        raise _BerError("not an octet string")
    return b"".join(_octets(data, t, s, e, depth + 1) for t, s, e in _children(data, start, end))


def cms_kind(der: bytes) -> str:
    """What a pkcs7-mime body holds: "signed", "encrypted" or "unknown"."""
    try:
        _, start, end, _ = _element(der, 0)
        oid_tag, oid_start, oid_end = _children(der, start, end)[0]
    except (_BerError, IndexError):
        return "unknown"
    oid = der[oid_start:oid_end] if oid_tag == 0x06 else b""
    if oid == _SIGNED_DATA:
        return "signed"
    if oid in (_ENVELOPED_DATA, _AUTH_ENVELOPED):
        return "encrypted"
    return "unknown"


def signed_content(der: bytes) -> bytes | None:
    """The signed content of a CMS SignedData (the MIME entity of an opaque-signed mail),
    or None when `der` is not SignedData with embedded content."""
    try:
        _, start, end, _ = _element(der, 0)
        info = _children(der, start, end)
        if len(info) < 2 or info[0][0] != 0x06 or der[info[0][1] : info[0][2]] != _SIGNED_DATA:
            return None
        explicit = _children(der, info[1][1], info[1][2])  # [0] EXPLICIT SignedData
        signed = _children(der, explicit[0][1], explicit[0][2])
        encap = _children(der, signed[2][1], signed[2][2])  # version, digestAlgorithms, encap
        if len(encap) < 2 or encap[1][0] != 0xA0:
            return None  # detached: no content inside
        tag, cstart, cend = _children(der, encap[1][1], encap[1][2])[0]
        return _octets(der, tag, cstart, cend)
    except (_BerError, IndexError):
        return None
