"""Upload pages: the prescriber's spreadsheet (upload -> report -> confirm, without uploading again),
the learner's old blog, the coordination's framework; never a 500 for a hostile file."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from competences.loader import FRAMEWORKS_DIR
from competences.models import Framework
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role
from portfolio.journal.models import JournalEntry
from portfolio.orgs.models import OrgKind
from portfolio.tickets.models import Ticket
from tests import factories
from tests.test_importers_safety import BILLION_LAUGHS, zip_of

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
FAULTY = ("Nom;Prénom;Date de naissance;Commune;Public\n"
          "Delmas;Jean;14/03/1951;Cahors;seniors\n"
          "Benali;Fatima;31/02/1984;Figeac;femmes-isolees\n"
          "Pons;Annie;17/09/1947;Gramat;martiens\n").encode("cp1252")
CORRECTED = FAULTY.replace(b"31/02/1984", b"02/07/1984").replace(b"martiens", b"seniors")


def upload(client: Any, url: str, data: bytes, name: str, **fields: Any) -> Any:
    return client.post_form(url, {**fields, "file": (io.BytesIO(data), name)},
                            content_type="multipart/form-data")


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def token_of(page: str) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', page)
    assert match, "no confirmation token on the page"
    return match.group(1)


def tickets_of(session: Session, prescriber_id: int) -> list[Ticket]:
    session.expire_all()
    return list(session.scalars(sa.select(Ticket).where(Ticket.prescriber_id == prescriber_id)
                                .order_by(Ticket.reference)))


def test_faulty_file_lists_every_problem_by_line_and_issues_nothing(client: Any, login_as: Any,
                                                                    db_session: Session) -> None:
    org = factories.organisation(db_session, OrgKind.PRESCRIBER)
    login_as(Role.PRESCRIBER, organisation_=org)
    assert client.get("/tickets/importer").status_code == 200
    response = upload(client, "/tickets/importer", FAULTY, "liste.csv", prescriber=org.id)
    assert response.status_code == 200
    page = page_text(response)
    assert "3 personnes lues. 1 ticket peut être émis. 2 lignes ont un problème." in page
    assert "Ligne 3 : « 31/02/1984 » n'est pas une date de naissance (JJ/MM/AAAA)." in page
    assert "Ligne 4 : « martiens » n'est pas un public connu" in page
    assert "Aucun ticket n'a été émis" in page and "Émettre seulement le ticket correct" in page
    assert tickets_of(db_session, org.id) == []


def test_upload_report_confirm_without_sending_the_file_again(app: Flask, client: Any, login_as: Any,
                                                              db_session: Session) -> None:
    org = factories.organisation(db_session, OrgKind.PRESCRIBER)
    login_as(Role.PRESCRIBER, organisation_=org)
    report = page_text(upload(client, "/tickets/importer", CORRECTED, "liste.csv", prescriber=org.id))
    assert "Le fichier est correct." in report and "Émettre les 3 tickets" in report
    token = token_of(report)
    assert (Path(app.config["UPLOAD_DIR"]) / "imports" / f"{token}.upload").read_bytes() == CORRECTED
    assert tickets_of(db_session, org.id) == []
    done = client.post_form("/tickets/importer/confirmer", {"token": token})
    assert done.status_code == 200
    text = page_text(done)
    issued = tickets_of(db_session, org.id)
    assert [t.last_name for t in issued] == ["Delmas", "Benali", "Pons"]
    assert f"3 tickets émis depuis le fichier « liste.csv ». Numéros {issued[0].reference} à {issued[-1].reference}" \
        in text
    assert "/tickets/imprimer?id=" in text
    assert not (Path(app.config["UPLOAD_DIR"]) / "imports" / f"{token}.upload").exists()
    # The same confirmation again: the file is gone, nothing more is issued.
    again = client.post_form("/tickets/importer/confirmer", {"token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/tickets/importer")
    assert len(tickets_of(db_session, org.id)) == 3
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "ticket.import")) == 1


def test_only_the_valid_rows_when_the_prescriber_asks(client: Any, login_as: Any, db_session: Session) -> None:
    org = factories.organisation(db_session, OrgKind.PRESCRIBER)
    login_as(Role.PRESCRIBER, organisation_=org)
    token = token_of(page_text(upload(client, "/tickets/importer", FAULTY, "liste.csv", prescriber=org.id)))
    refused = client.post_form("/tickets/importer/confirmer", {"token": token})  # without valid_only
    assert refused.status_code == 200 and "Le fichier a 2 problèmes : aucun ticket n'a été émis." in page_text(refused)
    assert tickets_of(db_session, org.id) == []
    done = client.post_form("/tickets/importer/confirmer", {"token": token, "valid_only": "1"})
    assert "2 lignes avec un problème ont été laissées de côté." in page_text(done)
    assert [t.last_name for t in tickets_of(db_session, org.id)] == ["Delmas"]


def test_a_token_is_only_its_senders(client: Any, login_as: Any, db_session: Session, app: Flask) -> None:
    org = factories.organisation(db_session, OrgKind.PRESCRIBER)
    login_as(Role.PRESCRIBER, organisation_=org)
    token = token_of(page_text(upload(client, "/tickets/importer", CORRECTED, "liste.csv", prescriber=org.id)))
    colleague = factories.user(db_session, Role.PRESCRIBER, organisation_=org)
    db_session.commit()
    other = app.test_client()
    other.post_form("/login", {"username": colleague.username, "password": factories.PASSWORD})
    stolen = other.post_form("/tickets/importer/confirmer", {"token": token})
    assert stolen.status_code == 302 and tickets_of(db_session, org.id) == []
    forged = client.post_form("/tickets/importer/confirmer", {"token": "../../etc/passwd"})
    assert forged.status_code == 302


def test_a_file_that_cannot_be_read_is_explained_on_the_form(client: Any, login_as: Any, db_session: Session) -> None:
    org = factories.organisation(db_session, OrgKind.PRESCRIBER)
    login_as(Role.PRESCRIBER, organisation_=org)
    for data, name, reason in [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "vieux.xls", "Excel ancien (.xls)"),
        (zip_of({"xl/workbook.xml": b"x", "../../evil": b"x"}), "liste.xlsx", "chemin dangereux"),
        (zip_of({"xl/workbook.xml": b"x", "big": b"\0" * 5_000_000}), "liste.xlsx", "anormalement compressée"),
        (b"Nom;Prenom\nx;y\n", "liste.csv", "Il manque des colonnes : Date de naissance, Commune, Public."),
    ]:
        response = upload(client, "/tickets/importer", data, name, prescriber=org.id)
        assert response.status_code == 200, name
        page = page_text(response)
        assert reason in page and 'aria-invalid="true"' in page, name
    missing = client.post_form("/tickets/importer", {"prescriber": org.id})
    assert "Choisissez le fichier à envoyer." in page_text(missing)


def test_another_prescribers_organisation_is_not_a_choice(client: Any, login_as: Any, db_session: Session) -> None:
    login_as(Role.PRESCRIBER)
    other = factories.organisation(db_session, OrgKind.PRESCRIBER)
    db_session.commit()
    response = upload(client, "/tickets/importer", CORRECTED, "liste.csv", prescriber=other.id)
    assert response.status_code == 200 and 'name="token"' not in page_text(response)
    assert tickets_of(db_session, other.id) == []


def test_the_report_page_queries_do_not_grow_with_the_rows(client: Any, login_as: Any, db_session: Session,
                                                           count_queries: Any) -> None:
    org = factories.organisation(db_session, OrgKind.PRESCRIBER)
    login_as(Role.PRESCRIBER, organisation_=org)

    def people(n: int) -> bytes:
        rows = [f"Nom{i};Jean;{1 + i % 28:02d}/03/1951;Cahors;seniors" for i in range(n)]
        return ("Nom;Prénom;Date de naissance;Commune;Public\n" + "\n".join(rows)).encode()

    counts = []
    for n in (5, 400):
        with count_queries() as counter:
            assert upload(client, "/tickets/importer", people(n), "liste.csv", prescriber=org.id).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


# --- The learner's old blog -------------------------------------------------------------------------------


def test_learner_imports_a_wordpress_export_and_reads_the_report(client: Any, login_as: Any,
                                                                 db_session: Session) -> None:
    learner = login_as(Role.BENEFICIARY)
    assert client.get("/journal/importer").status_code == 200
    response = upload(client, "/journal/importer", (FIXTURES / "wordpress.xml").read_bytes(), "export.xml")
    assert response.status_code == 200
    page = page_text(response)
    assert "3 articles ajoutés à mon journal." in page
    assert "Déclarer mes impôts en ligne" in page and "Mots-clés : Démarches en ligne, impôts" in page
    assert "Page « À propos » : page du site, pas un article : non importée." in page
    db_session.expire_all()
    titles = db_session.scalars(sa.select(JournalEntry.title).where(JournalEntry.owner_id == learner.id)).all()
    assert sorted(titles) == ["Déclarer mes impôts en ligne", "Idées pour la suite", "Mes photos sur la clé USB"]


def test_learner_hostile_or_unknown_files_get_a_french_message_never_a_500(client: Any, login_as: Any,
                                                                           db_session: Session) -> None:
    learner = login_as(Role.BENEFICIARY)
    for data, reason in [
        (BILLION_LAUGHS, "il est refusé par sécurité"),
        (zip_of({"leap2a.xml": b"<feed/>", "files/x.jpg": b"\0" * 10_000_000}), "anormalement compressée"),
        (b"<html><body>Mon blog</body></html>", "Ce fichier n'est pas reconnu"),
        (b"\x00\x01garbage", "pas un XML bien formé"),
    ]:
        response = upload(client, "/journal/importer", data, "blog.xml")
        assert response.status_code == 200 and reason in page_text(response), reason
    db_session.expire_all()
    assert db_session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(JournalEntry.owner_id == learner.id)) == 0


# --- The coordination's framework -------------------------------------------------------------------------


def test_coordinator_loads_a_new_framework_version(client: Any, login_as: Any, db_session: Session) -> None:
    login_as(Role.COORDINATOR)
    assert client.get("/coordination/referentiels/importer").status_code == 200
    source = (FRAMEWORKS_DIR / "pix-crcn-2019.yaml").read_bytes()
    new = re.sub(rb"\n  version: [^\n]*\n", b"\n  version: '2024'\n", source, count=1)
    page = page_text(upload(client, "/coordination/referentiels/importer", new, "pix.yaml"))
    assert "Nouvelle version chargée" in page and "version « 2024 » : 5 domaines, 16 compétences" in page
    db_session.expire_all()
    assert db_session.scalar(sa.select(sa.func.count(Framework.id)).where(Framework.code == "pix-crcn-2019")) == 2
    same = page_text(upload(client, "/coordination/referentiels/importer", source, "pix.yaml"))
    assert "Cette version est déjà chargée : rien n'a changé" in same
    changed = source.replace(b"title_fr:", b"title_fr: X", 1)
    refused = page_text(upload(client, "/coordination/referentiels/importer", changed, "pix.yaml"))
    assert "déjà chargée avec un autre contenu" in refused
