"""Shared test helpers: the real-world corpus (skipped when absent) and project fixtures."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI runs the property tests derandomized, so a run is reproducible; locally they explore.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# ESP_IMAGE_CORPUS points the suite at another corpus folder (or at a missing one, to run it as a
# fresh clone without ../shared would).
CORPUS = Path(os.environ.get("ESP_IMAGE_CORPUS") or ROOT.parent / "shared" / "corpus")
MANIFEST = CORPUS / "MANIFEST.tsv"
# The second corpus (issue 14's real-world shapes) sits beside the first, with its own manifest.
CORPUS2 = CORPUS.parent / "corpus-2"
CORPORA = (CORPUS, CORPUS2)
CORPUS_ABSENT = "../shared/corpus absent"
# Every skip that only says the corpus is missing, however a test words it.
_CORPUS_SKIP = re.compile(r"corpus(-2)? (file \S+ )?(not available|absent)"
                          r"|needs \.\./shared/corpus|got empty parameter set")
_FOLDED = (str(Path(__file__).relative_to(ROOT)), 0,
           f"Skipped: {CORPUS_ABSENT}: corpus-only cases (the fixtures/ cases ran)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fold corpus-absent skips into one ``-ra`` line, so a clone without ../shared gets a
    short summary in which any other skip stands out."""
    report = yield
    if (report.skipped and isinstance(report.longrepr, tuple)
            and _CORPUS_SKIP.search(str(report.longrepr[2]))):
        report.longrepr = _FOLDED
    return report


def corpus_rows() -> list[dict[str, str]]:
    """Rows of the MANIFEST.tsv of ../shared/corpus and ../shared/corpus-2 (those present),
    each with ``path``: the file's full path."""
    rows: list[dict[str, str]] = []
    for folder in CORPORA:
        manifest = folder / "MANIFEST.tsv"
        if manifest.is_file():
            with manifest.open(newline="") as fh:
                rows += [{"path": str(folder / r["local_file"]), **r}
                         for r in csv.DictReader(fh, delimiter="\t")]
    return rows


def corpus_files(predicate=lambda row: True) -> list[Path]:  # type: ignore[no-untyped-def]
    """Corpus paths (both corpora) whose manifest row satisfies ``predicate`` (empty when
    absent)."""
    return [Path(r["path"]) for r in corpus_rows() if predicate(r)]


def corpus_path(name: str) -> Path:
    """Path of one corpus file (either corpus); skips the calling test when it is absent."""
    for folder in CORPORA:
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"corpus file {name} not available ({CORPUS_ABSENT})")


def fixture_path(name: str) -> Path:
    """Path of one project fixture in fixtures/."""
    return FIXTURES / name


def input_path(name: str) -> Path:
    """A project fixture by that name, else the corpus file (skipping when it is absent), so
    one parameter list can hold both."""
    fixture = FIXTURES / name
    return fixture if fixture.is_file() else corpus_path(name)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (start-up and import-state tests need one)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)


@pytest.fixture
def sim_board(tmp_path: Path) -> Generator[Callable[..., Any], None, None]:
    """Start simulated ESP32 boards (tests/sim/serial_board.py; ``chip="esp32s3"`` for an
    ESP32-S3) on flash files made from bytes (padded with 0xFF to ``size``); every board
    started is stopped after the test."""
    from .sim.serial_board import SimulatedBoard

    started: list[SimulatedBoard] = []

    def start(content: bytes = b"", size: int = 0x100000, **kwargs: Any) -> SimulatedBoard:
        path = tmp_path / f"board{len(started)}.flash"
        path.write_bytes(content.ljust(size, b"\xff"))
        board = SimulatedBoard(path, **kwargs).__enter__()
        started.append(board)
        return board

    yield start
    for board in started:
        board.__exit__(None, None, None)
