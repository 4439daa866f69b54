"""Issue 12, items 1 and 9: the boot answer is what ESP-IDF's bootloader really starts, and
``otadata FILE`` without a change option only reads.

The bootloader first selects an index from otadata (``bootloader_utility_get_selected_boot_
partition``), then ``bootloader_utility_load_boot_image`` tries that index, every lower one
down to the factory app, then the higher OTA slots, then the test app, and starts the first
whose app loads. The oracle below is written from that documented order (otadata.md §5.1 and
the ESP-IDF source), not taken from esp_image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esp_image import Image
from esp_image.formats import otadata as fmt
from esp_image.otadata import OtaData, OtaEntry
from esp_image.partition_table import PartitionTable
from esp_image.transforms.ota import otadata_for

from ..conftest import FIXTURES

BASE = 0x1000  # a merged firmware starts at the ESP32 bootloader
SLOT = 0x30000  # the fixture app is 0x24050 bytes
FIRST_APP = 0x10000
BOOTLOADER = (FIXTURES / "esp32-bootloader.bin").read_bytes()
APP = (FIXTURES / "esp32-app.bin").read_bytes()
UNDEFINED = 0xFFFFFFFF


def damaged(kind: str) -> bytes | None:
    """What an app partition holds: a good app, nothing (erased), a bad checksum, junk."""
    if kind == "valid":
        return APP
    if kind == "erased":
        return None
    if kind == "bad":
        bad = bytearray(APP)
        bad[0x3000] ^= 0x01  # segment data: checksum and SHA-256 no longer match
        return bytes(bad)
    assert kind == "junk"
    return b"\x00" * 0x100


def flash(apps: list[tuple[str, str, str]], *, otadata: OtaData | None = None,
          with_otadata: bool = True, cover: int | None = None) -> bytes:
    """A merged firmware from 0x1000: bootloader, table, otadata and the given app partitions.

    ``apps`` lists (name, subtype, contents) in table order, each ``SLOT`` bytes from 0x10000;
    ``cover`` cuts the file at that flash address (partitions past it are not in the file).
    """
    rows = ["nvs, data, nvs, 0x9000, 0x4000,"]
    if with_otadata:
        rows.append("otadata, data, ota, 0xd000, 0x2000,")
    for i, (name, subtype, _) in enumerate(apps):
        rows.append(f"{name}, app, {subtype}, {FIRST_APP + i * SLOT:#x}, {SLOT:#x},")
    end = FIRST_APP + len(apps) * SLOT if cover is None else cover
    out = bytearray(b"\xff" * (end - BASE))
    out[0:len(BOOTLOADER)] = BOOTLOADER
    table = PartitionTable.from_csv("\n".join(rows) + "\n").to_bytes()
    out[0x8000 - BASE:0x8000 - BASE + len(table)] = table
    if with_otadata and otadata is not None:
        out[0xD000 - BASE:0xF000 - BASE] = otadata.to_bytes()
    for i, (_, _, kind) in enumerate(apps):
        data = damaged(kind)
        at = FIRST_APP + i * SLOT - BASE
        if data is not None and at < len(out):
            out[at:at + len(data)] = data[:len(out) - at]
    return bytes(out)


def records(*seqs: int | None, states: tuple[int, int] = (UNDEFINED, UNDEFINED)) -> OtaData:
    """otadata with copy 0 and copy 1 holding these sequence numbers (None = erased)."""
    entries = [OtaEntry.erased() if seq is None else OtaEntry.make(seq, state)
               for seq, state in zip(seqs, states, strict=True)]
    return OtaData((entries[0], entries[1]))


# ------------------------------------------------------------------ the oracle (ESP-IDF)
FACTORY, TEST = -1, -2


def idf_boot(apps: list[tuple[str, str, str]], seqs: tuple[int | None, int | None] | None
             ) -> tuple[int | None, list[int]]:
    """(index that starts or None, indices tried and rejected), by ESP-IDF's documented rules.

    Only what the property test generates: records with good CRCs and state UNDEFINED (or
    erased), ``seqs`` None for a table without otadata.
    """
    ota = {int(s[4:]): kind for _, s, kind in apps if s.startswith("ota_")}
    app_count = len(ota)  # every ota_N partition counts, gaps included
    factory = next((kind for _, s, kind in apps if s == "factory"), None)
    test = next((kind for _, s, kind in apps if s == "test"), None)
    # Selection.
    if seqs is None:
        start = FACTORY
    else:
        valid = [s for s in seqs if s is not None]
        if not valid or app_count == 0:
            start = FACTORY if factory is not None else 0
        else:
            start = (max(valid) - 1) % app_count
    # Loading: the partition at an index (OTA slots only below app_count), in the loader's order.

    def kind_at(index: int) -> str | None:
        if index == FACTORY:
            return factory
        if index == TEST:
            return test
        return ota.get(index) if 0 <= index < app_count else None

    order = [*range(start, FACTORY - 1, -1), *range(start + 1, app_count), TEST]
    rejected = []
    for index in order:
        kind = kind_at(index)
        if kind is None:
            continue
        if kind == "valid":
            return index, rejected
        rejected.append(index)
    return None, rejected


def name(index: int | None) -> str:
    return {None: "none", FACTORY: "factory", TEST: "test"}.get(index, f"ota_{index}")


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[tuple[str, str, str]], tuple[int | None, ...] | None]:
    kinds = st.sampled_from(["valid", "erased", "bad", "junk"])
    apps: list[tuple[str, str, str]] = []
    if draw(st.booleans()):
        apps.append(("factory", "factory", draw(kinds)))
    count = draw(st.integers(0, 4))
    gap = draw(st.sampled_from([None, *range(count)])) if count > 1 else None
    for n in range(count + (gap is not None)):
        if n != gap:
            apps.append((f"ota_{n}", f"ota_{n}", draw(kinds)))
    if draw(st.booleans()):
        apps.append(("test", "test", draw(kinds)))
    if not apps:
        apps.append(("ota_0", "ota_0", draw(kinds)))
    seq = st.one_of(st.none(), st.integers(1, 9))
    seqs = None if draw(st.booleans()) and draw(st.booleans()) else (draw(seq), draw(seq))
    return apps, seqs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_boot_answer_follows_the_loader_order(
        layout: tuple[list[tuple[str, str, str]], tuple[int | None, int | None] | None]) -> None:
    apps, seqs = layout
    data = flash(apps, otadata=None if seqs is None else records(*seqs),
                 with_otadata=seqs is not None)
    image = Image.from_bytes(data)
    boots, rejected = idf_boot(apps, seqs)
    assert image.boot is not None
    assert image.boot.target == name(boots), (apps, seqs, image.boot)
    assert image.boot.slot == (boots if boots is not None and boots >= 0 else None)
    assert [t for t, _ in image.boot.skipped] == [name(i) for i in rejected]
    warned = [i for i in image.issues if i.code == "boot-fallback"]
    assert bool(warned) == (bool(rejected) or boots is None)
    # The fallback is a warning, never a failed check: verify still passes on a sound file.
    assert all(i.severity == "warning" for i in warned)


# ------------------------------------------------------------------ each fallback case
def boot_of(data: bytes) -> tuple[str, str, list[str], tuple[str, ...]]:
    boot = Image.from_bytes(data).boot
    assert boot is not None
    return boot.selected_target, boot.target, [t for t, _ in boot.skipped], boot.depends


def test_selected_slot_erased_falls_back_upwards() -> None:
    data = flash([("ota_0", "ota_0", "erased"), ("ota_1", "ota_1", "valid")],
                 otadata=records(1, None))
    assert boot_of(data)[:3] == ("ota_0", "ota_1", ["ota_0"])


def test_selected_slot_damaged_falls_back_downwards_and_names_the_kconfig() -> None:
    data = flash([("ota_0", "ota_0", "valid"), ("ota_1", "ota_1", "bad")],
                 otadata=records(1, 2))
    selected, boots, skipped, depends = boot_of(data)
    assert (selected, boots, skipped) == ("ota_1", "ota_0", ["ota_1"])
    # A bootloader that skips validation would start the damaged app: say so.
    assert any("CONFIG_BOOTLOADER_SKIP_VALIDATE" in d and "ota_1" in d for d in depends)


def test_down_to_factory_before_higher_slots() -> None:
    data = flash([("factory", "factory", "valid"), ("ota_0", "ota_0", "junk"),
                  ("ota_1", "ota_1", "erased"), ("ota_2", "ota_2", "valid")],
                 otadata=records(2, None))
    assert boot_of(data)[:3] == ("ota_1", "factory", ["ota_1", "ota_0"])


def test_test_app_is_the_last_resort() -> None:
    data = flash([("factory", "factory", "erased"), ("ota_0", "ota_0", "erased"),
                  ("test", "test", "valid")], otadata=records(1, None))
    assert boot_of(data)[:3] == ("ota_0", "test", ["ota_0", "factory"])


def test_nothing_bootable_is_reported() -> None:
    data = flash([("ota_0", "ota_0", "erased"), ("ota_1", "ota_1", "junk")],
                 otadata=records(None, None))
    image = Image.from_bytes(data)
    assert image.boot is not None and image.boot.target == "none"
    assert image.boot.to_dict()["boots"] is None
    assert any(i.code == "boot-fallback" and "resets" in i.message for i in image.issues)


def test_gap_in_slot_numbers_is_a_missing_slot_and_later_slots_are_unreachable() -> None:
    # ota_0 and ota_2: app_count 2, seq 2 selects slot 1 (no partition); ota_2 is never tried.
    data = flash([("ota_0", "ota_0", "erased"), ("ota_2", "ota_2", "valid")],
                 otadata=records(2, None))
    assert boot_of(data)[:3] == ("ota_1", "none", ["ota_0"])


def test_no_otadata_partition_starts_at_factory() -> None:
    data = flash([("factory", "factory", "bad"), ("ota_0", "ota_0", "valid")],
                 with_otadata=False)
    assert boot_of(data)[:3] == ("factory", "ota_0", ["factory"])


def test_slot_not_in_the_file_is_a_condition_not_a_guess() -> None:
    # The file ends before ota_1: what boots depends on the flash there.
    data = flash([("ota_0", "ota_0", "valid"), ("ota_1", "ota_1", "valid")],
                 otadata=records(1, 2), cover=FIRST_APP + SLOT)
    image = Image.from_bytes(data)
    selected, boots, skipped, depends = boot_of(data)
    assert (selected, boots, skipped) == ("ota_1", "ota_1", [])
    assert len(depends) == 1 and "not in the file" in depends[0]
    assert "otherwise the bootloader tries ota_0" in depends[0]
    assert not [i for i in image.issues if i.code == "boot-fallback"]


def test_pending_verify_answer_with_rollback_uses_the_fallback_too() -> None:
    # Copy 1 (seq 2, pending_verify) selects ota_1; with rollback enabled it is aborted and
    # copy 0 selects ota_0, which is erased, so the loader still ends at ota_1.
    data = flash([("ota_0", "ota_0", "erased"), ("ota_1", "ota_1", "valid")],
                 otadata=records(1, 2, states=(UNDEFINED, fmt.PENDING_VERIFY)))
    boot = Image.from_bytes(data).boot
    assert boot is not None and boot.target == "ota_1" and not boot.skipped
    assert boot.pending_note is not None and "still boot ota_1" in boot.pending_note


def test_new_record_for_a_skipped_app_is_never_confirmed() -> None:
    data = flash([("ota_0", "ota_0", "valid"), ("ota_1", "ota_1", "erased")],
                 otadata=records(1, 2, states=(UNDEFINED, fmt.NEW)))
    boot = Image.from_bytes(data).boot
    assert boot is not None and boot.target == "ota_0"
    assert boot.pending_note is not None and "its app is skipped" in boot.pending_note


# ------------------------------------------------------------------ CLI: info, verify, JSON
def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=60, cwd=cwd)


@pytest.fixture
def fallback_file(tmp_path: Path) -> Path:
    path = tmp_path / "fw.bin"
    path.write_bytes(flash([("ota_0", "ota_0", "erased"), ("ota_1", "ota_1", "valid")],
                           otadata=records(1, None)))
    return path


def test_info_verify_and_json_show_the_fallback(fallback_file: Path) -> None:
    info = cli("info", str(fallback_file))
    assert info.returncode == 0, info.stderr
    assert "boot: ota_1 (ota_1)" in info.stdout
    assert "warning: ota_0 is selected but the bootloader skips ota_0 (erased); ota_1 boots" \
        in info.stdout
    doc = json.loads(cli("info", "--json", str(fallback_file)).stdout)
    assert doc["boot"]["target"] == doc["boot"]["boots"] == "ota_1"
    assert doc["boot"]["selected"] == "ota_0"
    assert doc["boot"]["skipped"] == [{"target": "ota_0", "reason": "erased"}]
    assert any(i["code"] == "boot-fallback" for i in doc["issues"])
    assert cli("verify", str(fallback_file)).returncode == 0


# ------------------------------------------------------------------ otadata command
def listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


def test_otadata_without_options_only_reads(fallback_file: Path) -> None:
    before = listing(fallback_file.parent)
    result = cli("otadata", str(fallback_file))
    assert result.returncode == 0, result.stderr
    assert "OTA data" in result.stdout and "boot: ota_1" in result.stdout
    assert "warning:" in result.stdout
    doc = json.loads(cli("otadata", "--json", str(fallback_file)).stdout)
    assert [c["copy"] for c in doc["otadata"]["copies"]] == [0, 1]
    assert doc["boot"]["boots"] == "ota_1" and doc["boot"]["selected"] == "ota_0"
    assert listing(fallback_file.parent) == before


@pytest.mark.parametrize("args", [
    ["--erase", "--boot", "1"],
    ["--erase", "--state", "valid"],
    ["-o", "out.bin"],
    ["--in-place"],
])
def test_otadata_contradictions_are_usage_errors(fallback_file: Path, args: list[str]) -> None:
    before = listing(fallback_file.parent)
    result = cli("otadata", *args, str(fallback_file), cwd=fallback_file.parent)
    assert result.returncode == 2
    assert result.stderr.startswith("esp-image: error: ")
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout
    assert listing(fallback_file.parent) == before


def test_otadata_boot_to_an_empty_slot_is_refused_unless_forced(fallback_file: Path) -> None:
    before = listing(fallback_file.parent)
    result = cli("otadata", "--boot", "ota_0", str(fallback_file))
    assert result.returncode == 1
    assert result.stderr.startswith("esp-image: error: refused: ota_0 ")
    assert "erased" in result.stderr and "--force" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert listing(fallback_file.parent) == before
    # ota_0 is already selected here, so forcing it changes nothing; start from ota_1 selected
    # to see the forced write and its action line.
    on_ota1 = fallback_file.parent / "on-ota1.bin"
    on_ota1.write_bytes(flash([("ota_0", "ota_0", "erased"), ("ota_1", "ota_1", "valid")],
                              otadata=records(2, None)))
    out = fallback_file.parent / "forced.bin"
    forced = cli("otadata", "--boot", "ota_0", "--force", "--json", str(on_ota1),
                 "-o", str(out))
    assert forced.returncode == 0, forced.stderr
    doc = json.loads(forced.stdout)
    assert doc["boot"]["selected"] == "ota_0" and doc["boot"]["boots"] == "ota_1"
    assert any("skips ota_0" in a for a in doc["actions"])


def test_otadata_boot_refusals_in_the_library() -> None:
    image = Image.from_bytes(flash([("ota_0", "ota_0", "valid"), ("ota_1", "ota_1", "bad")],
                                   otadata=records(1, None)))
    from esp_image.errors import LayoutError

    with pytest.raises(LayoutError, match=r"ota_1 .*bad checksum.*boot ota_0"):
        otadata_for(image, slot=1)
    data = otadata_for(image, slot=1, force=True).data
    boot = Image.from_bytes(data).boot
    assert boot is not None and (boot.selected_target, boot.target) == ("ota_1", "ota_0")
    # A slot number with no partition (ota_0 and ota_2 only) is refused the same way.
    gap = Image.from_bytes(flash([("ota_0", "ota_0", "valid"), ("ota_2", "ota_2", "valid")],
                                 otadata=records(1, None)))
    with pytest.raises(LayoutError, match="no partition"):
        otadata_for(gap, slot=1)


def test_otadata_boot_to_a_slot_outside_the_file_is_allowed_with_a_note() -> None:
    image = Image.from_bytes(flash([("ota_0", "ota_0", "valid"), ("ota_1", "ota_1", "valid")],
                                   otadata=records(1, None), cover=FIRST_APP + SLOT))
    result = otadata_for(image, slot=1)
    data, actions = result.data, result.actions
    assert any("not in the file" in a for a in actions)
    boot = Image.from_bytes(data).boot
    assert boot is not None and boot.target == "ota_1"


def test_bare_otadata_is_read_without_apps(tmp_path: Path) -> None:
    path = tmp_path / "otadata.bin"
    path.write_bytes((FIXTURES / "otadata-ota0.bin").read_bytes())
    result = cli("otadata", str(path))
    assert result.returncode == 0 and "boot: ota_0" in result.stdout
    assert sorted(os.listdir(tmp_path)) == ["otadata.bin"]
