"""SPIFFS read support (issue 14, item 6): spiffsgen and mkspiffs images, their build options
inferred from the data, ``esp-image fs`` ls/cat/get/df, writes refused, damage reported.

No SPIFFS generator independent of this project installs here (spiffsgen.py ships only inside
ESP-IDF, mkspiffs only as a prebuilt binary), so the independent evidence is the corpus-2
images mkspiffs made, whose files are checked against the manifest and their own content
(gzip CRCs, JSON); the fixtures come from fixtures/_tools/spiffs_image.py, a writer kept apart
from the reader.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import json
import random
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from esp_image.errors import EspImageError, FormatError, InputError, UsageError
from esp_image.filesystems import detect, open_volume
from esp_image.filesystems.spiffs import SpiffsVolume

from ..conftest import CORPUS2, FIXTURES, corpus_path


def _tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, FIXTURES / "_tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


writer = _tool("spiffs_image")
FILES: dict[str, bytes] = _tool("make_fixtures").spiffs_files()


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          check=False, timeout=120)


def spiffs(volume: object) -> SpiffsVolume:
    assert isinstance(volume, SpiffsVolume)
    return volume


def contents(volume: SpiffsVolume) -> dict[str, bytes]:
    return {path: volume.read(path) for path in volume.files}


# --- the fixtures ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "block", "meta", "aligned", "magic"), [
    ("spiffs-64K.bin", 4096, 4, False, "length"),
    ("spiffs-esp8266-128K.bin", 8192, 0, True, "plain")])
def test_fixtures_hold_their_files(name: str, block: int, meta: int, aligned: bool,
                                   magic: str) -> None:
    data = (FIXTURES / name).read_bytes()
    info = detect(data)
    assert (info.type, info.valid, info.block_size) == ("spiffs", True, block)
    volume = spiffs(open_volume(data))
    assert (volume.geometry.page_size, volume.geometry.magic) == (256, magic)
    assert (volume.layout.name_len, volume.layout.meta_len, volume.layout.aligned) == \
        (32, meta, aligned)
    # the deleted older /index.html (800 bytes) is not what is read
    assert contents(volume) == FILES


def test_directories_come_from_the_names() -> None:
    volume = open_volume((FIXTURES / "spiffs-64K.bin").read_bytes())
    assert [(e.name, e.is_dir, e.size) for e in volume.listdir("/")] == [
        ("css", True, 0), ("empty.txt", False, 0), ("index.html", False, 36), ("js", True, 0)]
    assert [e.path for e in volume.listdir("/js")] == ["/js/app.js"]
    assert [e.path for e in volume.walk()] == ["/css", "/css/style.css", "/empty.txt",
                                               "/index.html", "/js", "/js/app.js"]
    with pytest.raises(InputError, match="no such directory"):
        volume.listdir("/nope")
    with pytest.raises(InputError, match="not a directory"):
        volume.listdir("/index.html")
    with pytest.raises(InputError, match="a directory"):
        volume.read("/css")
    with pytest.raises(InputError, match="no such file"):
        volume.read("/missing.txt")


def test_df_counts_as_spiffs_info_does() -> None:
    volume = open_volume((FIXTURES / "spiffs-64K.bin").read_bytes())
    used, total = volume.df()
    # live pages: 4 headers + 1 + 1 + 120 data pages + 1 index page (30000 B = 120 pages)
    assert used == (4 + 1 + 1 + 120 + 1) * 251
    assert total == ((16 - 2) * 15 + 1) * 251


# --- build options inferred -----------------------------------------------------------------

OPTIONS = [
    {},  # spiffsgen's defaults
    {"magic": "plain"}, {"magic": None},
    {"meta_len": 0}, {"meta_len": 0, "aligned": True}, {"aligned": True},
    {"name_len": 64}, {"name_len": 64, "meta_len": 0, "magic": None},
    {"block": 8192, "meta_len": 0, "aligned": True, "magic": "plain"},  # mkspiffs ESP8266
    {"block": 8192, "magic": None}, {"block": 16384}, {"block": 65536},
    {"page": 512}, {"page": 512, "block": 8192, "magic": None}, {"page": 128},
    {"legacy": True, "meta_len": 0}, {"legacy": True, "meta_len": 0, "aligned": True},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(
    f"{k}={v}" for k, v in o.items()) or "spiffsgen")
def test_build_options_are_inferred(options: dict[str, Any]) -> None:
    size = 32 * options.get("block", 4096)
    data = writer.spiffs_image(size, FILES, deleted={"/index.html": b"x" * 700}, **options)
    info = detect(data)
    assert (info.type, info.valid) == ("spiffs", True), info.detail
    volume = spiffs(open_volume(data))
    geo, layout = volume.geometry, volume.layout
    assert (geo.block_size, geo.page_size) == (options.get("block", 4096),
                                                options.get("page", 256))
    assert geo.magic == {"length": "length", "plain": "plain", None: "none"}[
        options.get("magic", "length")]
    assert layout.table == writer.SpiffsWriter(size, **options).head_table
    assert layout.legacy == options.get("legacy", False)
    assert contents(volume) == FILES


@pytest.mark.parametrize("block", [4096, 8192])
def test_a_freshly_formatted_spiffs_is_empty(block: int) -> None:
    """What the device leaves after formatting: every block's magic, no objects."""
    data = writer.spiffs_image(16 * block, {}, block=block)
    info = detect(data)
    assert (info.type, info.valid, info.block_size) == ("spiffs", True, block)
    assert info.detail.startswith("0 files")
    volume = open_volume(data)
    assert volume.listdir("/") == []
    assert volume.df()[0] == 0


