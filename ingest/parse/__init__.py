"""Bytes to a `ParsedMessage`: the fast path for well-formed mail, the stdlib for the rest.

`message` is the entry point (`parse_message`); `fast` builds the MIME tree quickly,
`boundary` finds multipart boundaries, `decode` turns headers and payloads into text, `body`
picks the body and attachments, `html` turns HTML into text."""

__all__ = [
    "attached",
    "body",
    "boundary",
    "decode",
    "fast",
    "html",
    "message",
    "smime",
    "tnef",
    "uu",
]
