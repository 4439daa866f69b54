"""``diff`` shows changed NVS keys, in bare NVS images and in flash files (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from esp_image.diff import diff
from esp_image.image import Image
from esp_image.nvs import NvsPartition, replace_nvs, select_nvs

from ..conftest import FIXTURES

NVS = FIXTURES / "nvs-24K.bin"
FIRMWARE = FIXTURES / "firmware-esp32-nvs.bin"


def _edited(data: bytes) -> bytes:
    nvs = NvsPartition.from_bytes(data)
    first = nvs.entries()[0]
    nvs.set(first.namespace, first.key, 7 if first.type != "string" else "changed")
    nvs.set("app", "brand_new", 1, "u8")
    return nvs.to_bytes()


def test_bare_nvs_diff_lists_changed_and_added_keys() -> None:
    data = NVS.read_bytes()
    result = diff(Image.from_bytes(data), Image.from_bytes(_edited(data)))
    fields = {c.field: c.detail for c in result.find("nvs")}
    first = NvsPartition.from_bytes(data).entries()[0]
    assert fields[f"{first.namespace}:{first.key}"] == "changed"
    assert fields["app:brand_new"] == "added"


def test_flash_file_diff_names_the_partition(tmp_path: Path) -> None:
    data = FIRMWARE.read_bytes()
    found = select_nvs(data)
    new = replace_nvs(data, None, _edited(found.nvs.to_bytes()))
    changed = tmp_path / "changed.bin"
    changed.write_bytes(new)
    out = subprocess.run([sys.executable, "-m", "esp_image", "diff", "--json", str(FIRMWARE),
                          str(changed)], capture_output=True, text=True, check=False)
    doc = json.loads(out.stdout)
    assert "nvs[nvs]" in doc["sections"]
    added = [c for c in doc["changes"] if c["field"] == "app:brand_new"]
    assert added == [{"section": "nvs[nvs]", "field": "app:brand_new", "before": None,
                      "after": "u8 1",
                      "detail": "added"}]
    assert diff(Image.from_bytes(data), Image.from_bytes(data)).equal