def test_the_start_of_a_longer_spiffs_is_read() -> None:
    """A partial read: the magic with length still names the geometry (and the full size)."""
    data = writer.spiffs_image(0x40000, FILES)[:0x20000]
    info = detect(data)
    assert (info.type, info.block_size) == ("spiffs", 4096)
    assert "magic with length" in info.detail
    assert "the magic says 64 blocks: the image holds only the first 32" in info.detail
    assert contents(spiffs(open_volume(data))) == FILES
    # a damaged magic in block 0 does not hide the others
    whole = bytearray(writer.spiffs_image(0x40000, FILES))
    struct.pack_into("<H", whole, 252, 0x7777)
    info = detect(bytes(whole))
    assert "magic with length" in info.detail and "one block lacks the magic" in info.detail


def test_nameless_objects_are_not_the_root() -> None:
    data = writer.spiffs_image(0x10000, {"": b"nameless", "/a.txt": b"a"})
    volume = open_volume(data)
    assert [e.path for e in volume.walk()] == ["/a.txt"]
    with pytest.raises(InputError):
        volume.read("/")


def test_overrides_pick_the_geometry() -> None:
    # 16 KiB blocks of 512-byte pages without magic: not among the geometries tried first
    data = writer.spiffs_image(0x40000, FILES, page=512, block=16384, magic=None,
                               name_len=48)
    volume = spiffs(open_volume(data, page_size=512, block_size=16384))
    assert contents(volume) == FILES
    assert spiffs(open_volume(data, block_size=16384)).geometry.page_size == 512
    with pytest.raises(UsageError, match="power of two"):
        open_volume(data, page_size=300)
    with pytest.raises(UsageError, match="no SPIFFS geometry fits"):
        open_volume(data, block_size=0x40000)


def test_an_override_that_does_not_fit_is_one_error() -> None:
    data = (FIXTURES / "spiffs-64K.bin").read_bytes()
    with pytest.raises(FormatError, match="no SPIFFS found"):
        open_volume(data, page_size=512)


def test_writes_are_refused() -> None:
    volume = open_volume((FIXTURES / "spiffs-64K.bin").read_bytes())
    for call in (lambda: volume.write("/a", b"x"), lambda: volume.mkdir("/d"),
                 lambda: volume.remove("/index.html")):
        with pytest.raises(UsageError, match="SPIFFS is read-only"):
            call()


# --- damage ---------------------------------------------------------------------------------


def _header_page(data: bytes, name: bytes) -> int:
    """The live index header page of a file (a deleted one of the same name may precede it)."""
    return spiffs(open_volume(data)).files[name.decode()].header_page


def test_a_missing_data_page_is_reported() -> None:
    data = bytearray((FIXTURES / "spiffs-64K.bin").read_bytes())
    header = _header_page(bytes(data), b"/css/style.css")
    struct.pack_into("<H", data, header * 256 + 49, 0xFFFF)  # its data page 0 pointer
    info = detect(bytes(data))
    assert info.type == "spiffs" and not info.valid
    assert "/css/style.css: data page 0" in info.detail
    volume = open_volume(bytes(data))
    assert volume.read("/index.html") == FILES["/index.html"]
    with pytest.raises(FormatError, match="missing or damaged"):
        volume.read("/css/style.css")


def test_a_huge_size_is_refused_without_reading() -> None:
    data = bytearray((FIXTURES / "spiffs-64K.bin").read_bytes())
    header = _header_page(bytes(data), b"/index.html")
    struct.pack_into("<I", data, header * 256 + 8, 0xFFFFFFF0)
    with pytest.raises(FormatError, match="more than the filesystem holds"):
        open_volume(bytes(data)).read("/index.html")
    assert not detect(bytes(data)).valid


