"""In the browser: a prescriber uploads a faulty spreadsheet, reads the problems by line, uploads the
corrected file and issues the tickets; a learner brings an old blog into the journal. axe-core on
every page of the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import assert_accessible, sign_in

FIXTURES = Path(__file__).parents[1] / "fixtures" / "importers"
FAULTY = ("Nom;Prénom;Date de naissance;Commune;Téléphone;Public\r\n"
          "Delmas;Jean;14/03/1951;Cahors;;seniors\r\n"  # already holds a ticket in the demo
          "Lavergne;Henriette;31/02/1946;Martel;05 65 37 00 00;seniors\r\n"
          "Costes;Rémi;12/06/1979;Bagnac-sur-Célé;;travailleurs\r\n"
          "Falret;Nadia;03/09/1988;Lacapelle-Marival;;femmes-isolees\r\n").encode("cp1252")
CORRECTED = ("Nom;Prénom;Date de naissance;Commune;Téléphone;Public\r\n"
             "Lavergne;Henriette;28/02/1946;Martel;05 65 37 00 00;seniors\r\n"
             "Costes;Rémi;12/06/1979;Bagnac-sur-Célé;;salaries-peu-qualifies\r\n"
             "Falret;Nadia;03/09/1988;Lacapelle-Marival;;femmes-isolees\r\n").encode("cp1252")


def choose_file(page: Any, name: str, data: bytes, mime: str = "text/csv") -> None:
    page.get_by_label("Le fichier (CSV ou Excel .xlsx)").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data})


def test_prescriber_uploads_a_faulty_file_reads_the_errors_then_uploads_the_corrected_one(page: Any) -> None:
    sign_in(page, "prescripteur.cg46")
    page.get_by_role("link", name="Importer un fichier").first.click()
    page.wait_for_url("**/tickets/importer")
    assert_accessible(page)

    choose_file(page, "beneficiaires-avril.csv", FAULTY)
    page.get_by_role("button", name="Vérifier le fichier").click()
    summary = page.locator("#import-summary").inner_text()
    assert summary == "4 personnes lues. 1 ticket peut être émis. 3 lignes ont un problème."
    problems = page.get_by_role("alert").inner_text()
    assert "Aucun ticket n'a été émis" in problems
    assert "Ligne 2 : cette personne a déjà un Ticket Net en cours de validité." in problems
    assert "Ligne 3 : « 31/02/1946 » n'est pas une date de naissance (JJ/MM/AAAA)." in problems
    assert "Ligne 4 : « travailleurs » n'est pas un public connu" in problems
    assert page.get_by_role("button", name="Émettre seulement le ticket correct").is_visible()
    assert_accessible(page)

    choose_file(page, "beneficiaires-avril-corrige.csv", CORRECTED)
    page.get_by_role("button", name="Vérifier le fichier corrigé").click()
    assert page.locator("#import-summary").inner_text() == "3 personnes lues. 3 tickets peuvent être émis."
    assert page.get_by_text("Le fichier est correct.").is_visible()
    assert page.get_by_role("alert").count() == 0
    assert "Bagnac-sur-Célé" in page.locator("table").inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Émettre les 3 tickets").click()
    assert page.locator("h1").inner_text() == "Tickets émis"
    assert "3 tickets émis depuis le fichier « beneficiaires-avril-corrige.csv »" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Imprimer les 3 tickets").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Liste des tickets").first.click()
    listing = page.locator("main").inner_text()
    assert "Lavergne" in listing and "Falret" in listing


def test_learner_imports_an_old_blog(page: Any) -> None:
    sign_in(page, "marie.dupont")
    page.get_by_role("link", name="Importer mon ancien blog").click()
    assert_accessible(page)
    page.get_by_label("Le fichier de mon ancien blog ou portfolio").set_input_files(str(FIXTURES / "blogger-atom.xml"))
    page.get_by_role("button", name="Importer").click()
    assert page.get_by_role("status").first.inner_text() == "3 articles ajoutés à mon journal."
    main = page.locator("main").inner_text()
    assert "Ma tablette & moi" in main and "Mots-clés : tablette, Ateliers EPM" in main
    assert "Commentaire « Bravo Simone » : commentaire d'un lecteur : non importé." in main
    assert_accessible(page)
