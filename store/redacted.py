"""`RedactedText`: text the redactor has cleaned. The store writes no other text.

Every subject, comment body, HTML body and attachment text that `store` writes is typed
`RedactedText`, so mypy (strict) proves that nothing unredacted reaches the database. Only
the redactor (`ingest.redact`) makes one: from its own output, or by selecting a part of a
`RedactedText` (`ingest.redact.derived`). A test checks that no other module calls
`RedactedText(...)`.
"""

from __future__ import annotations

from typing import NewType

__all__ = ["RedactedText"]

RedactedText = NewType("RedactedText", str)
