"""Tickets in the store: numbers, lookups, listing filters, comments and subscribers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text

from store import attachments, comments, directory, subscribers, tickets, writebehind
from store.comments import NewComment
from store.db import Database
from store.directory import OrganisationSpec, StaffSpec
from store.tickets import NewTicket

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _seed(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        directory.sync_directory(
            session,
            [
                OrganisationSpec("Acme", ("acme.example",), (("Carol", "carol@acme.example"),), ()),
                OrganisationSpec("Partner", ("partner.example",), (), ("Acme",)),
            ],
            [StaffSpec("alice", "alice@desk.example")],
            NOW,
        )
        contact = directory.find_contact(session, "carol@acme.example")
        assert contact is not None and contact.organisation_id is not None
        return contact.id, contact.organisation_id


def _new(requester: int, org: int | None, subject: str = "Export broken") -> NewTicket:
    return NewTicket(
        prefix="SUP",
        subject=subject,
        priority="medium",
        category="general",
        visibility="organisation",
        organisation_id=org,
        requester_id=requester,
        support_address="support@desk.example",
        created_at=NOW,
        first_response_due=NOW + timedelta(hours=24),
        resolution_due=NOW + timedelta(days=5),
    )


def test_numbers_start_at_1001_and_increase(db_url: str) -> None:
    database = Database(db_url)
    requester, org = _seed(database)
    with database.transaction() as session:
        first = tickets.create_ticket(session, _new(requester, org))
        second = tickets.create_ticket(session, _new(requester, org))
    assert first.number == "SUP-1001"
    assert second.number == "SUP-1002"
    database.dispose()


def test_numbers_are_never_reused_after_a_rollback(db_url: str) -> None:
    database = Database(db_url)
    requester, org = _seed(database)
    try:
        with database.transaction() as session:
            tickets.create_ticket(session, _new(requester, org))
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with database.transaction() as session:
        kept = tickets.create_ticket(session, _new(requester, org))
    with database.transaction() as session:
        assert tickets.find_ticket(session, kept.number) is not None
        assert tickets.find_ticket(session, "SUP-999999") is None
    database.dispose()


def test_find_ticket_is_case_insensitive_and_checks_the_prefix(db_url: str) -> None:
    database = Database(db_url)
    requester, org = _seed(database)
    with database.transaction() as session:
        ticket = tickets.create_ticket(session, _new(requester, org))
        assert tickets.find_ticket(session, ticket.number.lower()) == ticket
        assert tickets.find_ticket(session, "OPS-" + str(ticket.id)) is None
        assert tickets.find_ticket(session, "garbage") is None
    database.dispose()


def test_list_filters_and_search(db_url: str) -> None:
    database = Database(db_url)
    requester, org = _seed(database)
    with database.transaction() as session:
        a = tickets.create_ticket(session, _new(requester, org, "Invoice wrong"))
        b = tickets.create_ticket(session, _new(requester, org, "Login fails"))
        comments.add_comment(
            session,
            b.id,
            NewComment(
                author_email="carol@acme.example",
                author_role="customer",
                public=True,
                body="MFA code never arrives",
                full_text="",
                html=None,
                created_at=NOW,
            ),
        )
        tickets.update_ticket(session, a.id, NOW, status="resolved")
    with database.transaction() as session:
        assert [t.number for t in tickets.list_tickets(session)] == [b.number, a.number]
        assert [t.number for t in tickets.list_tickets(session, status="resolved")] == [a.number]
        assert [t.number for t in tickets.list_tickets(session, search="mfa")] == [b.number]
        assert [t.number for t in tickets.list_tickets(session, search="INVOICE")] == [a.number]
        assert len(tickets.list_tickets(session, organisation="acme")) == 2
        assert tickets.list_tickets(session, organisation="Partner") == []
        assert len(tickets.list_tickets(session, requester="carol@acme.example")) == 2
        assert len(tickets.list_tickets(session, limit=1)) == 1
    database.dispose()


def test_subscribers_watchers_and_mute(db_url: str) -> None:
    database = Database(db_url)
    requester, org = _seed(database)
    with database.transaction() as session:
        ticket = tickets.create_ticket(session, _new(requester, org))
        assert subscribers.add_watcher(session, ticket.id, "Dave@acme.example")
        assert not subscribers.add_watcher(session, ticket.id, "dave@acme.example")
        assert subscribers.set_muted(session, ticket.id, "dave@acme.example", True)
        subs = subscribers.of_ticket(session, ticket.id)
    assert [(s.email, s.role, s.muted) for s in subs] == [
        ("carol@acme.example", "requester", False),
        ("dave@acme.example", "watcher", True),
    ]
    database.dispose()


def test_directory_sync_is_idempotent_and_matches_subdomains(db_url: str) -> None:
    database = Database(db_url)
    _seed(database)
    _seed(database)
    with database.transaction() as session:
        acme = directory.organisation_id_by_name(session, "Acme")
        partner = directory.organisation_id_by_name(session, "Partner")
        assert directory.organisation_for_domain(session, "eu.mail.acme.example") == acme
        assert directory.organisation_for_domain(session, "notacme.example") is None
        assert partner is not None and directory.partner_clients(session, partner) == {acme}
        staff = directory.staff_by_name(session, "Alice")
        assert staff is not None and staff.email == "alice@desk.example"
    database.dispose()


def test_a_new_ticket_is_recorded_as_reading_it_back_would(db_url: str) -> None:
    database = Database(db_url)
    requester, org = _seed(database)
    with database.transaction() as session:
        created = tickets.create_ticket(session, _new(requester, org))
        no_org = tickets.create_ticket(session, _new(requester, None, "No organisation"))
    with database.transaction() as session:
        assert tickets.get_ticket(session, created.id) == created
        assert tickets.get_ticket(session, no_org.id) == no_org
    assert (created.requester, created.organisation) == ("carol@acme.example", "Acme")
    assert no_org.organisation is None
    database.dispose()


def test_a_batch_writes_comments_attachments_and_subscribers_at_commit(db_url: str) -> None:
    """Rows written behind take their ids in advance and reach the database, parents first."""
    database = Database(db_url)
    requester, org = _seed(database)
    with database.transaction() as session:
        writebehind.enable(session)
        comments.reserve_comment_ids(session, 2)
        ticket = tickets.create_ticket(session, _new(requester, org))
        first = comments.add_comment(session, ticket.id, _comment("first"))
        second = comments.add_comment(session, ticket.id, _comment("second"))
        attached = attachments.add_attachment(
            session,
            ticket.id,
            second.id,
            filename="a.txt",
            content_type="text/plain",
            size=1,
            sha256="0" * 64,
            inline=False,
            content_id=None,
            created_at=NOW,
        )
        assert comments.of_ticket(session, ticket.id) == []  # not yet written
        assert [s.email for s in subscribers.of_ticket(session, ticket.id)] == [
            "carol@acme.example"
        ]
        # A change to the subscribers writes what waits first: the requester is there.
        assert not subscribers.add_watcher(session, ticket.id, "carol@acme.example")
        assert subscribers.add_watcher(session, ticket.id, "dave@acme.example")
        assert subscribers.set_muted(session, ticket.id, "dave@acme.example", True)
        assert subscribers.of_ticket(session, ticket.id)[1].muted
    assert first.id < second.id
    with database.transaction() as session:
        assert [c.id for c in comments.of_ticket(session, ticket.id)] == [first.id, second.id]
        assert [c.body for c in comments.of_ticket(session, ticket.id)] == ["first", "second"]
        assert [a.id for a in attachments.of_ticket(session, ticket.id)] == [attached.id]
        assert [(s.email, s.muted) for s in subscribers.of_ticket(session, ticket.id)] == [
            ("carol@acme.example", False),
            ("dave@acme.example", True),
        ]
    with database.transaction() as session:  # ids taken later do not collide
        writebehind.enable(session)
        many = [comments.add_comment(session, ticket.id, _comment(f"{n}")) for n in range(40)]
    with database.transaction() as session:
        last = comments.add_comment(session, ticket.id, _comment("last"))
        listed = [c.id for c in comments.of_ticket(session, ticket.id)]
        assert listed[2:] == [c.id for c in many] + [last.id]
    database.dispose()


def _comment(body: str) -> NewComment:
    return NewComment(
        author_email="carol@acme.example",
        author_role="customer",
        public=True,
        body=body,
        full_text=body,
        html=None,
        created_at=NOW,
    )


def test_ticket_changes_in_a_batch_reach_the_row_at_commit(db_url: str) -> None:
    """Changes wait for the commit, merged per ticket; a change of a named column (the
    assignee) is written at once with the earlier ones and read back."""
    database = Database(db_url)
    requester, org = _seed(database)
    with database.transaction() as session:
        staff_id = session.execute(text("SELECT id FROM staff")).scalar_one()
    later = NOW + timedelta(hours=1)
    with database.transaction() as session:
        writebehind.enable(session)
        ticket = tickets.create_ticket(session, _new(requester, org))
        tickets.update_ticket(session, ticket.id, NOW, status="waiting_on_customer")
        tickets.set_flag(session, ticket.id, "credential_exposed", NOW)
        comments.add_comment(session, ticket.id, replace(_comment("later"), created_at=later))
        assigned = tickets.update_ticket(session, ticket.id, later, assignee_id=staff_id)
        assert (assigned.status, assigned.assignee) == ("waiting_on_customer", "alice")
        final = tickets.update_ticket(session, ticket.id, later, priority="high")
        unchanged = session.execute(
            text("SELECT priority FROM tickets WHERE id = :id"), {"id": ticket.id}
        ).scalar_one()
        assert unchanged == "medium", "the last change waits for the commit"
    with database.transaction() as session:
        assert tickets.get_ticket(session, ticket.id) == final
    assert (final.status, final.priority) == ("waiting_on_customer", "high")
    assert final.flags == ("credential_exposed",)
    assert final.last_activity_at == later
    database.dispose()


def test_contacts_prefetched_for_a_batch_are_found_without_a_query(db_url: str) -> None:
    database = Database(db_url)
    _seed(database)
    statements: list[str] = []
    with database.transaction() as session:
        directory.prefetch_contacts(session, ["Carol@acme.example", "nobody@acme.example", ""])
        event.listen(database.engine, "before_cursor_execute", _record_into(statements))
        carol = directory.find_contact(session, "carol@acme.example")
        assert carol is not None and carol.name == "Carol" and not carol.bouncing
        assert directory.find_contact(session, "nobody@acme.example") is None
        assert statements == [], "answered from the batch's lookup"
        assert directory.mark_bouncing(session, "carol@acme.example")
        marked = directory.find_contact(session, "carol@acme.example")
        assert marked is not None and marked.bouncing
    database.dispose()


def _record_into(statements: list[str]) -> Callable[..., None]:
    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    return record


def test_organisation_of_a_domain_is_asked_once_per_batch(db_url: str) -> None:
    database = Database(db_url)
    _, org = _seed(database)
    statements: list[str] = []
    with database.transaction() as session:
        event.listen(database.engine, "before_cursor_execute", _record_into(statements))
        assert directory.organisation_for_domain(session, "Mail.ACME.example") == org
        assert directory.organisation_for_domain(session, "mail.acme.example") == org
        assert directory.organisation_for_domain(session, "elsewhere.example") is None
        assert directory.organisation_for_domain(session, "elsewhere.example") is None
        lookups = [s for s in statements if "organisation_domains" in s]
        assert len(lookups) == 2, "one lookup per domain"
    database.dispose()


def test_created_contact_is_written_at_once_and_found_afterwards(db_url: str) -> None:
    database = Database(db_url)
    _, org = _seed(database)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with database.transaction() as session:
        created = directory.create_contact(session, "New@ACME.example", "New Person", org, now)
        assert (created.email, created.organisation_id, created.bouncing) == (
            "new@acme.example",
            org,
            False,
        )
        assert directory.find_contact(session, "new@acme.example") == created
    with database.transaction() as session:
        assert directory.find_contact(session, "NEW@acme.example") == created
        origin = session.execute(
            text("SELECT origin, created_at FROM contacts WHERE id = :id"), {"id": created.id}
        ).one()
        assert origin[0] == "created"
    database.dispose()
