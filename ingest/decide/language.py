"""The language a new ticket's mail to the customer is written in.

In order: the organisation's configured language, the mail's Content-Language header, the
language of the (redacted) text when a detector is confident about it, the desk's default.
Only languages the desk writes (`store.languages.LANGUAGES`) are ever chosen.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from ingest.decide.context import Context
from store import directory
from store.languages import language_code

MIN_LETTERS = 40  # fewer letters than this (a "thanks!", a bare error code) are not judged
MIN_PROBABILITY = 0.9
MIN_LATIN = 0.8  # the languages the desk writes use Latin letters; other scripts are not judged
MAX_CHARS = 600  # the start of the text says enough; the detector costs time per character
# The detector's profiles: the Latin-script languages it knows, so that a text in a language
# the desk does not write (Italian, Portuguese, Polish) is recognised as that, not taken for
# a neighbour the desk writes. Loading only these makes a detection about twice as fast.
PROFILES = (
    "af ca cs cy da de en es et fi fr hr hu id it lt lv nl no pl pt ro sk sl so sq sv sw tl tr vi"
)
_MARKER = re.compile(r"\[[^\[\]\n]{1,60} removed\]")  # the redactor's markers are English
_URLISH = re.compile(r"\S*[/@\\]\S*|\S*\d\S*")  # addresses, paths, numbers: no language
_lock = threading.Lock()
_factory: Any = None


def _detector() -> Any:
    """A langdetect detector from a factory of its own (profiles loaded once, seed fixed so
    that the same text always gets the same answer)."""
    global _factory  # noqa: PLW0603 - loaded once per process, on first use
    with _lock:
        if _factory is None:
            from langdetect.detector_factory import (  # noqa: PLC0415 - slow import
                PROFILES_DIRECTORY,
                DetectorFactory,
            )

            factory = DetectorFactory()
            factory.seed = 0
            folder = Path(PROFILES_DIRECTORY)
            factory.load_json_profile(
                [(folder / code).read_text(encoding="utf-8") for code in PROFILES.split()]
            )
            _factory = factory
    return _factory.create()


def detect_language(text: str) -> str | None:
    """The language of `text` when it is long enough and the detector is sure (and the
    desk writes that language); None otherwise."""
    sample = _URLISH.sub(" ", _MARKER.sub(" ", text[:MAX_CHARS]))
    letters = [c for c in sample if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return None
    if sum(c <= "\u024f" for c in letters) < MIN_LATIN * len(letters):
        return None
    detector = _detector()
    detector.append(sample)
    try:
        found = detector.get_probabilities()
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
    # automated mail (alerts) is never answered: not worth the detector's time
    text = "" if ctx.automated else f"{ctx.content.subject}\n{ctx.content.visible}"
    return choose_language(
        organisation_language=organisation_language,
        content_language=ctx.parsed.content_language,
        text=text,
        default=options.language,
    )
