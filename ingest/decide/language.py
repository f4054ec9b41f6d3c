"""The language a new ticket's mail to the customer is written in.

In order: the organisation's configured language, the mail's Content-Language header, the
language of the (redacted) text when a detector is confident about it, the desk's default.
Only languages the desk writes (`store.languages.LANGUAGES`) are ever chosen.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ingest.decide.context import Context
from store import directory
from store.languages import language_code

MIN_LETTERS = 40  # fewer letters than this (a "thanks!", a bare error code) are not judged
MIN_PROBABILITY = 0.9
MAX_CHARS = 2000  # the start of the text says enough; the rest only costs time
_MARKER = re.compile(r"\[[^\[\]\n]{1,60} removed\]")  # the redactor's markers are English
_URLISH = re.compile(r"\S*[/@\\]\S*|\S*\d\S*")  # addresses, paths, numbers: no language
_lock = threading.Lock()
_detect: Any = None


def _detector() -> Any:
    """langdetect's `detect_langs`, its profiles loaded once and its seed fixed, so that
    the same text always gets the same answer."""
    global _detect  # noqa: PLW0603 - loaded once per process, on first use
    with _lock:
        if _detect is None:
            from langdetect import DetectorFactory, detect_langs  # noqa: PLC0415 - slow import

            DetectorFactory.seed = 0
            _detect = detect_langs
    return _detect


def detect_language(text: str) -> str | None:
    """The language of `text` when it is long enough and the detector is sure (and the
    desk writes that language); None otherwise."""
    sample = _URLISH.sub(" ", _MARKER.sub(" ", text[:MAX_CHARS]))
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return None
    try:
        found = _detector()(sample)
    except Exception:  # langdetect raises its own error for text without features
        return None
    if not found or found[0].prob < MIN_PROBABILITY:
        return None
    return language_code(str(found[0].lang))


def choose_language(
    *,
    organisation_language: str | None,
    content_language: str | None,
    text: str,
    default: str,
) -> str:
    """The language of mail to a customer (see the module's description)."""
    return (
        language_code(organisation_language)
        or language_code(content_language)
        or detect_language(text)
        or default
    )


def language_of_mail(ctx: Context, organisation_id: int | None) -> str:
    """The language for mail answering the message `ctx` decides (its sender's organisation
    is `organisation_id`, if any)."""
    options = ctx.options
    organisation_language = None
    if organisation_id is not None and options.organisation_languages:
        name = directory.organisation_name(ctx.session, organisation_id)
        organisation_language = options.organisation_languages.get(name or "")
    return choose_language(
        organisation_language=organisation_language,
        content_language=ctx.parsed.content_language,
        text=f"{ctx.content.subject}\n{ctx.content.visible}",
        default=options.language,
    )
