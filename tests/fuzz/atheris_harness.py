"""Coverage-guided fuzzing of esp_image's parsers with atheris (libFuzzer for Python).

Not collected by pytest (no ``test_`` prefix). Every input is fed to ``Image.from_bytes``; the
result must serialise to JSON, render as ``info`` and ``verify`` would show it, and rebuild with
``to_bytes()`` (byte-identical when it verifies). Only ``esp_image.errors.EspImageError`` may
escape: anything else, and any assertion, is a crash that libFuzzer saves as ``crash-<sha1>``.

Seeds: every file of ``../shared/corpus`` (when present) and ``fixtures/*.bin`` are copied into
the corpus directory on the first run, two fixtures also as Intel HEX and UF2 (default:
$ESP_IMAGE_FUZZ_CORPUS, else ``<tmp>/esp-image-fuzz-corpus``, outside the repository). See
tests/fuzz/README.md.

    python tests/fuzz/atheris_harness.py [CORPUS_DIR] [libFuzzer options...]
    python tests/fuzz/atheris_harness.py -runs=1 crash-<sha1>     # reproduce one input
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_CORPUS = Path(os.environ.get("ESP_IMAGE_FUZZ_CORPUS",
                                   Path(tempfile.gettempdir()) / "esp-image-fuzz-corpus"))
"""Where the growing corpus lives by default: outside the repository."""
MAX_LEN = 2 * 1024 * 1024
"""Largest input libFuzzer generates (the biggest seed is ~1.7 MB)."""

sys.path.insert(0, str(ROOT))

with atheris.instrument_imports():
    from esp_image import Image
    from esp_image.cli.render import describe, plain, verify_lines
    from esp_image.errors import EspImageError


def check(data: bytes) -> None:
    """One input: only EspImageError may escape; the contract must hold for what parses."""
    try:
        image = Image.from_bytes(data)
    except EspImageError:
        return
    json.dumps(image.to_dict())
    plain(describe(image))
    verify_lines(image)
    try:
        rebuilt = image.to_bytes()
    except EspImageError:
        if image.valid:
            raise AssertionError("a valid file refused to rebuild") from None
        return
    if image.valid and rebuilt != data:
        raise AssertionError("a valid file did not rebuild byte for byte")


def test_one_input(data: bytes) -> None:
    check(data)


def seed(corpus: Path) -> None:
    """Copy the shared corpus and the fixtures into ``corpus`` (once)."""
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    sources = sorted((ROOT / "fixtures").glob("*.bin"))
    if SHARED_CORPUS.is_dir():
        sources += sorted(p for p in SHARED_CORPUS.iterdir() if p.suffix == ".bin")
    for path in sources:
        if path.stat().st_size <= MAX_LEN:
            shutil.copy(path, corpus / path.name)
    # Intel HEX and UF2 seeds: the containers' readers see records and blocks to mutate.
    from esp_image.chips import chip_by_name
    from esp_image.containers import encode

    for name, base in (("firmware-esp32-4MB.bin", 0x1000), ("esp32-bootloader.bin", 0x1000)):
        data = (ROOT / "fixtures" / name).read_bytes()
        (corpus / f"{name}.hex").write_bytes(encode("hex", base, data, None))
        (corpus / f"{name}.uf2").write_bytes(encode("uf2", base, data, chip_by_name("esp32")))


def main(argv: list[str]) -> None:
    args = list(argv)
    dirs = [a for a in args[1:] if not a.startswith("-")]
    if not dirs:
        seed(DEFAULT_CORPUS)
        args.append(str(DEFAULT_CORPUS))
    elif len(dirs) == 1 and not os.path.isfile(dirs[0]):
        seed(Path(dirs[0]))
    if not any(a.startswith("-max_len=") for a in args):
        args.append(f"-max_len={MAX_LEN}")
    if not any(a.startswith("-timeout=") for a in args):
        args.append("-timeout=10")  # seconds per input: a hang is a finding
    if not any(a.startswith("-rss_limit_mb=") for a in args):
        args.append("-rss_limit_mb=2048")
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
