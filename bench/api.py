"""Benchmark of the REST API: `GET /api/v1/tickets` latency with 100k tickets in PostgreSQL.

Usage: .venv/bin/python bench/api.py [--tickets 100000] [--requests 400] [--page 50]
                                     [--seed 1] [--keep]

Creates a scratch PostgreSQL database (POSTDESK_TEST_DATABASE_URL or the local server, as the
tests do), migrates it, writes the example configuration's organisations, contacts and staff,
then bulk-inserts `--tickets` tickets (and their requester rows) directly, in batches:
statuses, priorities, organisations, assignees and change times spread as in a desk that has
run a year. The daemon's HTTP listener (uvicorn, the production routes) serves on a loopback
port; one keep-alive httpx client measures, after a warm-up, `--requests` requests each of:
  first page     a page of `--page`, no filter (the dashboard's poll)
  walk           following `next` from the first page on (a sync job reading everything)
  status=open    a filter on a common status
  organisation   a filter by organisation name
  org token      an organisation token (its tickets and its partner clients')
  rare org       a filter by an organisation with 0.2% of the tickets
  rare token     that organisation's token
and prints p50, p99 and max in milliseconds (target: p99 < 100 ms). The database is dropped
at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from postdesk.app import App  # noqa: E402
from postdesk.config.load import settings_from_mapping  # noqa: E402
from postdesk.serve.api.routes import api_context, api_routes  # noqa: E402
from postdesk.serve.http import HttpEndpoint  # noqa: E402
from postdesk.serve.metrics import Metrics  # noqa: E402
from store import api_tokens, directory, migrate  # noqa: E402
from store.db import Database  # noqa: E402
from store.schema import ContactRow, OrganisationRow, StaffRow, SubscriberRow, TicketRow  # noqa: E402
from tests.helpers import example_config  # noqa: E402

BATCH = 5_000
CONTACTS = 3_000
STATUSES = (
    ("open", 20),
    ("in_progress", 10),
    ("waiting_on_customer", 10),
    ("escalated", 2),
    ("resolved", 18),
    ("closed", 40),
)
PRIORITIES = (("urgent", 3), ("high", 15), ("medium", 60), ("low", 22))
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RARE = "Hooli"  # an organisation with few tickets: its pages must not scan everyone's


def _admin_url() -> str:
    url = os.environ.get(
        "POSTDESK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def _contacts(db: Database, rng: random.Random) -> list[tuple[int, int | None]]:
    """Extra customer contacts across the configured organisations (and none)."""
    with db.transaction() as session:
        orgs = list(session.scalars(select(OrganisationRow.id).where(OrganisationRow.name != RARE)))
        rare = session.scalar(select(OrganisationRow.id).where(OrganisationRow.name == RARE))
        rows = [
            {
                "email": f"customer{i}@c{i % 97}.example",
                "name": f"Customer {i}",
                # a few contacts (0.2% of the tickets) in the rare organisation
                "organisation_id": rare if i % 500 == 0 else rng.choice([*orgs, None]),
                "origin": "created",
                "bouncing": False,
                "created_at": NOW - timedelta(days=400),
            }
            for i in range(CONTACTS)
        ]
        session.execute(insert(ContactRow), rows)
        found = session.execute(select(ContactRow.id, ContactRow.organisation_id)).all()
    return [(int(i), o) for i, o in found]


def fill(db: Database, count: int, rng: random.Random) -> None:
    """`count` tickets with their requester rows, in batches of BATCH."""
    contacts = _contacts(db, rng)
    with db.transaction() as session:
        staff = [*session.scalars(select(StaffRow.id)), None, None]
    ticket_id = 1000
    for start in range(0, count, BATCH):
        tickets, subscribers = [], []
        for _ in range(min(BATCH, count - start)):
            ticket_id += 1
            contact, organisation = rng.choice(contacts)
            created = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
            updated = created + timedelta(minutes=rng.randrange(14 * 24 * 60))
            tickets.append(
                {
                    "id": ticket_id,
                    "prefix": "SUP",
                    "subject": f"Generated request {ticket_id}",
                    "status": _weighted(rng, STATUSES),
                    "priority": _weighted(rng, PRIORITIES),
                    "category": "general",
                    "visibility": "private" if rng.random() < 0.05 else "organisation",
                    "organisation_id": organisation,
                    "requester_id": contact,
                    "assignee_id": rng.choice(staff),
                    "support_address": "support@desk.example",
                    "call_reference": None,
                    "fields": {},
                    "flags": {},
                    "related_ticket_id": None,
                    "created_at": created,
                    "updated_at": updated,
                    "last_activity_at": updated,
                    "status_changed_at": updated,
                    "first_response_due": created + timedelta(hours=8),
                    "resolution_due": created + timedelta(days=3),
                    "first_responded_at": None,
                }
            )
            subscribers.append(
                {
                    "ticket_id": ticket_id,
                    "email": f"requester{contact}@example",
                    "role": "requester",
                    "muted": False,
                }
            )
        with db.transaction() as session:
            session.execute(insert(TicketRow), tickets)
            session.execute(insert(SubscriberRow), subscribers)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), :last)"),
            {"last": ticket_id},
        )


def _timed(requests: int, call: Callable[[int], httpx.Response]) -> list[float]:
    times = []
    for i in range(requests):
        started = time.perf_counter()
        answer = call(i)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    return times


def _report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(len(ordered) * 0.99) - 1)]
    line = (
        f"{name:<14} p50 {statistics.median(ordered):6.1f} ms   p99 {p99:6.1f} ms   "
        f"max {ordered[-1]:6.1f} ms   ({len(ordered)} requests)"
    )
    print(line, flush=True)


def measure(port: int, tokens: dict[str, str], requests: int, size: int) -> None:
    api = f"http://127.0.0.1:{port}/api/v1"
    base = f"{api}/tickets"
    with httpx.Client(timeout=30) as client:

        def get(who: str, **params: Any) -> httpx.Response:
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            return client.get(base, params={"limit": size, **params}, headers=headers)

        _timed(20, lambda _i: get("all"))  # warm-up: connections, caches, plans
        _report("no database", _timed(requests, lambda _i: client.get(f"{api}/openapi.json")))
        _report("first page", _timed(requests, lambda _i: get("all")))
        cursor: list[str | None] = [None]

        def walk(_i: int) -> httpx.Response:
            answer = get("all", **({"cursor": cursor[0]} if cursor[0] else {}))
            cursor[0] = answer.json()["next"]
            return answer

        _report("walk", _timed(requests, walk))
        _report("status=open", _timed(requests, lambda _i: get("all", status="open")))
        _report("organisation", _timed(requests, lambda _i: get("all", organisation="Globex")))
        _report("org token", _timed(requests, lambda _i: get("partner")))
        _report("rare org", _timed(requests, lambda _i: get("all", organisation=RARE)))
        _report("rare token", _timed(requests, lambda _i: get("rare")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"postdesk_bench_api_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            data = example_config()
            data["database"]["url"] = url
            data["ingest"]["data_dir"] = str(Path(scratch) / "data")
            data["organisations"].append(
                {"name": RARE, "domains": ["hooli.example"], "contacts": [], "partner_of": []}
            )
            settings = settings_from_mapping(data, base=Path(scratch), env={})
            app = App.build(settings)
            migrate.upgrade(app.db.engine)
            app.sync_directory()
            started = time.perf_counter()
            fill(app.db, args.tickets, random.Random(args.seed))
            print(f"{args.tickets} tickets written in {time.perf_counter() - started:.1f} s")
            with app.db.transaction() as session:
                partner = directory.organisation_id_by_name(session, "Initech Partners")
                tokens = {
                    "all": api_tokens.create_token(session, "bench", "read", None, NOW)[1],
                    "partner": api_tokens.create_token(session, "p", "read", partner, NOW)[1],
                    "rare": api_tokens.create_token(
                        session, "r", "read", directory.organisation_id_by_name(session, RARE), NOW
                    )[1],
                }
            endpoint = HttpEndpoint(
                "127.0.0.1",
                0,
                lambda: (True, {}),
                Metrics().registry,
                api_routes(api_context(app)),
            )
            endpoint.start()
            try:
                print(f"GET /api/v1/tickets, page of {args.page}, PostgreSQL:", flush=True)
                # The client in a process of its own: it must not share the server's GIL.
                client = multiprocessing.get_context("spawn").Process(
                    target=measure, args=(endpoint.port, tokens, args.requests, args.page)
                )
                client.start()
                client.join()
            finally:
                endpoint.stop()
                app.close()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
