"""The MIME tree of a parsed mail to readable text, sanitised HTML and attachments.

Rules (what a help desk agent wants to see):
- text/plain is preferred; in a multipart/alternative the plain branch gives the text and
  the HTML branch only the stored HTML. Without any plain part the HTML becomes text.
- Several body parts in a row (Apple Mail splits text around inline images) are joined.
- A part with a filename, a non-text type or `Content-Disposition: attachment` is an
  attachment; images with a Content-ID (and no attachment disposition) are inline.
- Delivery, feedback and read reports (message/delivery-status and friends) are text, as
  clients show them; one sent as an attachment is read after the mail's content.
  message/external-body (a pointer to content elsewhere) and a signature part outside
  its multipart/signed are no files (noted).
- An empty (whitespace-only) text/plain alternative does not hide the HTML beside it.
- An attached mail (message/rfc822) is ONE `.eml` attachment (`ingest.parse.attached`;
  redacted by `ingest.redact.attached` before it is stored): its own files and attached
  mails stay inside it. Its text goes into `text`: after a
  "---------- Forwarded message ----------" header block when the mail has text of its
  own before it, else as the mail's content (clients show it inline, without a banner).
- uuencoded files inside a text body (Lotus Notes) become attachments.
- Outlook's `winmail.dat` (TNEF) is unpacked into its files (`ingest.parse.tnef`); its
  body is used when the mail has no other.
- Signed mail (S/MIME, PGP/MIME, opaque S/MIME) is read through; signatures are dropped
  (`ingest.parse.smime`). Encrypted mail is kept as an attachment with a note as text.
- Calendar invites are `.ics` attachments (one copy when a client sends two).
- Every problem found (stdlib MIME defects, wrong charsets) becomes a short note.
"""

from __future__ import annotations

import binascii
import email.parser
import email.policy
import email.utils
import mimetypes
import re
from email.message import Message

from ingest.model import ParsedAttachment
from ingest.parse.attached import EML_TYPE, eml_name, mail_bytes
from ingest.parse.charsets import resolve_charset
from ingest.parse.decode import decode_bytes, decode_words, header_text, text_from_surrogates
from ingest.parse.html_bound import HtmlBody, read_html
from ingest.parse.smime import PKCS7_TYPES, SIGNATURE_TYPES, cms_kind, signed_content
from ingest.parse.tnef import is_tnef, unpack_tnef
from ingest.parse.uu import extract_uuencoded, unnamed

MAX_DEPTH = 25
_PARSER = email.parser.BytesParser(policy=email.policy.compat32)
_HEADERISH = re.compile(
    r"[\r\n]*(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)*"
    r"(?i:content-type|mime-version|content-transfer-encoding):"
)
_BOUNDARY_LINE = re.compile(
    rb"^--([^\s-][^\r\n]{0,68}?|-[^\r\n]{1,68}?)[ \t]*\r?\n(?=[A-Za-z-]+:)", re.M
)
_FORWARD_HEADERS = ("From", "Date", "Subject", "To", "Cc")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_NAME_FIELDS = ("content-disposition", "content-type")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]+")
_EXTENSIONS = {"text/plain": ".txt", "application/octet-stream": ".bin", "image/jpeg": ".jpg",
               "message/delivery-status": ".txt", "text/rfc822-headers": ".txt",
               "message/disposition-notification": ".txt", "text/calendar": ".ics",
               "application/ics": ".ics"}  # fmt: skip
_BLANK_BYTES = b"\xc2\xa0\xef\xbb\xbf"  # NBSP and BOM bytes as UTF-8 (and Latin-1 NBSP)
_CALENDAR_TYPES = ("text/calendar", "application/ics")
_REPORT_TYPES = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "message/feedback-report",
     "message/disposition-notification", "message/global-disposition-notification"}
)  # fmt: skip
_ENCRYPTED_NOTE = (
    "[This mail is encrypted ({kind}); it cannot be read without the recipient's key. "
    "The encrypted part is kept as the attachment {name}.]"
)


