"""The language a mail's text is written in, when a detector is sure of it.

Run by the analysis (in the pre-stage's processes, outside any transaction) on the redacted
subject and visible text of a person's mail; `ingest.decide.language` chooses the language
of the mail answering it. Only languages the desk writes (`store.languages.LANGUAGES`) are
ever answered.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from store.languages import language_code

MIN_LETTERS = 40  # fewer letters than this (a "thanks!", a bare error code) are not judged
MIN_PROBABILITY = 0.9
MIN_LATIN = 0.8  # the languages the desk writes use Latin letters; other scripts are not judged
MAX_CHARS = 300  # the start of the text says enough; the detector costs time per character
TRIALS = 3  # the detector's random trials (its default 7 costs twice the time, same answers)
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
    detector = _factory.create()
    detector.n_trial = TRIALS
    return detector


def detect_language(text: str) -> str | None:
    """The language of `text` when it is long enough and the detector is sure (and the
    desk writes that language); None otherwise."""
    sample = _URLISH.sub(" ", _MARKER.sub(" ", text[:MAX_CHARS]))
    letters = [c for c in sample if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return None
    if sum(c <= "\u024f" for c in letters) < MIN_LATIN * len(letters):
        return None
    clear = _by_function_words(sample)
    if clear is not None:
        return clear
    detector = _detector()
    detector.append(sample)
    try:
        found = detector.get_probabilities()
    except Exception:  # langdetect raises its own error for text without features
        return None
    if not found or found[0].prob < MIN_PROBABILITY:
        return None
    return language_code(str(found[0].lang))


# Words that only one of these languages writes often: most mail names its language by them
# plainly, and is judged here in microseconds; the rest goes to the detector. The languages
# the desk does not write are listed too, so that their mail is never taken for a neighbour.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in {
        "en": "the and you is are this that have not please can thanks with for was would",
        "de": "der die das und ist nicht ich sie wir mit bitte danke ein eine auf für auch",
        "fr": "le les et est pas je vous nous avec pour une des merci bonjour sur ce dans",
        "es": "el los las y que por para con una gracias hola usted está pero como muy",
        "nl": "het een en niet ik wij met voor bedankt graag zijn ook maar jullie dat",
        "it": "il gli di che non per con una grazie buongiorno sono della questo anche",
        "pt": "o os não uma obrigado olá você está para com mas também isso",
        "sv": "och att är inte jag vi med för tack hej det som på",
        "pl": "i w nie jest się na że z do dzień dobry dziękuję proszę",
    }.items()
}
_WORD = re.compile(r"[^\W\d_]+")
_CLEAR_HITS = 4  # function words of the leading language, at least
_CLEAR_MARGIN = 3  # times those of the next


def _by_function_words(sample: str) -> str | None:
    """The desk's language the sample's function words name plainly, else None."""
    counts = dict.fromkeys(_FUNCTION_WORDS, 0)
    for word in _WORD.findall(sample.lower()):
        for language, words in _FUNCTION_WORDS.items():
            if word in words:
                counts[language] += 1
    ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
    (first, hits), (_, second) = ranked[0], ranked[1]
    if hits >= _CLEAR_HITS and hits >= _CLEAR_MARGIN * second:
        return language_code(first)
    return None
