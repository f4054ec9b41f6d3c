"""The languages the desk writes to customers in, and reading a language tag.

A ticket's language is one of `LANGUAGES` (or NULL for tickets older than languages: the
desk's default then). Templates exist in each; English is the base every other falls back to.
"""

from __future__ import annotations

import re

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "nl")
DEFAULT_LANGUAGE = "en"
_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9-]*)?\s*$")


def language_code(tag: str | None) -> str | None:
    """`de-CH`, `DE`, `fr_FR` -> `de`, `de`, `fr`; None for an empty tag or a language the
    desk does not write. Of a list (`de, en`), the first the desk writes wins."""
    for part in (tag or "").split(","):
        match = _TAG.match(part.split(";")[0])
        if match and match.group(1).lower() in LANGUAGES:
            return match.group(1).lower()
    return None
