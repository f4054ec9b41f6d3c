"""The language a new ticket's mail to the customer is written in.

In order: the organisation's configured language, the mail's Content-Language header, the
language of the (redacted) text when the analysis' detector was sure of it
(`ingest.classify.language`), the desk's default. Only languages the desk writes
(`store.languages.LANGUAGES`) are ever chosen.
"""

from __future__ import annotations

from ingest.classify.language import detect_language
from ingest.decide.context import Context
from store import directory
from store.languages import language_code


def choose_language(
    *,
    organisation_language: str | None,
    content_language: str | None,
    detected: str | None,
    default: str,
) -> str:
    """The language of mail to a customer (see the module's description)."""
    return (
        language_code(organisation_language)
        or language_code(content_language)
        or language_code(detected)
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
    detected = ctx.language
    said = language_code(organisation_language) or language_code(ctx.parsed.content_language)
    if detected is None and not said and not ctx.language_checked and not ctx.automated:
        # the analysis skipped it (a reply, which turned out to open a ticket): detect now
        detected = detect_language(f"{ctx.content.subject}\n{ctx.content.visible}")
    return choose_language(
        organisation_language=organisation_language,
        content_language=ctx.parsed.content_language,
        detected=detected,
        default=options.language,
    )
