"""Applying a prescriber's spreadsheet: who already holds an active ticket, then issuing, all or nothing
(or, when the prescriber explicitly asks, only the valid rows), through the ticket service's bulk path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.orm import Session

from importers.errors import ImportRefused, Problem
from importers.tickets import TicketFile, TicketLine
from portfolio.audit import services as audit
from portfolio.auth.models import User
from portfolio.catalogue.scheme import Scheme
from portfolio.orgs.models import Organisation
from portfolio.tickets import services as tickets


@dataclass
class TicketCheck:
    """A parsed file checked against the database: the rows that can be issued, and every problem."""

    file: TicketFile
    importable: list[TicketLine]
    problems: list[Problem]

    @property
    def valid(self) -> bool:
        return not self.problems


def check_tickets(session: Session, parsed: TicketFile, today: dt.date) -> TicketCheck:
    """Add to the file's own problems the people who already hold a ticket still in use."""
    holding = tickets.holders_with_active_ticket(session, parsed.holders, today)
    importable: list[TicketLine] = []
    problems = list(parsed.problems)
    for row in parsed.rows:
        if tickets.identity_key(row.holder.last_name, row.holder.first_name, row.holder.birth_date) in holding:
            problems.append(Problem(row.line, str(_l("cette personne a déjà un Ticket Net en cours de validité."))))
        else:
            importable.append(row)
    problems.sort(key=lambda p: p.line)
    return TicketCheck(parsed, importable, problems)


def import_tickets(
    session: Session,
    scheme: Scheme,
    prescriber: Organisation,
    check: TicketCheck,
    issued_on: dt.date,
    issued_by: User | None = None,
    *,
    valid_only: bool = False,
    ip: str = "",
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Issue the tickets of a checked file and return their references. Nothing is written when the
    file has a problem, unless ``valid_only``: then the valid rows are issued and the others are not."""
    if check.problems and not valid_only:
        raise ImportRefused(lazy_ngettext(
            "Le fichier a %(num)d problème : aucun ticket n'a été émis.",
            "Le fichier a %(num)d problèmes : aucun ticket n'a été émis.", len(check.problems)))
    if not check.importable:
        raise ImportRefused(_l("Aucune ligne valide : aucun ticket n'a été émis."))
    references = tickets.issue_tickets_bulk(session, scheme, prescriber, [row.holder for row in check.importable],
                                            issued_on, issued_by, progress=progress)
    audit.record(session, "ticket.import", actor=issued_by, organisation=prescriber, target_type="ticket",
                 target_id=f"{references[0]}..{references[-1]}", ip=ip,
                 details={"file": check.file.filename[:200], "issued": len(references),
                          "left_out": len(check.problems)})
    session.flush()
    return references
