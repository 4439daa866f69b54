"""JSON.md documents every key the commands print, with its kind (issue 12, item 24)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES, ROOT

KINDS = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
         list: "array", type(None): "null"}


def documented() -> dict[str, dict[str, tuple[set[str], bool]]]:
    """{section: {key: (kinds, always present)}} from JSON.md's tables."""
    sections: dict[str, dict[str, tuple[set[str], bool]]] = {}
    current: dict[str, tuple[set[str], bool]] = {}
    for line in (ROOT / "JSON.md").read_text().splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), {})
        row = re.match(r"\| `(\w+)` \| ([a-z, ]+) \| ([^|]+) \|", line)
        if row:
            kinds = {k.strip() for k in row.group(2).split(",")}
            current[row.group(1)] = (kinds, row.group(3).strip() == "always")
    return sections


DOC = documented()


def esp_image(*args: str, cwd: Path = ROOT) -> Any:
    result = subprocess.run([sys.executable, "-m", "esp_image", *args], cwd=cwd,
                            capture_output=True, text=True, check=False)
    return json.loads(result.stdout)


def assert_matches(section: str, obj: dict[str, Any]) -> None:
    table = DOC[section]
    for key, value in obj.items():
        assert key in table, f"{section}: key {key!r} is not in JSON.md"
        assert KINDS[type(value)] in table[key][0], (
            f"{section}: {key!r} is {KINDS[type(value)]}, JSON.md says {table[key][0]}")
    missing = [k for k, (_, always) in table.items() if always and k not in obj]
    assert not missing, f"{section}: documented as always present but missing: {missing}"


def test_every_section_has_a_table() -> None:
    assert {"File document", "Check", "Partition", "Flash", "Boot", "Error document",
            "Write document", "Diff document"} <= {s for s, rows in DOC.items() if rows}


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.bin")))
def test_file_documents_match(name: str) -> None:
    doc = esp_image("info", "--json", str(FIXTURES / name))
    assert_matches("File document", {k: v for k, v in doc.items() if k != "error"})
    for check in doc["checks"]:
        assert_matches("Check", check)
    for partition in doc.get("partitions", []):
        assert_matches("Partition", partition)
    if "boot" in doc:
        assert_matches("Boot", doc["boot"])
    if "flash" in doc:
        assert_matches("Flash", doc["flash"])
    assert esp_image("verify", "--json", str(FIXTURES / name)).keys() == doc.keys()


@pytest.mark.parametrize("name", ["esp32-app.bin.gz", "esp8266-v1.bin.gz.signed",
                                  "esp32-app-matter.ota", "esp32-app-length-prefixed.dat",
                                  "esp32-app-rsa.enc", "esp32-app-ecc.enc"])
def test_wrapped_documents_match(name: str) -> None:
    doc = esp_image("info", "--json", str(FIXTURES / "wrappers" / name))
    assert_matches("File document", doc)
    assert doc["wrappers"]
    for layer in doc["wrappers"]:
        # A layer's keys are present for its kind only: the table's "always" rows are checked,
        # and every key must be in it.
        assert_matches("Wrapper", layer)
        for check in layer["checks"]:
            assert_matches("Check", check)


def test_error_document_matches(tmp_path: Path) -> None:
    assert_matches("Error document", esp_image("info", "--json", str(tmp_path / "missing.bin")))


def test_write_and_diff_documents_match(tmp_path: Path) -> None:
    firmware = tmp_path / "firmware.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", firmware)
    retable = esp_image("retable", "-f", "8MB", "--table", "ota", "--dry-run", "--json",
                        str(firmware))
    assert_matches("Write document", retable)
    for partition in retable["partitions"]:
        assert_matches("Partition", partition)
    params = esp_image("flash-params", "--size", "8MB", "--dry-run", "--json", str(firmware))
    assert_matches("Write document", params)
    diff = esp_image("diff", "--json", str(firmware), str(FIXTURES / "firmware-esp32-lfs.bin"))
    assert_matches("Diff document", diff)


def test_parser_reads_the_tables() -> None:
    """The tables really constrain the output: a key JSON.md lacks is caught."""
    with pytest.raises(AssertionError, match=r"not in JSON\.md"):
        assert_matches("Check", {"name": "x", "valid": True, "offset": 0, "detail": "",
                                 "surprise": 1})
