"""Coordination figures: the dashboard, its charts, the EPM payment statements, anomaly flags and the
prescriber's outcome summary. Every figure is an SQL aggregate; nothing loops over rows in Python."""
