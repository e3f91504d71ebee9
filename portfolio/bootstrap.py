"""``ticketnet init``: migrate to head, then load the bundled frameworks, mappings, modules and scheme."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from competences import loader as frameworks
from portfolio import migrate
from portfolio.catalogue import loader as catalogue
from portfolio.db import ensure_sqlite_folder
from portfolio.extensions import db


@dataclass
class InitReport:
    revision_before: str | None
    revision_after: str | None
    loaded: list[frameworks.LoadResult] = field(default_factory=list)
    scheme_changed: bool = False
    modules_created: int = 0
    modules_updated: int = 0

    @property
    def changed(self) -> bool:
        return (
            self.revision_before != self.revision_after
            or any(r.created for r in self.loaded)
            or self.scheme_changed
            or bool(self.modules_created or self.modules_updated)
        )


def initialise(app: Flask) -> InitReport:
    """Idempotent: a second run changes nothing."""
    ensure_sqlite_folder(app.config["DATABASE_URL"])
    before = migrate.current_revision(app)
    migrate.upgrade(app)
    report = InitReport(before, migrate.current_revision(app))
    with app.app_context():
        session = db.session
        report.loaded = frameworks.load_bundled(session)
        report.scheme_changed = catalogue.load_scheme(session, app.config["SCHEME_CODE"])
        report.modules_created, report.modules_updated = catalogue.load_modules(session)
        session.commit()
    return report
