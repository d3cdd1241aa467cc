"""The tickets queue: one message per requested ticket. Its own message group per ticket, so a
ticket waiting out its backoff never holds back another; deduplication by (ticket, request time),
so asking again after a failure is a new message while a resend of the same request is not."""

from __future__ import annotations

from dd0c_cost import queues
from dd0c_cost.events.messages import TicketMessage
from dd0c_cost.tickets.store import Ticket
from dd0c_cost.topology import TICKETS


def enqueue(ticket: Ticket) -> None:
    message = TicketMessage(tenant_id=ticket.tenant_id, ticket_id=ticket.id)
    queues.send(
        TICKETS,
        message.model_dump_json(),
        group=str(ticket.id),
        deduplication=queues.dedup_id("ticket", ticket.id, ticket.updated_at.isoformat()),
    )