class BodyReader:
    """Walks one message tree; attachments and defect notes are shared with nested mails."""

    def __init__(
        self, attachments: list[ParsedAttachment], defects: list[str], hint: str | None = None
    ) -> None:
        self.attachments = attachments
        self.defects = defects
        self.hint = hint  # the charset 8-bit header bytes (file names) are read in, if not UTF-8
        self.texts: list[str] = []
        self._from_html: set[int] = set()  # indexes of texts converted from HTML
        self.htmls: list[str] = []
        self._spare_texts: list[str] = []  # TNEF bodies: used when the mail has no text
        self._spare_htmls: list[str] = []
        self._later_texts: list[str] = []  # reports sent as attachments: after the content

    def read(self, part: Message, depth: int = 0, main: bool = True) -> None:
        """Collect text, HTML and attachments of `part` and everything below it."""
        for defect in part.defects:
            name = _CAMEL.sub(" ", type(defect).__name__.removesuffix("Defect")).lower()
            self.defects.append(f"MIME: {name} ({part.get_content_type()})")
        if depth > MAX_DEPTH:
            self.defects.append("MIME: parts nested too deeply were skipped")
            return
        ctype = part.get_content_type()
        repaired = _split_headers_repaired(part)
        if repaired is not None:
            self.defects.append("MIME: blank line inside the header block repaired")
            self.read(repaired, depth + 1, main)
            return
        if ctype in ("message/rfc822", "message/global"):
            self._forwarded(part, depth, main)
            return
        try:
            payload = part.get_payload()
        except (UnicodeError, ValueError, TypeError):  # a charset label only a codec knows
            charset_label(part, self.defects)
            payload = part.get_payload()
        if ctype == "message/external-body":  # a pointer to content elsewhere, no content
            self.defects.append("MIME: message/external-body (content not in the mail) skipped")
            return
        if isinstance(payload, list):
            children = [child for child in payload if isinstance(child, Message)]
            if not ctype.startswith("multipart/"):  # message/delivery-status and friends
                self._report_or_attach(part, ctype, _flatten(children), main)
                return
            if ctype == "multipart/signed":
                children = [c for c in children if c.get_content_type() not in SIGNATURE_TYPES]
            elif ctype == "multipart/encrypted":
                self._encrypted(children, main)
                return
            chosen = _main_alternative(children) if ctype == "multipart/alternative" else None
            for child in children:
                self.read(child, depth + 1, main and (chosen is None or child is chosen))
            self._epilogue_parts(part, ctype, depth, main)
            return
        if ctype.startswith("multipart/"):
            self._broken_multipart(part, ctype, depth, main)
            return
        self._leaf(part, ctype, depth, main)

    def text(self) -> str:
        """The collected body text: segments joined, newlines normalised."""
        texts = [t.strip("\n") for t in self.texts]
        if self._spare_texts and not any(t.strip() for t in texts):
            texts = self._spare_texts
        if len(self._from_html) < len(texts):  # an HTML twin of a plain part adds nothing
            plain = " ".join(
                " ".join(t.split()) for i, t in enumerate(texts) if i not in self._from_html
            )
            texts = [
                t
                for i, t in enumerate(texts)
                if i not in self._from_html or " ".join(t.split()) not in plain
            ]
        texts += [t.strip("\n") for t in self._later_texts]
        return "\n\n".join(t for t in texts if t.strip())

    def html(self) -> str | None:
        """The collected HTML, sanitised, or None."""
        htmls = self.htmls or self._spare_htmls
        return "\n".join(htmls) if htmls else None

    def _leaf(self, part: Message, ctype: str, depth: int, main: bool) -> None:
        disposition = part.get_content_disposition()
        filename = _filename(part, self.defects, self.hint)
        if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
            text = self._decode(part, ctype)
            if ctype == "text/plain":
                if main:
                    self.texts.append(self._uudecode(text))
            elif text.strip():
                body = self._read_html(text, main)
                if body.html is not None:
                    self.htmls.append(body.html)
                if body.text is not None:
                    self._from_html.add(len(self.texts))
                    self.texts.append(body.text)
            return
        if ctype in SIGNATURE_TYPES:  # a signature whose multipart/signed was rewrapped
            self.defects.append(f"MIME: {ctype} outside multipart/signed dropped")
            return
        data = _payload(part)
        if ctype in _REPORT_TYPES:
            self._report_or_attach(part, ctype, data, main)
            return
        if ctype in PKCS7_TYPES or filename.lower().endswith(".p7m"):
            if self._pkcs7(part, data, filename or "smime.p7m", depth, main):
                return
        elif is_tnef(ctype, filename, data) and self._tnef(data, main):
            return
        self._attach(part, ctype, data, filename)

    def _decode(self, part: Message, ctype: str) -> str:
        text, note = decode_bytes(_payload(part), part.get_content_charset())
        if note:
            self.defects.append(f"{ctype} body: {note}")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text.startswith("\ufeff"):
            text = text[1:]
        return text

    def _report_or_attach(self, part: Message, ctype: str, data: bytes, main: bool) -> None:
        """A delivery or feedback report (bounces, spam reports, read receipts) is text to a
        reader, as mail clients show it; anything else with such a payload is a file."""
        if ctype not in _REPORT_TYPES:
            self._attach(part, ctype, data)
            return
        if main:
            text, note = decode_bytes(data, part.get_content_charset())
            if note:
                self.defects.append(f"{ctype}: {note}")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            # Sent as an attachment, it is read after the mail's content, not as its start.
            later = part.get_content_disposition() == "attachment"
            (self._later_texts if later else self.texts).append(text)

    def _attach(self, part: Message, ctype: str, data: bytes, filename: str = "") -> None:
        content_id = _content_id(part)
        disposition = part.get_content_disposition()
        inline = ctype.startswith("image/") and (
            disposition == "inline" or (disposition is None and content_id is not None)
        )
        if ctype in _CALENDAR_TYPES and any(a.payload == data for a in self.attachments):
            return  # Gmail sends an invite twice: as an alternative and as invite.ics
        if not filename:
            stem = "image" if ctype.startswith("image/") else "attachment"
            extension = _EXTENSIONS.get(ctype) or mimetypes.guess_extension(ctype) or ".bin"
            filename = f"{stem}-{len(self.attachments) + 1}{extension}"
            taken = {a.filename for a in self.attachments}
            if ctype in _CALENDAR_TYPES and "invite.ics" not in taken:
                filename = "invite.ics"
        charset = _declared_charset(part)
        self.attachments.append(
            ParsedAttachment(filename, ctype, data, inline, content_id, charset)
        )

    def _forwarded(self, part: Message, depth: int, main: bool) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if not isinstance(inner, Message) or encoding in ("base64", "quoted-printable"):
            # An encoded message/rfc822 is not allowed, but Outlook sends it: the stdlib
            # then holds the still encoded text as a header-less message.
            body = inner.get_payload() if isinstance(inner, Message) else payload
            carrier = Message()
            carrier["Content-Transfer-Encoding"] = encoding or "7bit"
            carrier.set_payload(body if isinstance(body, str) else "")
            inner = _PARSER.parsebytes(_payload(carrier))
            self.defects.append(f"MIME: message/rfc822 with transfer encoding {encoding!r}")
        name = eml_name(inner, _filename(part, self.defects))
        self.attachments.append(ParsedAttachment(name, EML_TYPE, mail_bytes(inner)))
        if not main:
            return
        # Its own files (and attached mails) stay inside the .eml; only its text is read.
        nested = BodyReader([], self.defects, self.hint)
        nested.read(inner, depth + 1)
        if not any(t.strip() for t in self.texts):
            # Nothing of the mail's own before it: clients show the attached mail as the
            # mail's content, so no banner either.
            self.texts.append(nested.text())
            return
        lines = ["---------- Forwarded message ----------"]
        for name in _FORWARD_HEADERS:
            raw = next((v for k, v in inner.raw_items() if k.lower() == name.lower()), None)
            if raw is not None:
                lines.append(f"{name}: {header_text(raw, self.hint)[0]}")
        self.texts.append("\n".join(lines) + "\n\n" + nested.text())

    def _pkcs7(self, part: Message, data: bytes, name: str, depth: int, main: bool) -> bool:
        """Read an opaque-signed S/MIME mail through; note an encrypted one. False: neither."""
        kind = cms_kind(data)
        if kind == "signed":
            content = signed_content(data)
            if content is not None:
                self.read(_PARSER.parsebytes(content), depth + 1, main)
                return True
            self.defects.append("S/MIME: signed-data without readable content")
        elif kind == "encrypted":
            self._attach(part, part.get_content_type(), data, name)
            if main:
                self.texts.append(_ENCRYPTED_NOTE.format(kind="S/MIME", name=name))
            return True
        return False

    def _encrypted(self, children: list[Message], main: bool) -> None:
        """PGP/MIME: the version part is dropped, the encrypted data kept with a note."""
        for child in children:
            ctype = child.get_content_type()
            if ctype != "application/pgp-encrypted":
                name = _filename(child, self.defects) or "encrypted.asc"
                self._attach(child, ctype, _payload(child), name)
                if main:
                    self.texts.append(_ENCRYPTED_NOTE.format(kind="PGP/MIME", name=name))

    def _tnef(self, data: bytes, main: bool) -> bool:
        """Unpack a winmail.dat into its files; False (keep it as is) when unreadable."""
        content = unpack_tnef(data)
        if content is None:
            self.defects.append("TNEF: winmail.dat could not be read; kept as it is")
            return False
        for item in content.files:
            name = _safe_name(item.filename) or "winmail.bin"
            self.attachments.append(
                ParsedAttachment(name, _guess_type(name), item.payload, False, None)
            )
        if main and content.text.strip():
            self._spare_texts.append(content.text.replace("\r\n", "\n"))
        if content.html.strip():
            body = self._read_html(content.html, main and not content.text.strip())
            if body.html is not None:
                self._spare_htmls.append(body.html)
            if body.text is not None:
                self._spare_texts.append(body.text)
        return True

    def _read_html(self, html: str, with_text: bool) -> HtmlBody:
        body = read_html(html, with_text)
        if body.note:
            self.defects.append(body.note)
        return body

    def _broken_multipart(self, part: Message, ctype: str, depth: int, main: bool) -> None:
        """A multipart whose boundary was not found: re-split it on the unfolded declared
        boundary or on the first boundary-like line; else its body is plain text."""
        data = _payload(part)
        declared = part.get_param("boundary")
        candidates = [" ".join(declared.split())] if isinstance(declared, str) else []
        found = _BOUNDARY_LINE.search(data)
        if found:
            candidates.append(found.group(1).decode("ascii", "replace"))
        for boundary in candidates:
            if boundary and f"--{boundary}".encode("ascii", "replace") in data:
                head = f'Content-Type: {ctype}; boundary="{boundary}"\n\n'.encode(
                    "ascii", "replace"
                )
                repaired = _PARSER.parsebytes(head + data)
                if isinstance(repaired.get_payload(), list):
                    self.defects.append(f"MIME: broken boundary repaired ({ctype})")
                    self.read(repaired, depth + 1, main)
                    return
        text = self._decode(part, "text/plain")
        if main and text.strip():
            self.defects.append(f"MIME: {ctype} without parts read as text")
            self.texts.append(text)

    def _epilogue_parts(self, part: Message, ctype: str, depth: int, main: bool) -> None:
        """Parts after the closing boundary (an inner multipart reused the outer boundary and
        closed it early): mail clients still show them, so read them too."""
        epilogue = part.epilogue
        if not epilogue or "--" not in epilogue:
            return
        boundary = part.get_boundary()
        if not boundary or f"--{boundary}" not in epilogue:
            return
        head = f'Content-Type: {ctype}; boundary="{boundary}"\n\n'
        data = (head + epilogue).encode("utf-8", "surrogateescape")
        self.defects.append("MIME: parts after the closing boundary recovered")
        recovered = _PARSER.parsebytes(data)
        if isinstance(recovered.get_payload(), list):
            self.read(recovered, depth + 1, main)

    def _uudecode(self, text: str) -> str:
        text, files = extract_uuencoded(text)
        for raw_name, data in files:
            name = _safe_name(raw_name) or unnamed(data)
            self.attachments.append(ParsedAttachment(name, _guess_type(name), data, False, None))
        return text


