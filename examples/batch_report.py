"""A Markdown or CSV report over a folder of firmware images, one row per file.

    python examples/batch_report.py fixtures/                      # Markdown on stdout
    python examples/batch_report.py build/ --format csv -o report.csv

Columns: file, chip, kind, flash size, partitions, app fill, verdict. Every ``*.bin`` under the
folder is read (``--glob`` to change that) with the library API (``esp_image.Image``), in one
process, so a hundred files take a fraction of a second. Exit codes: 0 every file is valid, 1 a
file is damaged or not firmware, 2 the folder cannot be read.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from esp_image import EspImageError, Image, format_size
from esp_image.io import write_atomic

COLUMNS = ("file", "chip", "kind", "flash_size", "partitions", "app_fill", "verdict")
TITLES = ("File", "Chip", "Kind", "Flash size", "Partitions", "App fill", "Verdict")


def _flash_size(image: Image) -> str:
    if image.bootloader is not None and image.bootloader.flash_size:
        return format_size(image.bootloader.flash_size)
    if image.esp8266 is not None and image.esp8266.flash_map is not None:
        return image.esp8266.flash_map.name
    firmware = image.firmware
    if firmware is not None:
        size = getattr(firmware, "flash_size", None)
        if isinstance(size, int) and size:
            return format_size(size)
        fmap = getattr(firmware, "flash_map", None)
        if fmap is not None:
            return str(fmap.name)
    return "-"


def _kind(image: Image) -> str:
    if image.kind == "image" and image.firmware is not None:
        return f"{image.firmware.role} image"
    if image.esp8266 is not None and image.esp8266.shape not in (image.kind, "unknown"):
        return f"{image.kind} ({image.esp8266.shape})"
    return image.kind


def _verdict(image: Image) -> str:
    if image.kind == "unknown":
        return f"unknown: {image.reason or 'not firmware'}"
    failed = [c.name for c in image.checks if not c.valid]
    if failed:
        return "INVALID: " + ", ".join(dict.fromkeys(failed))
    return "valid"


def row(path: Path, name: str) -> dict[str, str]:
    """One report row for the file at ``path``, shown as ``name``."""
    try:
        image = Image.open(path)
    except EspImageError as exc:
        return dict.fromkeys(COLUMNS, "-") | {"file": name, "verdict": f"unreadable: {exc}"}
    partitions = (", ".join(p.name for p in image.table.partitions)
                  if image.table is not None else "-")
    fills = [f"{c.partition.name} {c.fill:.1%}" for c in image.apps if c.fill is not None]
    return {
        "file": name,
        "chip": image.chip.name if image.chip is not None else "-",
        "kind": _kind(image),
        "flash_size": _flash_size(image),
        "partitions": partitions,
        "app_fill": ", ".join(fills) or "-",
        "verdict": _verdict(image),
    }


def collect(folder: Path, pattern: str = "*.bin") -> list[dict[str, str]]:
    """Rows for every file under ``folder`` matching ``pattern``, sorted by path."""
    files = sorted(p for p in folder.rglob(pattern) if p.is_file())
    return [row(p, p.relative_to(folder).as_posix()) for p in files]


def to_markdown(rows: list[dict[str, str]]) -> str:
    """A Markdown table and a one-line summary."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(TITLES) + " |", "|" + " --- |" * len(TITLES)]
    lines += ["| " + " | ".join(cell(r[c]) for c in COLUMNS) + " |" for r in rows]
    valid = sum(r["verdict"] == "valid" for r in rows)
    lines += ["", f"{len(rows)} files: {valid} valid, {len(rows) - valid} not"]
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict[str, str]]) -> str:
    """CSV with a header row (the :data:`COLUMNS` names)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of firmware files (searched recursively)")
    parser.add_argument("--format", choices=("md", "csv"), default="md")
    parser.add_argument("-o", "--output", help="write the report here instead of stdout")
    parser.add_argument("--glob", default="*.bin", help="file name pattern (default: *.bin)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder}: not a folder", file=sys.stderr)
        return 2
    rows = collect(args.folder, args.glob)
    text = to_markdown(rows) if args.format == "md" else to_csv(rows)
    if args.output:
        try:
            write_atomic(args.output, text.encode(), verify=None)
        except EspImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.output} ({len(rows)} files)")
    else:
        sys.stdout.write(text)
    return 0 if all(r["verdict"] == "valid" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
