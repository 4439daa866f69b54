"""Ctrl-C while a board is being written: the same account as a lost connection (which
sectors were written and checked, which one was being written, where the backup is), exit
128 + SIGINT, one line."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .test_board_inspect import FLASH, flash_of

pytest.importorskip("esptool")


def test_ctrl_c_mid_write_names_the_sectors_and_the_backup(sim_board: Callable[..., Any],
                                                           tmp_path: Path) -> None:
    before = flash_of()
    board = sim_board(before, size=FLASH)
    proc = subprocess.Popen(
        [sys.executable, "-m", "esp_image", "flash-params", "--freq", "80m", "--port",
         board.port], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def interrupt(blocks: int) -> None:
        if blocks == 1:
            proc.send_signal(signal.SIGINT)
    board.on_block = interrupt
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, out + err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("esp-image: interrupted; sectors written and checked: none; "
                          "being written when it failed (contents unknown): 0x1000-0x2000")
    backup = next(tmp_path.glob("esp-image-backup-*.bin"))
    assert err.rstrip().endswith(f"backup: {backup.name}")
    saved = backup.read_bytes()  # from the first sector to change to the last
    assert len(saved) % 0x1000 == 0 and saved == before[0x1000:0x1000 + len(saved)]
