"""pyproject metadata a user and PyPI see: project links, supported Python versions, what the
sdist carries and which extra pulls in the packaging tools (issue 12, item 25)."""

from __future__ import annotations

import re
import sys

import pytest

from ..conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_project_urls_point_at_the_repository() -> None:
    urls = PROJECT["urls"]
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= set(urls)
    for url in urls.values():
        assert url.startswith("https://github.com/esp-image/esp-image"), url


def test_classifiers_name_every_supported_python() -> None:
    minimum = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert minimum is not None
    versions = {int(m) for c in PROJECT["classifiers"]
                for m in re.findall(r"^Programming Language :: Python :: 3\.(\d+)$", c)}
    assert versions == set(range(int(minimum.group(1)), 14))


def test_packaging_tools_are_dev_not_test_dependencies() -> None:
    extras = PROJECT["optional-dependencies"]

    def names(extra: str) -> set[str]:
        return {re.split(r"[<>=~\[ ]", req)[0] for req in extras[extra]}

    assert not {"build", "twine"} & names("test")
    assert {"build", "twine"} <= names("dev")


def test_sdist_carries_every_root_document() -> None:
    include = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    for doc in sorted(ROOT.glob("*.md")):
        assert doc.name in include, doc.name
    assert "LICENSE" in include
