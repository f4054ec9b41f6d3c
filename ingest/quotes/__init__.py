"""Reply history and signatures off a customer's mail: `strip` is the entry point, `rules`
the plain-text markers, `html` the HTML ones."""

from ingest.quotes.strip import StrippedReply, strip_forward, strip_html_reply, strip_reply

__all__ = ["StrippedReply", "strip_forward", "strip_html_reply", "strip_reply"]