def charset_label(part: Message, defects: list[str]) -> str | None:
    """`part`'s charset label. One the stdlib's `get_payload()` raises on for 8-bit text
    (`idna`, `punycode`, a NUL byte, an RFC 2231 `charset*=` form) is replaced in the tree
    by `unknown-8bit` (text is then decoded by guessing) and noted."""
    label = part.get_param("charset")
    if isinstance(label, tuple):  # RFC 2231: get_payload() would pass the tuple to decode()
        try:
            label = email.utils.collapse_rfc2231_value(label)
        except (UnicodeError, ValueError, LookupError, TypeError):
            label = str(label[-1])
        part.set_param("charset", label if _stdlib_can_decode(label) else "unknown-8bit")
    if not isinstance(label, str) or not label:
        return None
    if resolve_charset(label) is None and not _stdlib_can_decode(label):
        defects.append(f"MIME: unusable charset {label[:40]!r} read as unknown")
        part.set_param("charset", "unknown-8bit")
        return None
    return label


def _stdlib_can_decode(label: str) -> bool:
    try:
        b"\xff".decode(label, "replace")
    except LookupError:
        return True  # the stdlib catches LookupError itself
    except (UnicodeError, ValueError, TypeError):
        return False
    return True


def _split_headers_repaired(part: Message) -> Message | None:
    """Outlook sometimes writes an empty line inside a forwarded mail's header block, so the
    MIME headers land in the body. Re-join them when the body starts with such headers."""
    if "Content-Type" in part or not part.keys():
        return None
    body = part.get_payload()
    if not isinstance(body, str) or not _HEADERISH.match(body):
        return None
    head = "".join(f"{name}: {value}\n" for name, value in part.raw_items())
    return _PARSER.parsebytes((head + body.lstrip("\r\n")).encode("utf-8", "surrogateescape"))


