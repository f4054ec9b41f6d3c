"""Line rules for reply stripping: what a quote header, a quoted line and a signature look like.

Every rule looks at one line, or at a window of at most a few lines, and every pattern is
anchored or length-capped, so the whole body is classified in linear time even for
pathological input (no pattern can backtrack over more than `_MAX_HEADER_CHARS`).

Covered clients and languages:
- `>` quoting (any depth, with or without a space);
- attribution lines ("On <date>, <name> wrote:", "Am ... schrieb ...:", "Le ... a écrit :",
  "El ... escribió:", "Il ... ha scritto:", "Op ... schreef ...:", Polish, Nordic, Slavic,
  Hungarian, Portuguese, Chinese, Japanese, Korean; Gmail's "<date> <name> <addr>:" form),
  also spread over up to four lines;
- Outlook/Exchange header blocks ("From:/Sent:/To:/Subject:" and their translations,
  "*From:*" bold in text parts), with the separator line above them;
- "-----Original Message-----" and forward separators in several languages;
- signatures: "-- " (and "--"), underscore footers, a short "-Name" sign-off, and mobile
  lines such as "Sent from my iPhone" or "Von meinem iPhone gesendet".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_MAX_HEADER_CHARS = 400
_MAX_HEADER_LINES = 4
_VERB_TAIL_CHARS = 200
_HEADER_BLOCK_WINDOW = 8
_INVISIBLE = " \t\u00a0\u200b\u200e\u200f\ufeff"

_QUOTED = re.compile(r"[ \t]*>")

_VERBS = (
    r"wrote|writes|said|schrieb|a\s+écrit|a\s+wrote|escribió|escreveu|ha\s+escrit"
    r"|ha\s+scritto|schreef|heeft\s+.{0,80}geschreven|napisał\(a\)|napisała|napisał|pisze"
    r"|skrev|skriver|kirjoitti|írta|napsal\(a\)|napsal|написал\(а\)|написала|написал"
    r"|написав|написала|yazdı|写道|寫道|작성|のメッセージ|書きました"
)
_VERB_END = re.compile(rf"(?:{_VERBS})(?:\s[^\n]{{0,120}})?\s*[:：]$", re.IGNORECASE)
_ADDRESS_END = re.compile(r"<\s*[^<>\s@]{1,64}@[^<>\s]{1,255}\s*>\s*[:：]$")
_STARTER = re.compile(r"(?:On|Am|Le|El|Il|Op|Em|Den|Dne|Dnia|W\s+dniu|Том|В|У|在)\s", re.IGNORECASE)
_HAS_DIGIT_OR_AT = re.compile(r"[0-9@]")

_SEPARATOR = re.compile(
    r"-{2,}\s*(?:original\s+message|forwarded\s+message|ursprüngliche\s+nachricht"
    r"|weitergeleitete\s+nachricht|message\s+d'origine|message\s+original|message\s+transféré"
    r"|mensaje\s+original|mensaje\s+reenviado|oorspronkelijk\s+bericht|doorgestuurd\s+bericht"
    r"|messaggio\s+originale|messaggio\s+inoltrato|mensagem\s+original|wiadomość\s+oryginalna"
    r"|opprinnelig\s+melding|ursprungligt\s+meddelande|oprindelig\s+meddelelse"
    r"|alkuperäinen\s+viesti|původní\s+zpráva|eredeti\s+üzenet|исходное\s+сообщение"
    r"|пересылаемое\s+сообщение)\s*-{2,}$"
    r"|(?:begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht"
    r"|début\s+du\s+message\s+réexpédié|inicio\s+del\s+mensaje\s+reenviado)\s*:$",
    re.IGNORECASE,
)

_FROM_LABELS = (
    r"From|Von|De|Van|Da|Od|Fra|Från|Frá|Lähettäjä|Feladó|От|Від|Kimden|Remetente"
    r"|Odesílatel|Afzender|Absender|发件人|寄件人|寄件者|差出人|보낸\s?사람"
)
_OTHER_LABELS = (
    r"Sent|Date|To|Cc|Bcc|Subject|Reply-To|Gesendet|Datum|An|Kopie|Betreff|Envoyé(?:\s+le)?"
    r"|À|A|Objet|Copie\s+à|Cc\s+:|Enviado(?:\s+el)?|Fecha|Para|Asunto|Verzonden|Aan|Onderwerp"
    r"|Inviato|Data|Oggetto|Wysłano|Wysłane|Do|Temat|DW|Skickat|Till|Ämne|Sendt|Til|Emne"
    r"|Dato|Lähetetty|Vastaanottaja|Aihe|Elküldve|Címzett|Tárgy|Отправлено|Дата|Кому|Тема"
    r"|Надіслано|Tarih|Kime|Konu|Enviada\s+em|Assunto|Odesláno|Komu|Předmět|Message\s+du"
    r"|发送时间|日期|收件人|抄送|主题|時間|收件者|主旨|送信日時|宛先|件名|보낸\s?날짜|받는\s?사람|제목"
)
_FROM_LINE = re.compile(rf"\*{{0,2}}(?:{_FROM_LABELS})\s?\*{{0,2}}\s?[:：]", re.IGNORECASE)
_OTHER_LINE = re.compile(
    rf"\*{{0,2}}(?:{_OTHER_LABELS}|{_FROM_LABELS})\s?\*{{0,2}}\s?[:：]", re.IGNORECASE
)
_RULE_LINE = re.compile(r"[-_=*~ ]{5,}$|-{3,}\s*[\w' ]{3,40}\s*-{3,}$")

_FORWARD_SUBJECT = re.compile(
    r"[ \t]*(?:fwd?|fw|wg|tr|rv|enc|vl|doorst|pd)[ \t]*[:：]", re.IGNORECASE
)

_DASH_DASH = re.compile(r"--\s*$")
_UNDERSCORES = re.compile(r"_{2,}\s*$")
_SIGN_OFF = re.compile(r"(?:-|--\s)\w[\w.' ]{0,28}$")
_MOBILE = re.compile(
    r"(?:Sent\s+from\s+(?:my\s+)?|Sent\s+(?:with|via)\s+|Get\s+Outlook\s+for\s+|Von\s+meinem\s+"
    r"|Gesendet\s+(?:von|mit)\s+|Envoyé\s+(?:de|depuis)\s+(?:mon\s+)?|Enviado\s+desde\s+(?:mi\s+)?"
    r"|Verzonden\s+(?:vanaf|met)\s+(?:mijn\s+)?|Verstuurd\s+vanaf\s+(?:mijn\s+)?|Inviato\s+da\s+"
    r"|Wysłane\s+z\s+|Skickat\s+från\s+(?:min\s+)?|Sendt\s+fra\s+(?:min\s+)?|Lähetetty\s+)"
    r"[^.,;:!?\n]{1,60}(?:\([^()\n]{0,80}\))?\.?$",
    re.IGNORECASE,
)
_MAX_MOBILE_WORDS = 9
_MAX_SIGN_OFF_TAIL = 4


def bare(line: str) -> str:
    """The line without surrounding blanks and invisible characters."""
    return line.strip(_INVISIBLE)


def is_blank(line: str) -> bool:
    """True for an empty or whitespace-only line."""
    return not bare(line)


def is_quoted(line: str) -> bool:
    """True for a `>`-quoted line."""
    return _QUOTED.match(line) is not None


def _is_attribution(text: str) -> bool:
    text = text.lstrip("-—*> ").rstrip()
    if len(text) > _MAX_HEADER_CHARS or not text.endswith((":", "：")):
        return False
    if _VERB_END.search(text[-_VERB_TAIL_CHARS:]):
        return _STARTER.match(text) is not None or _HAS_DIGIT_OR_AT.search(text) is not None
    if _ADDRESS_END.search(text[-_VERB_TAIL_CHARS:]):
        return re.search(r"\d", text) is not None
    return False


def _may_start_attribution(line: str) -> bool:
    text = bare(line).lstrip("-—*> ")
    return bool(text) and (
        _STARTER.match(text) is not None or _HAS_DIGIT_OR_AT.search(text) is not None
    )


def _strong_start(line: str) -> bool:
    text = bare(line).lstrip("-—*> ")
    return _STARTER.match(text) is not None or text[:1].isdigit()


def attribution_length(lines: Sequence[str], start: int, depth: int = 0) -> int:
    """How many lines (1-4) an attribution starting at `start` spans; 0 when there is none."""
    if start >= len(lines) or len(lines[start]) > _MAX_HEADER_CHARS:
        return 0
    if not _may_start_attribution(lines[start]):
        return 0
    text = ""
    for offset in range(_MAX_HEADER_LINES):
        index = start + offset
        if index >= len(lines) or is_blank(lines[index]):
            return 0
        part = bare(lines[index])
        text = f"{text} {part}" if text else part
        if len(text) > _MAX_HEADER_CHARS:
            return 0
        if _is_attribution(text):
            later = offset and depth < 2 and not _strong_start(lines[start])
            if later and attribution_length(lines, start + 1, depth + 1):
                return 0  # the header starts on a later line; this one is prose
            return offset + 1
    return 0


def next_nonblank(lines: Sequence[str], start: int, limit: int) -> int:
    """Index of the first non-blank line at or after `start` (below `limit`), else `limit`."""
    index = start
    while index < limit and is_blank(lines[index]):
        index += 1
    return index


def _header_block_start(lines: Sequence[str], index: int) -> int | None:
    """Start of an Outlook-style header block whose From line is `index`, else None."""
    if is_quoted(lines[index]) or _FROM_LINE.match(bare(lines[index])) is None:
        return None
    seen = 0
    end = min(len(lines), index + _HEADER_BLOCK_WINDOW)
    for probe in range(index + 1, end):
        if is_blank(lines[probe]):
            continue
        if _OTHER_LINE.match(bare(lines[probe])) is None:
            break
        seen += 1
    if not seen:
        return None
    start = index
    for probe in range(index - 1, max(-1, index - _HEADER_BLOCK_WINDOW), -1):
        text = bare(lines[probe])
        if text and _OTHER_LINE.match(text) is None and _RULE_LINE.match(text) is None:
            break
        start = probe
    return next_nonblank(lines, start, index)


def from_line_value(text: str) -> str | None:
    """What follows the label of a header block's From line ("From: Ann <a@b>" -> "Ann <a@b>"),
    or None when `text` is not a From line."""
    match = _FROM_LINE.match(text)
    return text[match.end() :].strip() if match else None


def is_mobile_signature(line: str) -> bool:
    """True for a one-line mobile signature such as "Sent from my iPhone"."""
    text = bare(line)
    return len(text.split()) <= _MAX_MOBILE_WORDS and _MOBILE.match(text) is not None


def is_forward_subject(subject: str) -> bool:
    """True when the subject starts like a forward (Fwd:, FW:, WG:, TR:, RV:, Doorst:, ...)."""
    return _FORWARD_SUBJECT.match(subject) is not None


def history_start(lines: Sequence[str]) -> int:
    """First line of an unquoted reply history (Outlook block, separator, bare attribution).

    Returns `len(lines)` when the body has none. `>`-quoted lines are skipped: they are
    handled as quote blocks, which may be followed by more of the person's own text.
    """
    total = len(lines)
    for index in range(total):
        line = lines[index]
        if is_blank(line) or is_quoted(line):
            continue
        text = bare(line)
        if _SEPARATOR.match(text):
            return index
        block = _header_block_start(lines, index)
        if block is not None:
            return block
        span = attribution_length(lines, index)
        if span:
            after = next_nonblank(lines, index + span, total)
            if after >= total or not is_quoted(lines[after]):
                return index
        if is_mobile_signature(line):
            after = next_nonblank(lines, index + 1, total)
            if after < total and not is_quoted(lines[after]):
                return after
    return total


def signature_start(lines: Sequence[str]) -> int | None:
    """Index of the line where a signature starts in a run of the person's own lines."""
    count = len(lines)
    last = count - 1
    while last >= 0 and is_blank(lines[last]):
        last -= 1
    for index in range(count):
        line = lines[index].rstrip()
        if _DASH_DASH.fullmatch(line) or _UNDERSCORES.fullmatch(line):
            return index
        after_blank = index == 0 or is_blank(lines[index - 1])
        if after_blank and _SIGN_OFF.fullmatch(line) and _is_short_tail(lines, index):
            return index
    if last >= 0 and is_mobile_signature(lines[last]):
        return last
    return None


def _is_short_tail(lines: Sequence[str], index: int) -> bool:
    """A "-Name" sign-off is followed by a few lines at most, none of them a list item."""
    seen = 0
    for probe in range(index + 1, len(lines)):
        line = lines[probe]
        if is_blank(line):
            continue
        seen += 1
        if seen > _MAX_SIGN_OFF_TAIL or line.lstrip().startswith(("-", "*", "•")):
            return False
    return True


def is_wrapped_quote(lines: Sequence[str], index: int, limit: int) -> int:
    """Lines from `index` that are a long quoted line's wrapped tail (0 if not such a tail).

    Clients that re-wrap quoted text leave the tail of a long `> ` line without the `>`;
    such a tail directly follows the long line and is directly followed by another `>` line.
    """
    if index == 0 or not is_quoted(lines[index - 1]) or len(lines[index - 1].rstrip()) < 60:
        return 0
    for probe in range(index, min(limit, index + 3)):
        if is_blank(lines[probe]):
            return 0
        if is_quoted(lines[probe]):
            return probe - index
    return 0
