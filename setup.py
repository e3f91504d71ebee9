"""Only what pyproject.toml cannot say: the package list, found from the source tree, plus the
top-level templates/, static/ and migrations/ folders installed inside the portfolio package."""

from setuptools import find_packages, setup

ASSETS = ["portfolio.templates", "portfolio.static", "portfolio.migrations"]

setup(packages=find_packages(include=["portfolio", "portfolio.*", "competences", "competences.*",
                                      "importers", "importers.*"]) + ASSETS)