def test_a_missing_index_page_is_reported() -> None:
    data = bytearray((FIXTURES / "spiffs-64K.bin").read_bytes())
    volume = spiffs(open_volume(bytes(data)))
    obj = volume.files["/js/app.js"]
    page = volume._index[(obj.obj_id, 1)]
    data[page * 256 + 4] &= 0x7F  # deleted
    with pytest.raises(FormatError, match="index page 1"):
        open_volume(bytes(data)).read("/js/app.js")


def test_magic_missing_in_blocks() -> None:
    data = bytearray((FIXTURES / "spiffs-esp8266-128K.bin").read_bytes())
    struct.pack_into("<H", data, 8192 * 5 + 252, 0xFFFF)
    info = detect(bytes(data))
    assert info.valid and "one block lacks the magic" in info.detail
    struct.pack_into("<H", data, 8192 * 6 + 252, 0xFFFF)
    info = detect(bytes(data))
    assert not info.valid and "2 blocks lack the magic" in info.detail


def test_damaged_images_fail_cleanly_and_quickly() -> None:
    base = (FIXTURES / "spiffs-64K.bin").read_bytes()
    rnd = random.Random(14)
    for _ in range(200):
        data = bytearray(base)
        for _ in range(rnd.choice((1, 8, 64, 512))):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        started = time.monotonic()
        detect(bytes(data))
        try:
            volume = open_volume(bytes(data), kind="spiffs")
            for path in spiffs(volume).files:
                with contextlib.suppress(EspImageError):
                    volume.read(path)
        except EspImageError:
            pass
        assert time.monotonic() - started < 2


def test_random_data_is_not_spiffs() -> None:
    rnd = random.Random(6)
    for size in (0x2000, 0x10000, 0x40000):
        assert detect(rnd.randbytes(size)).type == "unknown"
    assert detect(b"\0" * 0x10000).type == "unknown"


# --- the command ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["spiffs-64K.bin", "firmware-esp32-spiffs.bin"])
def test_fs_ls_cat_get_df(name: str, tmp_path: Path) -> None:
    path = str(FIXTURES / name)
    listing = run("fs", path, "ls", "/")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.decode().split("\n")[1].split() == ["-", "0", "empty.txt"]
    doc = json.loads(run("fs", path, "--json", "ls", "/js").stdout)
    assert doc == [{"name": "app.js", "path": "/js/app.js", "dir": False, "size": 30000}]
    cat = run("fs", path, "cat", "/index.html")
    assert (cat.returncode, cat.stdout) == (0, FILES["/index.html"])
    got = run("fs", path, "get", "/js/app.js", str(tmp_path))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "app.js").read_bytes() == FILES["/js/app.js"]
    df = json.loads(run("fs", path, "--json", "df").stdout)
    assert df["used"] == 127 * 251


@pytest.mark.parametrize("command", [["put", "README.md", "/"], ["rm", "/index.html"],
                                     ["mkdir", "/x"], ["--dry-run", "rm", "/index.html"]])
def test_fs_writes_refused_exit_2(command: list[str], tmp_path: Path) -> None:
    source = FIXTURES / "spiffs-64K.bin"
    result = run("fs", str(source), "-o", str(tmp_path / "out.bin"), *command)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "SPIFFS is read-only here" in lines[0], lines
    assert not (tmp_path / "out.bin").exists()


def test_fs_overrides_and_their_errors(tmp_path: Path) -> None:
    data = writer.spiffs_image(0x40000, FILES, page=512, block=16384, magic=None, name_len=48)
    path = tmp_path / "spiffs-16K-512.bin"
    path.write_bytes(data)
    ok = run("fs", str(path), "--page-size", "512", "--block-size", "16K", "cat", "/index.html")
    assert (ok.returncode, ok.stdout) == (0, FILES["/index.html"]), ok.stderr
    for args in (["--page-size", "300"], ["--block-size", "lots"], ["--page-size", "128"]):
        bad = run("fs", str(FIXTURES / "spiffs-64K.bin"), *args, "ls")
        assert bad.returncode == 2
        assert len(bad.stderr.decode().strip().splitlines()) == 1
        assert b"Traceback" not in bad.stderr


def test_fs_on_damaged_spiffs_is_one_line_exit_2(tmp_path: Path) -> None:
    data = bytearray((FIXTURES / "spiffs-64K.bin").read_bytes())
    struct.pack_into("<H", data, _header_page(bytes(data), b"/index.html") * 256 + 49, 0x0003)
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(data))
    result = run("fs", str(path), "cat", "/index.html")
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and b"missing or damaged" in result.stderr


