"""The examples write the HTML report beside the firmware (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_examples_more import (
    StandInEnv,
    damage,
    load_pio_script,
    pio_build_dir,
    workflow_steps,
)


def test_platformio_writes_the_report_beside_the_firmware(tmp_path: Path) -> None:
    build = pio_build_dir(tmp_path)
    callback = load_pio_script()["esp_image_post_build"]
    assert callable(callback)
    assert callback([], [], StandInEnv(BUILD_DIR=str(build), PROGNAME="firmware")) == 0
    page = (build / "firmware-report.html").read_text()
    assert "verdict: valid" in page and "<svg" in page


def test_platformio_writes_the_report_of_damaged_firmware_too(tmp_path: Path) -> None:
    build = pio_build_dir(tmp_path)
    damage(build / "firmware.bin")
    callback = load_pio_script()["esp_image_post_build"]
    assert callable(callback)
    with pytest.raises(SystemExit):
        callback([], [], StandInEnv(BUILD_DIR=str(build), PROGNAME="firmware"))
    assert "verdict: INVALID" in (build / "firmware-report.html").read_text()


def test_workflow_writes_and_uploads_the_html_report_always() -> None:
    steps = workflow_steps()
    runs = [str(s.get("run", "")) for s in steps]
    write = next(i for i, r in enumerate(runs) if "--html report.html" in r)
    upload = next(i for i, s in enumerate(steps) if isinstance(s.get("with"), dict)
                  and s["with"].get("path") == "report.html")  # type: ignore[union-attr]
    assert write < upload
    assert steps[write].get("if") == steps[upload].get("if") == "always()"
