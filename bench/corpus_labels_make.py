"""Propose labels for the corpus regression set (tests/fixtures/corpus_labels.json).

Usage: .venv/bin/python bench/corpus_labels_make.py [--corpus DIR] [--review FILE]

Picks the mails to label (every distinct mail of the small projects, the oddest sisimai
bounces), reads each one with two readers that are independent of postdesk (the stdlib
`email` package with `policy.default` and a careful charset fallback, and mail-parser) and
with postdesk's `ingest.parse.parse_message`, and writes a proposal per mail:
- all three agree and no reading looks damaged (`?` inside a word, U+FFFD, `=?`, mojibake
  such as `Ã` or `â€`): the stdlib reading is taken as the label;
- otherwise the entry is written with `"review": true` and the three readings go to the
  review file, so a person reads the raw mail and writes the true value with a `note`.
Entries that already carry a `note` (checked by hand) are never overwritten; paths under
`not_labelled` (a hand check could not settle what the sender meant) are skipped.
The corpus itself is never copied: only paths and the expected values are stored.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import email.utils
import hashlib
import html.parser
import json
import re
import sys
from collections.abc import Callable
from email.message import EmailMessage, Message
from pathlib import Path
from typing import ClassVar

import mailparser

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from tests.ingest.test_parse_corpus import EXPECTED_UNPARSEABLE, corpus_mails  # noqa: E402

from ingest.parse.message import UnparseableMessage, parse_message  # noqa: E402
from tests.ingest.parse.corpus_labels import (  # noqa: E402
    FIELDS,
    LABELS_PATH,
    fold,
    mismatched_fields,
    observed,
)
from tests.ingest.parse.corpus_labels import first_line as first_text_line  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
SISIMAI_QUOTA = 60
_WHATWG = {"gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932", "sjis": "cp932",
           "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "iso-8859-1": "cp1252",
           "us-ascii": "cp1252", "latin1": "cp1252", "big5": "big5hkscs", "utf8": "utf-8",
           "iso-8859-8-i": "iso-8859-8", "x-sjis": "cp932", "iso-2022-jp": "iso2022_jp_ext",
           "unicode-1-1-utf-7": "utf-7"}  # fmt: skip
_DAMAGE = re.compile(r"\ufffd|=\?|Ã|â€|[\ud800-\udfff]|\w\?\w|\?\?")
_MADE_UP_NAME = re.compile(r"(attachment|image)-\d+\.\w+|signature\.asc|smime\.p7s|<.*>")
_DEFAULT = email.parser.BytesParser(policy=email.policy.default)


def decode(data: bytes, charset: str | None) -> str:
    """Bytes to text the way a browser would: WHATWG aliases, UTF-8, then cp1252."""
    tried = [_WHATWG.get((charset or "").lower(), charset or ""), "utf-8", "cp1252"]
    for name in tried:
        if not name:
            continue
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


class _Text(html.parser.HTMLParser):
    """Visible text of an HTML body, block elements on their own lines."""

    _BLOCK: ClassVar[set[str]] = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        if tag in self._BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        if tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_text(markup: str) -> str:
    """Visible text of an HTML document."""
    reader = _Text()
    reader.feed(markup)
    reader.close()
    return "".join(reader.out).replace("\xa0", " ")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    text = decode(data, part.get_content_charset())
    return html_text(text) if part.get_content_type() == "text/html" else text


class Display:
    """What a mail client shows: body texts in order, attachment names (nameless: globs)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.attachments: list[str] = []
        self.attached: list[Message] = []

    def walk(self, part: Message, shown: bool = True) -> None:
        """Collect `part`; `shown` False for the alternatives not displayed (their inline
        images and files still count, their text does not)."""
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            self.attachments.append(_name(part) or "*.eml")
            inner = part.get_payload()
            if str(part.get("content-transfer-encoding", "")).lower().strip() in (
                "base64",
                "quoted-printable",
            ):  # not allowed, but Outlook sends it: the message is still encoded
                data = inner[0].get_payload(decode=False) if isinstance(inner, list) else inner
                carrier = Message()
                carrier["Content-Transfer-Encoding"] = str(part["content-transfer-encoding"])
                carrier.set_payload(str(data))
                decoded = carrier.get_payload(decode=True)
                inner = [_DEFAULT.parsebytes(decoded if isinstance(decoded, bytes) else b"")]
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                self.attached.append(inner[0])
            return
        if ctype.startswith("multipart/") and not part.is_multipart():
            if shown:
                self.texts.append(_part_text(part))  # no boundary: clients show the text
            return
        if part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            chosen = _best_alternative(children) if ctype == "multipart/alternative" else None
            if ctype == "multipart/signed" and children:
                children = children[:1]
            for child in children:
                self.walk(child, shown and (chosen is None or child is chosen))
            return
        name = _name(part)
        if ctype in ("application/pgp-signature", "application/pkcs7-signature"):
            return
        if (
            ctype in ("text/plain", "text/html")
            and not name
            and (part.get_content_disposition() != "attachment")
        ):
            if not shown:
                return
            text = _part_text(part)
            for match in re.finditer(r"^begin [0-7]{3,4} (\S[^\n]*)$", text, re.M):
                self.attachments.append(match.group(1).strip())
            text = re.sub(r"^begin [0-7]{3,4} .*?^end\s*$", "", text, flags=re.M | re.S)
            self.texts.append(text)
            return
        self.attachments.append(name or "*")

    def first_line(self) -> str:
        for text in self.texts:
            line = first_text_line(text)
            if line:
                return line
        for inner in self.attached:
            nested = Display()
            nested.walk(inner)
            line = nested.first_line()
            if line:
                return line
        return ""


