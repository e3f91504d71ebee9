"""Stored credentials and production defaults: argon2id with a unique salt per hash and memory-hard
parameters; no demo (shared, default) accounts in production; secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

from argon2 import extract_parameters

from portfolio import create_app
from portfolio.auth.passwords import _hasher
from tests.conftest import production_overrides


def test_production_hashes_are_argon2id_memory_hard_with_unique_salts() -> None:
    hasher = _hasher("")  # the production profile (the tests use a cheaper one)
    first, second = hasher.hash("la même phrase de passe"), hasher.hash("la même phrase de passe")
    assert first != second  # a random salt for each hash
    parameters = extract_parameters(first)
    assert first.startswith("$argon2id$")
    assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2  # OWASP's minimum for argon2id
    assert parameters.salt_len >= 16
    assert hasher.verify(first, "la même phrase de passe")


def test_no_demo_accounts_in_production(tmp_path: Path) -> None:
    app = create_app(production_overrides(tmp_path))
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1 and "refusées en mode production" in result.output