def test_info_names_a_bare_spiffs_image() -> None:
    result = run("info", str(FIXTURES / "spiffs-esp8266-128K.bin"), "--json")
    doc = json.loads(result.stdout)
    assert (doc["kind"], doc["filesystem"]["type"], doc["valid"]) == ("filesystem", "spiffs",
                                                                     True)
    assert doc["filesystem"]["block_size"] == 8192


# --- the corpus (mkspiffs images) -------------------------------------------------------------

CORPUS_FILES = {
    "jackoske_esp8266_spiffs.bin": (0, None, 4096, {"/index.html": 334, "/js/script.js": 160,
                                                   "/css/style.css": 590}),
    "bschulten_esp32_spiffs.bin": (0, None, 4096, {
        "/css/bootstrap-grid.css": 37644, "/js/bootstrap.min.js": 50731,
        "/css/bootstrap-grid.min.css": 28977, "/css/bootstrap-reboot.css": 4856,
        "/css/bootstrap-reboot.min.css": 3989, "/css/bootstrap.css": 173442,
        "/css/bootstrap.min.css": 140930, "/jscolor.js": 53722, "/script.js": 903,
        "/site.html": 4484, "/stylesheet.css": 57, "/js/bootstrap.bundle.js": 211159}),
    # the SPIFFS region of the Arduino 2MB flash map (eagle.flash.2m.ld: 0x100000..0x1FB000)
    "cmmc_esp8266_flash_2M.bin": (0x100000, 0xFB000, 8192, {
        "/index.htm": 482, "/index.html": 482, "/mymqtt.json": 152, "/sensors.json": 75,
        "/static/css/app.f34.css.gz": 20221, "/static/fonts/674.eot.gz": 98200,
        "/static/fonts/b06.ttf.gz": 98106, "/static/img/912.svg.gz": 134485,
        "/static/js/app.4ff.js.gz": 6775, "/static/js/manifest.36a.js": 785}),
}
"""File names and sizes from corpus-2's MANIFEST.tsv (its lists stop after 10 or 12 files)."""
FILE_COUNTS = {"jackoske_esp8266_spiffs.bin": 3, "bschulten_esp32_spiffs.bin": 14,
               "cmmc_esp8266_flash_2M.bin": 12}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_corpus_spiffs_images(name: str) -> None:
    path = corpus_path(name)
    start, size, block, expected = CORPUS_FILES[name]
    data = path.read_bytes()[start:start + size if size else None]
    info = detect(data)
    assert (info.type, info.valid, info.block_size) == ("spiffs", True, block), info.detail
    volume = spiffs(open_volume(data))
    assert len(volume.files) == FILE_COUNTS[name]
    for file, length in expected.items():
        assert volume.files[file].size == length
    for file in volume.files:
        content = volume.read(file)
        assert len(content) == volume.files[file].size
        if file.endswith(".gz"):
            gzip.decompress(content)  # its CRC and length check the whole file
        elif file.endswith(".json"):
            json.loads(content)
        elif file.endswith((".css", ".js", ".html", ".htm")):
            content.decode("utf-8")


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["jackoske_esp8266_spiffs.bin", "bschulten_esp32_spiffs.bin"])
def test_corpus_fs_command(name: str) -> None:
    path = corpus_path(name)
    doc = json.loads(run("fs", str(path), "--json", "ls", "/css").stdout)
    assert all(entry["path"].startswith("/css/") for entry in doc) and doc
    cat = run("fs", str(path), "cat", doc[0]["path"])
    assert cat.returncode == 0 and len(cat.stdout) == doc[0]["size"]


@pytest.mark.corpus
def test_fs_reads_the_spiffs_of_an_arduino_dump() -> None:
    """The whole 2MB dump, not a cut-out: fs finds the SPIFFS where Arduino's flash map puts it
    (the recogniser's region), and reads it as the cut-out reads."""
    path = CORPUS2 / "cmmc_esp8266_flash_2M.bin"
    if not path.is_file():
        pytest.skip("corpus-2 file cmmc_esp8266_flash_2M.bin not available")
    doc = json.loads(run("fs", str(path), "--json", "ls", "/").stdout)
    names = {entry["path"] for entry in doc}
    assert {"/index.htm", "/index.html", "/mymqtt.json", "/sensors.json"} <= names
    cat = run("fs", str(path), "cat", "/sensors.json")
    assert cat.returncode == 0 and len(cat.stdout) == 75
    json.loads(cat.stdout)
    refused = run("fs", str(path), "--dry-run", "put", str(path), "/")
    assert refused.returncode == 2 and b"read-only" in refused.stderr
