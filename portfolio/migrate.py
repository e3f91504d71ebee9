"""Alembic, driven from the application: migrations are never run implicitly, only by
``ticketnet init`` or ``ticketnet db upgrade``."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from portfolio import asset_dir
from portfolio.extensions import db


def alembic_config(app: Flask) -> Config:
    config = Config()
    config.set_main_option("script_location", str(asset_dir("migrations")))
    config.attributes["engine"] = db.state(app).engine
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    command.upgrade(alembic_config(app), revision)


def current_revision(app: Flask) -> str | None:
    with db.state(app).engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(app: Flask) -> str | None:
    return ScriptDirectory.from_config(alembic_config(app)).get_current_head()


def downgrade(app: Flask, revision: str) -> None:
    command.downgrade(alembic_config(app), revision)
