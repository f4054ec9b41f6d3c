"""Where mail comes in: SMTP, LMTP, IMAP and provider webhooks (Mailgun, Postmark, SendGrid).
Each writes the raw bytes to the spool and acknowledges them (SMTP/LMTP 250, IMAP move,
HTTP 200) only after the spool's fsync."""

__all__ = [
    "basic_auth",
    "forms",
    "imap",
    "imap_cursor",
    "imap_message",
    "imap_settings",
    "lmtp",
    "mailgun",
    "postmark",
    "providers",
    "sendgrid",
    "smtp",
    "smtp_protocol",
    "webhook",
]
