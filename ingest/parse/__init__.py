"""Bytes to a `ParsedMessage`: the fast path for well-formed mail, the stdlib for the rest.

`message` is the entry point (`parse_message`); `fast` builds the MIME tree quickly,
`boundary` finds multipart boundaries, `decode` turns headers and payloads into text (with
`charsets`: the browsers' charset aliases, `detect`: unlabelled 8-bit text, `iso2022jp`:
Microsoft's extensions), `addresses` reads senders and recipients leniently, `body` picks
the body and attachments (with `attached`: forwarded mails, `tnef`: winmail.dat, `smime`:
signed and encrypted mail, `uu`: uuencoded files), `html` turns HTML into text."""

__all__ = [
    "addresses",
    "attached",
    "body",
    "boundary",
    "charsets",
    "decode",
    "detect",
    "fast",
    "html",
    "iso2022jp",
    "message",
    "smime",
    "tnef",
    "uu",
]
