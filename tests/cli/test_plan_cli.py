"""``esp-image plan``: pieces on disk that rebuild the firmware, esptool commands esptool's own
parser accepts, the output directory rules, and bad requests (exit 2, one line)."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image import Image

from ..conftest import FIXTURES
from ..transforms.test_plan import FLASH_FILES

SECTOR = 0x1000


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd)


def _esptool_parse(command: str) -> tuple[str, dict[str, object]]:
    """The subcommand and its parameters as esptool 5's own click parser reads ``command``
    (files are opened, nothing is run); shlex and a plain reading without esptool."""
    words = shlex.split(command)
    assert words[0] == "esptool"
    try:
        import esptool
    except ImportError:
        return words[5], {"words": words[6:]}
    cli = esptool.cli
    cli._esp = None  # what EsptoolGroup.__call__ sets before it parses
    ctx = cli.make_context("esptool", words[1:])
    name, cmd, rest = cli.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
    assert cmd is not None and name is not None
    sub = cmd.make_context(name, rest, parent=ctx)
    return name, {**ctx.params, **sub.params}


def _pairs(params: dict[str, object]) -> list[tuple[int, str]]:
    if "words" in params:
        words = [w for w in params["words"] if not w.startswith("--")]  # type: ignore[attr-defined]
        words = [w for w in words if w not in ("dio", "qio", "dout", "qout") and
                 not w.endswith("B")]
        return [(int(a, 0), f) for a, f in zip(words[::2], words[1::2], strict=True)]
    pairs = params["addr_filename"]
    out = []
    for address, fh in pairs:  # type: ignore[attr-defined]
        out.append((address, fh.name))
        fh.close()
    return out


@pytest.mark.parametrize("path", FLASH_FILES, ids=lambda p: p.name)
def test_pieces_rebuild_the_firmware(tmp_path: Path, path: Path) -> None:
    src = tmp_path / path.name
    shutil.copy(path, src)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    result = run("plan", str(src), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    assert doc["output"] == str(tmp_path / (src.stem + "-plan"))
    image = Image.open(src).unwrapped()
    data, base = bytes(image.data), doc["base"]
    flash = bytearray(b"\xff") * len(data)
    for w in doc["writes"]:
        piece = Path(w["file"]).read_bytes()
        assert len(piece) == w["size"]
        flash[w["address"] - base:w["address"] - base + w["size"]] = piece
    assert flash == data
    assert sorted(p.name for p in Path(doc["output"]).iterdir()) == sorted(
        Path(w["file"]).name for w in doc["writes"])
    assert doc["bytes_written"] == sum(w["size"] for w in doc["writes"]) <= doc["file_size"]
    name, params = _esptool_parse(doc["esptool"])
    assert name == "write-flash"
    assert _pairs(params) == [(w["address"], w["file"]) for w in doc["writes"]]
    if "chip" in params:
        assert (params["chip"], params["port"]) == (doc["chip"], "PORT")  # --port now connects
        assert params["flash_mode"] == (doc["flash_mode"] or "keep")
        assert params["flash_size"] == (doc["flash_size"] or "keep")
    assert len(doc["erase_commands"]) == len(doc["erases"])
    for command, erase in zip(doc["erase_commands"], doc["erases"], strict=True):
        name, params = _esptool_parse(command)
        assert name == "erase-region"
        if "address" in params:
            assert (params["address"], params["size"]) == (erase["address"], erase["size"])


def test_text_output_and_keep(tmp_path: Path) -> None:
    src = tmp_path / "fw.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", src)
    result = run("plan", str(src), "--keep", "nvs", "--keep", "phy_init,factory",
                 "-o", str(tmp_path / "pieces"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "kept  factory" in out and "kept  nvs" in out
    assert "warning: factory is kept" in out
    assert "flash it with:" in out
    assert f"write-flash --flash-mode dio --flash-size 4MB 0x1000 {tmp_path}/pieces/" \
           "0x1000-bootloader.bin" in out
    assert "erase-region" not in out  # nvs and phy_init, the only erased parts, are kept
    assert sorted(p.name for p in (tmp_path / "pieces").iterdir()) == [
        "0x1000-bootloader.bin", "0x8000-partition-table.bin"]


def test_assume_erased_and_dry_run(tmp_path: Path) -> None:
    src = tmp_path / "fw.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", src)
    used = json.loads(run("plan", str(src), "--json", "--dry-run").stdout)
    assert used["written"] is False and not (tmp_path / "fw-plan").exists()
    assert [e["partition"] for e in used["erases"]] == ["nvs", "phy_init"]
    assert used["erase_commands"][0].endswith("erase-region 0x9000 0x6000")
    blank = json.loads(run("plan", str(src), "--json", "--dry-run", "--assume-erased").stdout)
    assert blank["erases"] == [] and blank["erase_commands"] == []
    assert blank["writes"] == used["writes"]


def test_default_directory_is_not_overwritten(tmp_path: Path) -> None:
    src = tmp_path / "fw.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", src)
    assert run("plan", str(src)).returncode == 0
    again = run("plan", str(src))
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "--force" in again.stderr
    assert run("plan", str(src), "--force").returncode == 0
    # An explicit -o may name an existing directory; a file is not one.
    assert run("plan", str(src), "-o", str(tmp_path / "fw-plan")).returncode == 0
    result = run("plan", str(src), "-o", str(src))
    assert result.returncode == 2 and "not a directory" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--keep", "nosuch"], "no such partition; there are bootloader, partition-table"),
    (["--bogus"], "No such option"),
])
def test_bad_requests_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    src = tmp_path / "fw.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", src)
    result = run("plan", str(src), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "fw-plan").exists()


@pytest.mark.parametrize("name", ["esp32-app.bin", "missing.bin"])
def test_unusable_input_exits_2(tmp_path: Path, name: str) -> None:
    result = run("plan", str(FIXTURES / name), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_json_document_is_documented(tmp_path: Path) -> None:
    from .test_json_doc import assert_matches

    src = tmp_path / "fw.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", src)
    doc = json.loads(run("plan", str(src), "--json", "--keep", "factory").stdout)
    assert_matches("Plan document", doc)
    assert doc["writes"] and doc["erases"] and doc["left"] and doc["warnings"]
    for piece in doc["writes"]:
        assert_matches("Plan piece", piece)
    for piece in doc["erases"] + doc["left"]:
        assert_matches("Plan piece", piece)
        assert "file" not in piece
    everything_kept = json.loads(run("plan", str(src), "--json", "--dry-run", "--force",
                                     "--keep", "bootloader,partition-table,factory").stdout)
    assert everything_kept["writes"] == [] and everything_kept["esptool"] is None
    assert_matches("Plan document", everything_kept)