def _main_alternative(children: list[Message]) -> Message | None:
    """The branch of a multipart/alternative that gives the text: plain if any, else the last."""
    candidates = [c for c in children if c.get_content_disposition() != "attachment"]
    for child in candidates:
        if any(_is_plain_body(p) for p in child.walk()):
            return child
    return candidates[-1] if candidates else None


def _is_plain_body(part: Message) -> bool:
    """A text/plain body part with more than white space in it."""
    if part.get_content_type() != "text/plain" or part.get_filename():
        return False
    raw = part.get_payload()
    if isinstance(raw, str) and len(raw) > 4096:
        return True  # too long to be only white space once decoded: skip the decode
    return bool(_payload(part).translate(None, _BLANK_BYTES).strip())


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, binascii.Error):  # pragma: no cover - stdlib quirk
        data = None
    return data if isinstance(data, bytes) else b""


def _flatten(children: list[Message]) -> bytes:
    out = []
    for child in children:
        try:
            out.append(child.as_bytes())
        except (ValueError, TypeError, LookupError, UnicodeError):
            out.append(str(child.get_payload()).encode("utf-8", "replace"))
    return b"\n".join(out)


def _content_id(part: Message) -> str | None:
    raw = part.get("Content-ID")
    if raw is None:
        return None
    value = text_from_surrogates(str(raw))[0].strip().strip("<>").strip()
    return value or None


