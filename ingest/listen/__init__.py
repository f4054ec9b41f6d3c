"""Where mail comes in: SMTP and IMAP. Each writes the raw bytes to the spool and acknowledges
them (SMTP 250, IMAP move) only after the spool's fsync."""

__all__ = ["imap", "imap_cursor", "imap_message", "imap_settings", "smtp", "smtp_protocol"]
