"""The repository documents itself: every relative link resolves inside it, outside
links are public https pages, nothing points at the team's private notes, and the files
a package is expected to carry are there."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dataman import __version__
from tests.conftest import REPO

#: The pages whose links are checked.
PAGES = sorted({REPO / "README.md", REPO / "CHANGELOG.md", REPO / "systemd" / "README.md",
                REPO / "dataman" / "tui" / "README.md", REPO / "benchmarks" / "README.md",
                *(REPO / "docs").glob("*.md")})
#: ``[text](target)`` and ``![alt](target)``; a title after the target is allowed.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: Not part of the repository: tools' folders, the venv, build output, demo data.
SKIPPED = {".git", ".venv", "venv", "var", "build", "dist", "__pycache__", ".pytest_cache",
           ".ruff_cache", ".mypy_cache", ".hypothesis", "node_modules"}
#: What no file may say: the reference notes live outside the repository.
FORBIDDEN = ("../" + "shared", "SPEC" + " §")


def links(page: Path) -> list[str]:
    """The link targets of a markdown page, code blocks and code spans left out."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    return LINK.findall(text)


def anchors(page: Path) -> set[str]:
    """The fragment names GitHub gives the headings of ``page``."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading[1].replace("`", "").lower())
            found.add(text.replace(" ", "-"))
    return found


def repository_files() -> list[Path]:
    files = []
    for folder, subfolders, names in os.walk(REPO):
        subfolders[:] = [name for name in subfolders
                         if name not in SKIPPED and not name.endswith(".egg-info")]
        files += [Path(folder) / name for name in names]
    return files


def test_every_page_exists_and_has_links():
    assert all(page.is_file() for page in PAGES)
    assert {page.name for page in (REPO / "docs").glob("*.md")} >= {
        "README.md", "processing.md", "architecture.md", "operations.md", "configuration.md",
        "commands.md"}
    assert all(links(page) for page in PAGES if page.parent == REPO / "docs")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_relative_links_resolve_inside_the_repository(page: Path):
    problems = []
    for target in links(page):
        scheme = re.match(r"^([a-z][a-z0-9+.-]*):", target)
        if scheme:
            problems += external_link_problems(target, scheme[1])
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.is_relative_to(REPO):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            problems.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert problems == []


def external_link_problems(target: str, scheme: str) -> list[str]:
    """A page may cite the outside world (the FITS standard, systemd's manual) over https;
    a local file, a plain-http page or a machine of ours is no link a reader can follow,
    and the repository's own files are linked relatively, so they resolve in any clone."""
    if scheme != "https":
        return [f"{target}: only https links leave the repository"]
    host = re.match(r"^https://([^/:]+)", target)
    if host is None or host[1] in {"localhost", "127.0.0.1"} or "." not in host[1]:
        return [f"{target}: not a public address"]
    if re.search(r"/dataman/(?:blob|tree)/", target, flags=re.IGNORECASE):
        return [f"{target}: link the repository's own files relatively"]
    return []


@pytest.mark.parametrize(("target", "ok"), [
    ("https://fits.gsfc.nasa.gov/fits_standard.html", True),
    ("https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html", True),
    ("http://example.org/page", False),
    ("file:///etc/dataman/dataman.ini", False),
    ("https://localhost:8080/report.html", False),
    ("https://github.com/someone/dataman/blob/main/docs/processing.md", False),
])
def test_the_external_link_rule(target: str, ok: bool):
    scheme = target.split(":", 1)[0]
    assert (external_link_problems(target, scheme) == []) is ok


def test_the_anchor_rule_matches_githubs():
    # Worked out by hand from GitHub's rule: lower case, punctuation dropped, spaces to '-'.
    page = REPO / "systemd" / "README.md"
    assert "6-how-the-unit-behaves" in anchors(page)
    assert "7-other-folders-adapting-readwritepaths" in anchors(page)


def test_no_file_points_at_the_teams_private_notes():
    offenders = []
    for path in repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary
        offenders += [f"{path.relative_to(REPO)}: {word}" for word in FORBIDDEN if word in text]
    assert offenders == []


def test_licence_changelog_and_type_marker_are_there():
    licence = (REPO / "LICENSE").read_text()
    assert licence.startswith("BSD 3-Clause License")
    assert "The dataMan developers" in licence
    assert "Neither the name of the copyright holder" in licence
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert "\n## Unreleased\n" in changelog and f"\n## {__version__}\n" in changelog
    assert (REPO / "dataman" / "py.typed").is_file()
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'license = "BSD-3-Clause"' in pyproject
    assert re.search(r'^dataman = \[.*"py\.typed".*\]$', pyproject, flags=re.MULTILINE)
