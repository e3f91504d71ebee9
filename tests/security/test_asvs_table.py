"""docs/security.md names the test that proves each line of its ASVS table: every test it names exists (a renamed
or removed test fails here, so that the table stays true)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
CODE = re.compile(r"`([^`]+)`")


@cache
def names_in(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                     and node.name.startswith("test_"))


def find_files(name: str) -> list[Path]:
    """The test files of that name (``test_journal.py`` is in tests/ and in tests/browser/)."""
    name = name.removeprefix("tests/")
    return [folder / name for folder in (TESTS, TESTS / "security", TESTS / "browser") if (folder / name).is_file()]


def matches(fragment: str, names: frozenset[str]) -> bool:
    if fragment.startswith("…") or fragment.endswith("…"):
        return any(fragment.strip("…") in name for name in names)
    return fragment in names


def citations(text: str) -> list[tuple[int, str, str]]:
    """(line, file, test) for every test named on a line of the document; a bare ``test_…`` or ``…part…`` is in
    the file named before it on the same line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        current: str | None = None
        for code in CODE.findall(line):
            if "::" in code and code.split("::")[0].endswith(".py"):
                current, test = code.split("::", 1)
                found.append((number, current, test))
            elif code.endswith(".py") and code.split("/")[-1].startswith("test_"):
                current = code
                found.append((number, code, ""))
            elif current and re.fullmatch(r"…?test_[a-z0-9_]+…?|…[a-z0-9_]+…?", code):
                found.append((number, current, code))
    return found


def test_every_test_the_security_page_names_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    cited = citations(text)
    assert len(cited) >= 100
    problems = []
    for line, file, test in cited:
        paths = find_files(file)
        if not paths:
            problems.append(f"line {line}: no test file {file}")
        elif test and not any(matches(test, names_in(path)) for path in paths):
            problems.append(f"line {line}: no test {test} in {file}")
    assert problems == []


def test_the_checker_sees_a_missing_test() -> None:
    assert citations("| x | `test_limits.py::test_never_written`, `test_neither` |") == [
        (1, "test_limits.py", "test_never_written"), (1, "test_limits.py", "test_neither")]
    assert not matches("test_never_written", names_in(TESTS / "test_limits.py"))
    assert matches("…hammering_her_name…", names_in(TESTS / "test_limits.py"))
