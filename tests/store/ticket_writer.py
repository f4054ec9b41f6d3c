"""Run as a separate process by test_concurrency: create N tickets, one transaction each."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from store import tickets
from store.db import Database
from store.tickets import NewTicket


def main(url: str, requester_id: int, count: int, start_file: str) -> None:
    database = Database(url)
    while True:  # start together: wait for the go file (bounded by the test's timeout)
        try:
            open(start_file).close()
            break
        except FileNotFoundError:
            continue
    numbers = []
    for i in range(count):
        now = datetime.now(UTC)
        with database.transaction() as session:
            ticket = tickets.create_ticket(
                session,
                NewTicket(
                    prefix="SUP",
                    subject=f"load {i}",
                    priority="medium",
                    category="general",
                    visibility="organisation",
                    organisation_id=None,
                    requester_id=requester_id,
                    support_address="support@desk.example",
                    created_at=now,
                    first_response_due=None,
                    resolution_due=None,
                ),
            )
            numbers.append(ticket.number)
    database.dispose()
    print("\n".join(numbers))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