def _best_alternative(children: list[Message]) -> Message:
    plain = [c for c in children if c.get_content_type() == "text/plain"]
    if plain and first_text_line(_part_text(plain[0])):
        return plain[0]
    return children[-1]


def _name(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        return ""
    return fold(str(name)) if name else ""


def _unescape(text: str, charset: str | None) -> str:
    """8-bit header bytes (held as surrogates by the stdlib) decoded like a body."""
    if not re.search(r"[\ud800-\udfff]", text):
        return text
    return decode(text.encode("utf-8", "surrogateescape"), charset)


def _body_charset(msg: Message) -> str | None:
    for part in msg.walk():
        charset = part.get_content_charset()
        if charset:
            return charset
    return None


def read_stdlib(raw: bytes) -> dict[str, object]:
    """The labelled fields as the stdlib reads them (`policy.default`)."""
    msg = _DEFAULT.parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    charset = _body_charset(msg)
    name = address = ""
    try:
        mailbox = msg["from"].addresses[0]
        name, address = str(mailbox.display_name), str(mailbox.addr_spec)
    except Exception:
        raw_from = msg.get("from")
        if raw_from is not None:
            name, address = email.utils.parseaddr(str(raw_from))
    try:
        subject = str(msg.get("subject") or "")
    except Exception:
        subject = "=?unreadable?="
    display = Display()
    display.walk(msg)
    return {
        "from_email": _unescape(address.lower(), charset),
        "from_name": _unescape(fold(name), charset),
        "subject": _unescape(fold(subject), charset),
        "first_line": display.first_line(),
        "attachments": [_unescape(n, charset) for n in display.attachments],
    }


def read_mailparser(raw: bytes) -> dict[str, object]:
    """The labelled fields as mail-parser reads them."""
    mail = mailparser.parse_from_bytes(raw)
    pairs = mail.from_ or [("", "")]
    text = "\n".join(mail.text_plain) or html_text("\n".join(mail.text_html))
    return {
        "from_email": str(pairs[0][1]).lower(),
        "from_name": fold(str(pairs[0][0])),
        "subject": fold(str(mail.subject or "")),
        "first_line": first_text_line(text),
        "attachments": [str(a.get("filename") or "*") for a in mail.attachments],
    }


def read_postdesk(raw: bytes) -> dict[str, object]:
    """The labelled fields as postdesk reads them today."""
    try:
        return observed(parse_message(raw))
    except UnparseableMessage:
        return observed(None)


def oddness(raw: bytes) -> int:
    """How many of the odd shapes the issue lists this mail shows (a rough count)."""
    head = raw.split(b"\n\n", 1)[0]
    low = raw.lower()
    checks = [
        any(b > 127 for b in head),
        b"=?" in head and b"utf-8" not in head.lower(),
        b"iso-2022-jp" in low or b"shift_jis" in low or b"gb2312" in low or b"koi8" in low,
        b"message/rfc822" in low,
        b"filename" in low,
        b"text/html" in low and b"text/plain" not in low,
        b"multipart/signed" in low or b"ms-tnef" in low or b"text/calendar" in low,
        b"fwd:" in head.lower() or b"fw:" in head.lower(),
    ]
    return sum(checks)


def select(corpus: Path) -> list[str]:
    """The mails to label: distinct small-project mails, the oddest sisimai bounces."""
    seen: set[str] = set()
    chosen: list[str] = []
    bounces: list[tuple[int, str]] = []
    for path in corpus_mails(corpus):
        rel = path.relative_to(corpus).as_posix()
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if rel in EXPECTED_UNPARSEABLE or digest in seen:
            continue
        seen.add(digest)
        if rel.startswith("sisimai-bounces/"):
            bounces.append((-oddness(raw), rel))
        else:
            chosen.append(rel)
    bounces.sort()
    chosen.extend(rel for _, rel in bounces[:SISIMAI_QUOTA])
    return sorted(chosen)


def _settle(readings: dict[str, dict[str, object]]) -> dict[str, object]:
    """The stdlib reading, where it is weaker than the two others in a known way.

    A comment-form name (`a@b (Jane Doe)`) is not a display name to the stdlib, and an
    address without `@` is not an address: when both others agree, theirs is taken.
    """
    base = dict(readings["stdlib"])
    other, ours = readings["mailparser"], readings["postdesk"]
    if not base["from_name"] and other["from_name"] and other["from_name"] == ours["from_name"]:
        base["from_name"] = ours["from_name"]
    if "@" not in str(base["from_email"]) and other["from_email"] == ours["from_email"]:
        base["from_email"] = ours["from_email"]
        base["from_name"] = ours["from_name"]
    return base


def _names_differ(base: dict[str, object], readings: dict[str, dict[str, object]]) -> set[str]:
    """{"attachments"} when the readers disagree on a real (named) attachment.

    Nameless parts (globs here, made-up names elsewhere), attached messages and signature
    parts are left out: the readers differ on those by design, and the rules in
    tests/ingest/corpus_labels.py say what a reader sees.
    """

    def named(reading: dict[str, object]) -> list[str]:
        names = [str(n) for n in reading["attachments"]]  # type: ignore[attr-defined]
        return sorted(n for n in names if "*" not in n and not _MADE_UP_NAME.fullmatch(n))

    want = named(base)
    return {"attachments"} if any(named(r) != want for r in readings.values()) else set()


def _no_surrogates(text: str) -> str:
    return re.sub(r"[\ud800-\udfff]", "\ufffd", text)


def _safely(reader: Callable[[bytes], dict[str, object]], raw: bytes) -> dict[str, object]:
    """A reader's fields; a reader that fails reads as empty with the failure as subject."""
    try:
        return reader(raw)
    except Exception as exc:  # a reference reader failing on odd mail is itself a finding
        return {"from_email": "", "from_name": "", "subject": f"=?failed: {exc!r}?=",
                "first_line": "", "attachments": []}  # fmt: skip


def damaged(reading: dict[str, object]) -> bool:
    """True when a reading shows signs of lost letters."""
    values = [str(reading[f]) for f in FIELDS[:-1]] + [str(n) for n in reading["attachments"]]  # type: ignore[attr-defined]
    return any(_DAMAGE.search(v) for v in values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--review", type=Path, default=Path("/tmp/corpus_labels_review.txt"))
    args = parser.parse_args()
    data = json.loads(LABELS_PATH.read_text()) if LABELS_PATH.exists() else {"entries": {}}
    entries: dict[str, dict[str, object]] = data["entries"]
    review: list[str] = []
    for rel in select(args.corpus):
        if "note" in entries.get(rel, {}) or rel in data.get("not_labelled", {}):
            continue
        raw = (args.corpus / rel).read_bytes()
        readings = {
            name: _safely(reader, raw)
            for name, reader in (
                ("stdlib", read_stdlib),
                ("mailparser", read_mailparser),
                ("postdesk", read_postdesk),
            )
        }
        base = _settle(readings)
        differ = sorted(
            {f for k, r in readings.items() if k != "stdlib" for f in mismatched_fields(base, r)}
            - {"attachments"}
            | _names_differ(base, readings)
            | {f"damaged:{k}" for k, r in readings.items() if damaged(r)}
        )
        entry: dict[str, object] = dict(base)
        if differ:
            entry["review"] = differ
            review.append(f"== {rel}  {differ}")
            review.extend(
                f"  {k:10} {json.dumps(r, ensure_ascii=False)}" for k, r in readings.items()
            )
        entries[rel] = entry
    data["entries"] = dict(sorted(entries.items()))
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    LABELS_PATH.write_text(_no_surrogates(text), encoding="utf-8")
    args.review.write_text(_no_surrogates("\n".join(review) + "\n"), encoding="utf-8")
    print(f"{len(entries)} entries, {sum('review' in e for e in entries.values())} to review")
    return 0


if __name__ == "__main__":
    sys.exit(main())
