"""Only what pyproject.toml cannot say: the package list, found from the source tree, plus the
top-level templates/, static/ and migrations/ folders installed inside the portfolio package; and the
English catalogue compiled (.po -> .mo) whenever the package is built, so that an install from a clean
checkout speaks English too."""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ASSETS = ["portfolio.templates", "portfolio.static", "portfolio.migrations"]
TRANSLATIONS = Path(__file__).resolve().parent / "portfolio" / "translations"


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
            with po.open("rb") as source:
                catalogue = read_po(source)
            with po.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalogue)
        super().run()


setup(
    packages=find_packages(include=["portfolio", "portfolio.*", "competences", "competences.*",
                                    "importers", "importers.*"]) + ASSETS,
    cmdclass={"build_py": BuildWithCatalogues},
)
