"""``info --html/--svg`` and ``diff --html`` (issue 18), and the report as a person sees it:
rendered by headless Chromium (skipped when /usr/bin/chromium is absent).

Label overflow is measured in the browser: the report holds no scripts, so the test renders a
test-only copy with a measuring script appended and reads the measurements from --dump-dom.
"""

from __future__ import annotations

import html
import json
import re
import struct
import subprocess
import zlib
from itertools import pairwise
from pathlib import Path

import pytest

from esp_image.image import Image
from esp_image.report.svg import flash_map

from ..conftest import FIXTURES, corpus_path
from .test_output import one_error_line, run

FIRMWARE = FIXTURES / "firmware-esp32-4MB.bin"
NVS = FIXTURES / "firmware-esp32-nvs.bin"
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed")


def sections(page: str) -> int:
    return page.count('<section class="file"')


def test_info_html_writes_one_section_per_file_with_its_map(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    before = FIRMWARE.read_bytes()
    result = run("info", str(FIRMWARE), str(NVS), "--html", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    page = out.read_text()
    assert sections(page) == 2 and page.count("<svg") == 2
    boxes = sum(len(flash_map(Image.open(p)).boxes) for p in (FIRMWARE, NVS))
    assert page.count('<g class="region ') == boxes
    assert "verdict: valid" in page and "Partition table at 0x8000" in page
    assert "wifi: 4 keys" in page  # NVS namespaces, as info shows them
    assert "<script" not in page and "http" not in page.split("</svg>")[-1]
    assert FIRMWARE.read_bytes() == before


def test_info_json_with_html_keeps_stdout_one_document(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run("info", str(FIRMWARE), "--json", "--html", str(out))
    assert result.returncode == 0
    assert json.loads(result.stdout)["kind"] == "flash" and out.is_file()


def test_an_unreadable_file_gets_its_error_section_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run("info", str(FIRMWARE), str(tmp_path / "missing.bin"), "--html", str(out))
    assert result.returncode == 2
    page = out.read_text()
    assert sections(page) == 2 and "unreadable:" in page


def test_info_svg_writes_the_map(tmp_path: Path) -> None:
    out = tmp_path / "m.svg"
    result = run("info", str(FIRMWARE), "--svg", str(out), "-q")
    assert result.returncode == 0 and result.stdout == ""
    text = out.read_text()
    assert text.startswith("<?xml") and text.count('<g class="region ') == 8


@pytest.mark.parametrize("args", [
    ["info", str(FIRMWARE), str(NVS), "--svg", "OUT.svg"],
    ["info", str(FIRMWARE), "--html", str(FIRMWARE)],
    ["info", str(FIRMWARE), "--svg", str(FIRMWARE)],
    ["diff", str(FIRMWARE), str(NVS), "--html", str(NVS)],
    ["info", str(FIRMWARE), "--html", "/nonexistent-dir/r.html"],
])
def test_bad_report_requests_are_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    before = FIRMWARE.read_bytes(), NVS.read_bytes()
    result = run(*[a.replace("OUT.svg", str(tmp_path / "o.svg")) for a in args])
    assert result.returncode == 2, result
    one_error_line(result)
    assert (FIRMWARE.read_bytes(), NVS.read_bytes()) == before
    assert not (tmp_path / "o.svg").exists()


def test_diff_html_aligns_both_maps_and_marks_the_change(tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    result = run("diff", str(FIRMWARE), str(NVS), "--html", str(out))
    assert result.returncode == 1  # the files differ: diff's own exit code
    page = out.read_text()
    assert sections(page) == 1 and page.count("<svg") == 1
    assert page.count(" changed\"") == 2 and "nvs.contents" in page


def test_an_escaped_label_stays_text_in_the_report(tmp_path: Path) -> None:
    evil = tmp_path / "evil.bin"
    label = "<script>&'\""
    made = run("retable", str(FIRMWARE), "--rename", f"nvs={label}", "-o", str(evil), "-q")
    assert made.returncode == 0, made.stderr
    out = tmp_path / "r.html"
    assert run("info", str(evil), "--html", str(out)).returncode == 0
    page = out.read_text()
    assert "<script" not in page and html.escape(label) in page


# ---------------------------------------------------------------------- as a person sees it
MEASURE = """<script>
const out = [];
for (const g of document.querySelectorAll('g.region')) {
  const r = (e) => {
    const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  out.push({name: g.dataset.name, where: g.dataset.label, box: r(g.querySelector('rect.box')),
            label: r(g.querySelector('text.label')), svg: r(g.ownerSVGElement)});
}
const pre = document.createElement('pre'); pre.id = 'measured';
pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
</script>"""


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered RGBA/RGB rows of an 8-bit PNG (no Pillow needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    channels = 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 4 if colour == 6 else 3
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows = zlib.decompress(idat), width * channels, []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [r if channels == 3 else bytes(
        v for i, v in enumerate(r) if i % 4 != 3) for r in rows]


@needs_chromium
def test_the_report_renders_with_the_map_drawn_and_no_label_overflowing(tmp_path: Path) -> None:
    micropython = corpus_path("esptool_ESP32_GENERIC-20240602-v1.23.0.bin")
    report = tmp_path / "report.html"
    files = [str(micropython), str(NVS), str(FIXTURES / "esp8266-nonos-flash-512K.bin")]
    assert run("info", *files, "--html", str(report)).returncode == 0
    expected = sum(len(flash_map(Image.open(p)).boxes) for p in files)

    shot = tmp_path / "shot.png"
    chromium(tmp_path, report, f"--screenshot={shot}", "--window-size=700,700")
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (700, 700)
    pixels = [row[i:i + 3] for row in rows for i in range(0, len(row), 3)]
    assert len(set(pixels)) > 20, "blank screenshot"
    green = sum(1 for r, g, b in pixels if g > r + 30 and g > b + 30)
    assert green > 5000, f"no app box drawn ({green} green pixels)"

    wrapped = tmp_path / "measure.html"
    wrapped.write_text(report.read_text().replace("</body>", MEASURE + "</body>"))
    dom = chromium(tmp_path, wrapped, "--dump-dom", "--window-size=1200,900").stdout
    match = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    measured = json.loads(html.unescape(match.group(1)))
    assert len(measured) == expected
    beside: dict[tuple[float, ...], list[list[float]]] = {}
    for m in measured:
        (bl, bt, br, bb), (ll, lt, lr, lb) = m["box"], m["label"]
        assert lr > ll and lb > lt, m  # every region has a drawn label
        if m["where"] == "inside":
            assert bl <= ll and lr <= br and bt <= lt and lb <= bb, f"overflows its box: {m}"
        else:
            sl, st, sr, sb = m["svg"]
            assert sl <= ll and lr <= sr and st <= lt and lb <= sb, f"outside the map: {m}"
            beside.setdefault(tuple(m["svg"]), []).append(m["label"])
    for labels in beside.values():
        labels.sort(key=lambda r: r[1])
        for upper, lower in pairwise(labels):
            assert upper[3] <= lower[1] + 0.5, f"labels overlap: {upper} {lower}"
