"""Board transfers show a progress bar only on a terminal and only past one second."""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING

from esp_image.cli import board

if TYPE_CHECKING:
    import pytest


def test_no_bars_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert board.progress_bars() is None


def test_a_bar_appears_only_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(board.time, "monotonic", lambda: now[0])
    bar = board._Bar("reading 0x10000", 0x10000)
    bar(0x1000)
    now[0] += 0.5
    bar(0x2000)
    assert bar.shown is None  # a quick transfer never shows one
    now[0] += 0.6
    bar(0x3000)
    assert bar.shown is not None
    progress, _task = bar.shown
    assert progress.tasks[0].completed == 0x3000
    bar(0x10000)
    assert progress.finished
    quick = board._Bar("writing", 0x1000)
    now[0] += 5
    quick(0x1000)  # done before it was ever shown: nothing to show
    assert quick.shown is None