def _filename(part: Message, defects: list[str], hint: str | None = None) -> str:
    """The attachment's file name, decoded (RFC 2231, RFC 2047, raw 8-bit) and made safe."""
    fields = [(k, v) for k, v in part.raw_items() if k.lower() in _NAME_FIELDS]
    odd = any("*" in value or not value.isascii() for _, value in fields)
    eight_bit = _eight_bit_params(fields, hint) if odd else None
    source = eight_bit or part
    try:
        raw = (_rfc2231_name(source) if odd else None) or source.get_filename()
    except (ValueError, LookupError, UnicodeError, TypeError):  # pragma: no cover
        raw = None
    if not raw:
        return ""
    text, note = text_from_surrogates(str(raw), hint)
    if eight_bit is not None:
        note = "raw 8-bit bytes in a header"
    if note:
        defects.append(f"attachment name: {note}")
    text, notes = decode_words(text)
    defects.extend(f"attachment name: {n}" for n in notes)
    return _safe_name(text)


def _rfc2231_name(part: Message) -> str | None:
    """An RFC 2231 file name (`filename*=iso-2022-jp''...`) decoded with our charset table
    (the stdlib would use Python's narrower codec and replace what it cannot read)."""
    value = part.get_param("filename", None, "content-disposition")
    if value is None:
        value = part.get_param("name", None, "content-type")
    if not isinstance(value, tuple):
        return None
    charset, _, encoded = value
    try:
        data = encoded.encode("raw-unicode-escape")
    except UnicodeError:  # pragma: no cover - unquote gave latin-1 text
        return None
    return decode_bytes(data, charset or "us-ascii")[0]


def _eight_bit_params(fields: list[tuple[str, str]], hint: str | None) -> Message | None:
    """A stand-in holding a part's Content-Disposition and Content-Type with raw 8-bit bytes
    decoded (the stdlib would read them as U+FFFD), or None when they are plain ASCII."""
    if all(value.isascii() for _, value in fields):
        return None
    probe = Message()
    for name, value in fields:
        probe[name] = text_from_surrogates(value, hint)[0]
    return probe


def _safe_name(name: str) -> str:
    name = _UNSAFE_NAME.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "" if name in ("", ".", "..") else name[:255]


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _declared_charset(part: Message) -> str | None:
    """The charset parameter of a text attachment, or None (never an exception)."""
    try:
        charset = part.get_param("charset")
    except (ValueError, TypeError, LookupError, UnicodeError):
        return None
    return charset[:60] if isinstance(charset, str) and charset.strip() else None
