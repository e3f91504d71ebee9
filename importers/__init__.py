"""File importers: prescribers' spreadsheets of tickets, journals from other portfolios and blogs,
competence frameworks.

One module per format. Each parser is a pure function from bytes to records plus a report of
problems (by line, in French); it raises nothing but :class:`importers.errors.ImportRefused`, and only
for a file it cannot read at all. Applying the records to the database is a separate step
(``apply_tickets``, ``apply_journal``, ``framework.apply_framework``): all or nothing, or, when the
person explicitly asks for it, only the valid rows.
"""
