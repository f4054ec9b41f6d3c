"""The audit trail: one row per change, who, what, when and via which message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from store import writebehind
from store.schema import AuditEventRow, Base

__all__ = ["record"]

_INSERT_AUDIT = insert(Base.metadata.tables[AuditEventRow.__tablename__])


def record(
    session: Session,
    ticket_id: int | None,
    *,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, Any] | None = None,
    inbound_message_id: int | None = None,
) -> None:
    """Record one change: who, what, when, via which message."""
    writebehind.add(
        session,
        _INSERT_AUDIT,
        {
            "ticket_id": ticket_id,
            "at": at,
            "actor": actor,
            "action": action,
            "details": details or {},
            "inbound_message_id": inbound_message_id,
        },
    )
