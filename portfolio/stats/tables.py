"""The dashboard's figures as data tables: each one is drawn as a chart, shown as an accessible table and
offered as CSV, from the same rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from portfolio.stats import charts
from portfolio.stats.services import (
    SHOWN_GROUPS,
    CompetenceRow,
    Dashboard,
    Figures,
    ModuleRow,
    largest_groups,
)
from portfolio.tickets.models import TicketStatus
from portfolio.tickets.services import STATUS_LABELS


@dataclass
class DataTable:
    key: str  # also the CSV file name
    title: str
    header: list[str]
    rows: list[list[Any]]
    chart: Markup | None = None
    note: str = ""
    numeric: set[int] = field(default_factory=set)  # columns aligned right
    # every row, when the page shows only the largest groups (made only for the CSV: there may be thousands)
    csv_rows: Callable[[], list[list[Any]]] | None = None

    @property
    def export_rows(self) -> list[list[Any]]:
        return self.rows if self.csv_rows is None else self.csv_rows()


def hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def _average(f: Figures) -> str:
    return "" if f.average_hours is None else f"{f.average_hours:.1f}".replace(".", ",")


def _group_row(f: Figures) -> list[Any]:
    return [f.label, f.total, *[f.counts[s] for s in TicketStatus], hours(f.minutes_used), _average(f)]


def _by_group(key: str, title: str, first: str, groups: list[Figures], note: str = "",
              hidden: int | None = None) -> DataTable:
    """A table of groups. ``hidden`` None: every group is here (the page shows the largest, the CSV all of
    them); a number: the groups were cut down for the page already, their last row adds up that many."""
    header = [first, _("Total"), *[str(STATUS_LABELS[s]) for s in TicketStatus], _("Heures suivies"),
              _("Heures par ticket inscrit")]
    everything = groups
    if hidden is None:
        groups, hidden = largest_groups(groups)
    if hidden:
        groups = groups[:-1] + [replace(groups[-1], label=ngettext("%(num)d autre", "Les %(num)d autres", hidden))]
        note = " ".join(filter(None, (note, _("Les %(num)d plus grands sont affichés ; le fichier CSV les donne "
                                                "tous.", num=SHOWN_GROUPS - 1))))
    chart = charts.bar_chart(title, [(f.label, (f.total, f.completed)) for f in groups],
                             _("Nombre de tickets émis et terminés ; les chiffres sont dans le tableau."),
                             series=(_("émis"), _("terminés")))
    return DataTable(key, title, header, [_group_row(f) for f in groups], chart, note,
                     numeric=set(range(1, len(header))), csv_rows=lambda: [_group_row(f) for f in everything])


def status_table(d: Dashboard) -> DataTable:
    title = _("Tickets par état")
    rows = [[str(STATUS_LABELS[s]), d.overall.counts[s]] for s in TicketStatus]
    chart = charts.bar_chart(title, [(label, n) for label, n in rows], _("Nombre de tickets dans chaque état."))
    return DataTable("etats", title, [_("État"), _("Tickets")], rows, chart,
                     _("« Expiré » : la date de validité est passée sans que le ticket soit terminé."), {1})


def funnel_table(d: Dashboard, sessions: int) -> DataTable:
    title = _("Du ticket à la certification")
    names = {
        "issued": _("Tickets émis"),
        "registered": _("Inscrits dans un EPM"),
        "first_session": _("Première séance suivie"),
        "all_sessions": ngettext("%(num)d séance suivie", "%(num)d séances suivies", sessions),
        "file_sent": _("Dossier de preuves envoyé"),
        "ready": _("Prêts pour la certification"),
    }
    issued = d.overall.total
    rows = [[names[step], n, f"{100 * n / issued:.0f} %" if issued else ""] for step, n in d.overall.steps]
    chart = charts.bar_chart(title, [(r[0], r[1]) for r in rows], _("Combien de tickets atteignent chaque étape."))
    return DataTable("parcours", title, [_("Étape"), _("Tickets"), _("Part des tickets émis")], rows, chart,
                     _("Chaque étape compte les tickets qui l'ont atteinte, quel que soit leur état aujourd'hui."),
                     {1, 2})


def years_table(d: Dashboard) -> DataTable:
    title = _("Bénéficiaires par an et objectif")
    t = d.targets
    rows = [[f.label, f.beneficiaries, f.registered, t["target"], t["low"], t["high"]] for f in d.by_year]
    chart = charts.column_chart(
        title, [(f.label, f.beneficiaries) for f in d.by_year],
        _("Bénéficiaires par année d'émission du ticket, avec l'objectif et les hypothèses basse et haute."),
        references=[charts.Reference(_("haute %(num)d", num=t["high"]), t["high"], "chart-ref-high"),
                    charts.Reference(_("objectif %(num)d", num=t["target"]), t["target"]),
                    charts.Reference(_("basse %(num)d", num=t["low"]), t["low"], "chart-ref-low")])
    return DataTable("annees", title, [_("Année"), _("Bénéficiaires"), _("Inscrits dans un EPM"), _("Objectif"),
                                        _("Hypothèse basse"), _("Hypothèse haute")], rows, chart,
                     _("Bénéficiaires : tickets émis dans l'année, sauf les tickets annulés."), {1, 2, 3, 4, 5})


def months_table(d: Dashboard) -> DataTable:
    title = _("Tickets émis par mois")
    header = [_("Mois"), _("Total"), *[str(STATUS_LABELS[s]) for s in TicketStatus]]
    rows = [[f.label, f.total, *[f.counts[s] for s in TicketStatus]] for f in d.by_month]
    chart = charts.column_chart(title, [(f.label, f.total) for f in d.by_month],
                                _("Nombre de tickets émis chaque mois."))
    return DataTable("mois", title, header, rows, chart, _("État actuel des tickets émis chaque mois."),
                     set(range(1, len(header))))


def modules_table(modules: list[ModuleRow]) -> DataTable:
    title = _("Modules choisis et ateliers tenus")
    rows = [[f"{m.number}. {m.title}", m.chosen, m.held] for m in modules]
    chart = charts.bar_chart(title, [(r[0], (r[1], r[2])) for r in rows],
                             _("Pour chaque module : parcours qui le contiennent et ateliers tenus."),
                             series=(_("choisi dans un parcours"), _("ateliers tenus")), label_width=260)
    return DataTable("modules", title, [_("Module"), _("Parcours qui le contiennent"), _("Ateliers tenus")], rows,
                     chart, _("Ateliers tenus : séances commencées et non annulées."), {1, 2})


def competences_table(rows_in: list[CompetenceRow]) -> DataTable:
    title = _("Compétences validées (B2i Adultes)")
    rows = [[r.domain, r.code, r.title, r.learners] for r in rows_in]
    chart = charts.bar_chart(title, [(f"{r.code} {r.title}", r.learners) for r in rows_in],
                             _("Nombre d'apprenants pour qui chaque compétence est validée."), label_width=260)
    return DataTable("competences", title, [_("Domaine"), _("Compétence"), _("Intitulé"), _("Apprenants")], rows,
                     chart, _("Validée : le dernier avis de l'animateur ou de l'évaluateur dit « acquis »."), {3})


def dashboard_tables(d: Dashboard, sessions: int) -> dict[str, DataTable]:
    none = _("Pas encore inscrit")

    def hidden(group: str) -> int | None:  # None: the whole dashboard, cut here for the page
        return None if d.hidden is None else d.hidden[group]

    tables = [
        status_table(d),
        funnel_table(d, sessions),
        years_table(d),
        months_table(d),
        _by_group("prescripteurs", _("Tickets par prescripteur"), _("Prescripteur"), d.by_prescriber,
                  hidden=hidden("by_prescriber")),
        _by_group("epm", _("Tickets par EPM"), _("EPM"), d.by_epm,
                  _("Un ticket compte pour l'EPM de sa dernière inscription ; « %(none)s » : jamais inscrit.",
                    none=none), hidden=hidden("by_epm")),
        _by_group("publics", _("Tickets par public"), _("Public"), d.by_public, hidden=hidden("by_public")),
        modules_table(d.modules),
    ]
    return {t.key: t for t in tables}


