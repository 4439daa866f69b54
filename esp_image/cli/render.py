"""Turn library results into text: blocks of lines and tables, plain or with rich.

The description is built once as data (:class:`Table` and strings). Plain text is used when
stdout is not a terminal or ``NO_COLOR`` is set, so pipelines never pay for importing rich;
a terminal gets rich tables.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..app_image import AppImage
from ..terminal import shown, shown_lines
from ..units import format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Protocol, TextIO

    class FlashPlan(Protocol):
        """What :func:`plan_blocks` reads of a flash plan."""

        @property
        def ROW_HEADERS(self) -> Sequence[str]: ...

        @property
        def issues(self) -> Sequence[Issue]: ...

        def rows_for(self, files: Mapping[str, str] | None = None
                     ) -> Sequence[Sequence[str]]: ...

    from rich.console import Console

    from ..checks import Check, Issue
    from ..filesystems import FileSystemInfo
    from ..image import Image
    from ..partition_table import PartitionTable


class Table:
    """A titled table; ``align`` holds ``l`` or ``r`` per column."""

    # Plain slotted classes, not dataclasses: these are rendering scratch, built on every
    # command's path, and a dataclass costs ~0.5 ms of code generation at import.
    __slots__ = ("align", "columns", "rows", "title")

    def __init__(self, title: str, columns: list[str], rows: list[list[str]] | None = None,
                 align: str = "") -> None:
        self.title = title
        self.columns = columns
        self.rows: list[list[str]] = [] if rows is None else rows
        self.align = align

    def __repr__(self) -> str:
        return f"Table({self.title!r}, {self.columns!r}, rows={len(self.rows)})"


class Bar:
    """A proportional one-line map of ``[start, end)``: spans are (name, start, end, kind)."""

    __slots__ = ("end", "spans", "start", "title")

    def __init__(self, title: str, start: int, end: int,
                 spans: list[tuple[str, int, int, str]] | None = None) -> None:
        self.title = title
        self.start = start
        self.end = end
        self.spans: list[tuple[str, int, int, str]] = [] if spans is None else spans

    def __repr__(self) -> str:
        return f"Bar({self.title!r}, {self.start:#x}, {self.end:#x}, spans={len(self.spans)})"


Block = str | Table | Bar

BAR_WIDTH = 64
_BAR_STYLES = {"image": "green", "app": "green", "bootloader": "cyan",
               "partition-table": "magenta", "otadata": "yellow", "data": "blue",
               "erased": "bright_black", "gap": "red", "unread": "dim"}


def hex_size(size: int) -> str:
    """``0x1f0000 (1.9MB)``: sizes are shown as hex and human units."""
    return f"{size:#x} ({format_size(size)})"


# ---------------------------------------------------------------------- descriptions
_KIND_TEXT = {
    "image": "firmware image",
    "flash": "flash file",
    "partition-table": "partition table",
    "otadata": "OTA data (otadata partition)",
    "erased": "erased flash",
    "esp8266-init-data": "esp_init_data_default (RF/PHY init data)",
    "rboot-config": "rBoot configuration sector",
    "yaota8266-ota": "yaota8266 .ota update file",
    "filesystem": "filesystem partition image",
    "nvs": "NVS partition image",
    "nvs-keys": "NVS encryption keys (nvs_keys partition)",
    "esp-secure-cert": "esp_secure_cert partition image",
    "coredump": "core dump (coredump partition image)",
    "unknown": "unrecognised data",
}



def verdict_line(model: Image) -> str:
    """The ``verdict:`` line for an ``Image`` (any family): recognised, valid, or how many
    checks failed."""
    if model.kind == "unknown":
        return f"verdict: not recognised: {model.reason}"
    failed = sum(1 for c in model.checks if not c.valid)
    return "verdict: valid" if model.valid else \
        f"verdict: INVALID ({failed} failed check{'s' if failed != 1 else ''})"


def describe(image: Image) -> list[Block]:
    """The full human description used by ``esp-image info``."""
    if image.esp8266 is not None:
        from .render_esp8266 import esp8266_blocks, esp8266_title

        head = [f"{image.path or '<bytes>'}: {image.size} bytes", esp8266_title(image)]
        body = esp8266_blocks(image)
    else:
        head = [f"{image.path or '<bytes>'}: {_what(image)}, {image.size} bytes"]
        body = _esp32_blocks(image)
    from .render_wrapped import wrapper_lines, wrapper_notes

    blocks: list[Block] = [*head, *wrapper_lines(image), verdict_line(image), *body]
    if image.checks and image.kind != "unknown":
        blocks.append(checks_table(image.checks))
    blocks.extend(f"{i.severity}: {i.message}" for i in image.issues)
    blocks.extend(f"note: {n}" for n in (*image.notes, *wrapper_notes(image)))
    bar = flash_bar(image) if image.esp8266 is not None and image.kind == "flash" else None
    return [*blocks, bar] if bar else blocks


def _what(image: Image) -> str:
    """What the file is, for the first line of ``info``."""
    chip = image.chip.title if image.chip else None
    what = _KIND_TEXT.get(image.kind, image.kind)
    if image.kind == "flash" and image.base is not None:
        shape = "flash dump from 0x0" if image.base == 0 else "merged firmware"
        return f"{chip} {what} ({shape}, file byte 0 = flash {image.base:#x})"
    if image.kind == "image" and image.firmware is not None:
        return f"{chip or 'unknown-chip'} {image.firmware.role} image"
    if image.kind == "image" and "image" in image.details:  # a format without a model: direct boot
        return f"{chip or 'unknown-chip'} {image.details['image']['format']} image"  # type: ignore[index]
    return f"{chip} {what}" if chip else what


def _esp32_blocks(image: Image) -> list[Block]:
    blocks: list[Block] = []
    if image.kind == "image" and isinstance(image.firmware, AppImage):
        blocks.extend(_describe_app(image.firmware, "Image"))
    if image.kind == "flash":
        blocks.extend(_describe_flash(image))
    elif image.table is not None:
        blocks.append(_partition_table(image))
    if image.otadata is not None and image.kind in ("otadata", "flash"):
        blocks.append(_otadata_table(image))
    if image.boot is not None:
        blocks.append(f"boot: {_boot_text(image)}")
    if image.filesystem is not None:
        blocks.append(f"filesystem: {fs_summary(image.filesystem)}")
    if image.content is not None:
        blocks.append(f"{image.content.kind}: {image.content.summary}")
    return blocks


def _describe_app(app: AppImage, title: str) -> list[Block]:
    h = app.header
    kv = Table(title, ["Field", "Value"])
    rows = kv.rows
    rows.append(["Chip", f"{app.chip.title if app.chip else 'unknown'} (chip id {h.chip_id})"])
    rows.append(["Format", "ESP32-family image"])
    rows.append(["Role", app.role])
    rows.append(["Flash", f"size {app.flash_size_name}, mode {h.flash_mode}, "
                 f"freq {app.flash_freq}"])
    rows.append(["Entry", f"{h.entry_addr:#010x}"])
    rows.append(["Chip revision", f"min v{h.min_chip_rev_full // 100}.{h.min_chip_rev_full % 100}"
                 f", max {_rev(h.max_chip_rev_full)}"])
    rows.append(["Length", hex_size(app.length)])
    if app.stored_checksum is not None:
        rows.append(["Checksum", f"{app.stored_checksum:#04x} "
                     + ("(valid)" if app.checksum_valid else
                        f"(INVALID, computed {app.computed_checksum:#04x})")])
    if app.stored_digest is not None:
        rows.append(["SHA-256", f"{app.stored_digest.hex()} "
                     + ("(valid)" if app.digest_valid else "(INVALID)")])
    elif h.hash_appended == 0:
        rows.append(["SHA-256", "not appended"])
    if app.signature is not None:
        sig = app.signature
        blocks_text = f", {len(sig.blocks)} block(s)" if sig.blocks else ""
        rows.append(["Signature", f"{sig.scheme} at {sig.offset:#x}{blocks_text} "
                     "(header edits would break it)"])
    rows += _descriptor_rows(app)
    return [kv, _segments_table(app, title)]


def _descriptor_rows(app: AppImage) -> list[list[str]]:
    """What the app and bootloader descriptors say, and the problems found."""
    rows = []
    if app.app_desc is not None:
        d = app.app_desc
        rows.append(["Project", f"{d.project_name or '(empty)'} {d.version}".strip()])
        rows.append(["ESP-IDF", d.idf_ver])
        rows.append(["Built", f"{d.date} {d.time}".strip() or "(no date)"])
        rows.append(["Secure version", str(d.secure_version)])
        rows.append(["ELF SHA-256", d.app_elf_sha256.hex()])
    if app.bootloader_desc is not None:
        b = app.bootloader_desc
        rows.append(["Bootloader", f"version {b.version}, ESP-IDF {b.idf_ver}, built "
                     f"{b.date_time or '(no date)'}"])
    rows += [["Problem", problem] for problem in app.problems]
    return rows


def _segments_table(app: AppImage, title: str) -> Table:
    segs = Table(f"{title} segments", ["#", "Address", "Size", "Offset", "Region"], align="rrrrl")
    from .. import chips

    name = app.chip.name if app.chip else ""
    for i, s in enumerate(app.segments):
        segs.rows.append([str(i), f"{s.load_addr:#010x}", f"{s.data_len:#x}",
                          f"{s.offset:#x}", "/".join(chips.memory_regions(name, s.load_addr))])
    return segs


def _rev(full: int) -> str:
    if full in (0, 0xFFFF):
        return "not set"
    return f"v{full // 100}.{full % 100}"


def flash_bar(image: Image) -> Bar | None:
    """The flash layout of a flash file as a proportional bar (the table's view of flash)."""
    from ..spans import layout_spans

    layout = layout_spans(image)
    if layout is None:
        return None
    end, spans = layout
    unit = max(end // BAR_WIDTH, 1)
    return Bar(f"Flash layout 0x0-{end:#x} ({format_size(end)}): about {format_size(unit)} "
               "a character, small regions widened to one", 0, end, spans)


def _describe_flash(image: Image) -> list[Block]:
    blocks: list[Block] = []
    bar = flash_bar(image)
    if bar is not None:
        blocks.append(bar)
    fmap = Table("Flash map", ["Address", "End", "Size", "Kind", "Name", "Detail"],
                 align="rrrlll")
    for r in image.regions:
        fmap.rows.append([f"{r.address:#x}", f"{r.address + r.size:#x}", format_size(r.size),
                          r.kind, r.name, r.detail])
    blocks.append(fmap)
    if image.bootloader is not None:
        blocks.extend(_describe_app(image.bootloader, "Bootloader"))
    if image.table is not None:
        blocks.append(_partition_table(image))
    for content in image.apps:
        if content.image is not None:
            blocks.append(_app_summary(content.partition.name, content.image))
    return blocks


def _app_summary(name: str, app: AppImage) -> Table:
    t = Table(f"App in {name}", ["Field", "Value"])
    h = app.header
    t.rows.append(["Image", f"{app.chip.title if app.chip else '?'} {app.role}, "
                   f"{hex_size(app.end)}, entry {h.entry_addr:#010x}, "
                   f"{len(app.segments)} segments"])
    t.rows.append(["Flash", f"size {app.flash_size_name}, mode {h.flash_mode}, "
                   f"freq {app.flash_freq}"])
    if app.app_desc is not None:
        d = app.app_desc
        t.rows.append(["Project", f"{d.project_name or '(empty)'} {d.version}".strip()])
        t.rows.append(["ESP-IDF", f"{d.idf_ver}, built {d.date} {d.time}".strip()])
    verdicts = []
    if app.stored_checksum is not None:
        verdicts.append("checksum " + ("valid" if app.checksum_valid else "INVALID"))
    if app.digest_valid is not None:
        verdicts.append("SHA-256 " + ("valid" if app.digest_valid else "INVALID"))
    if app.signature is not None:
        verdicts.append(f"signed ({app.signature.scheme})")
    t.rows.append(["Integrity", ", ".join(verdicts) or "truncated"])
    return t


def _partition_table(image: Image) -> Table:
    table = image.table
    assert table is not None  # callers check
    where = f" at {image.table_address:#x}" if image.table_address is not None else ""
    columns = ["Name", "Type", "SubType", "Offset", "Size", "End", "Flags", "Size"]
    if image.partitions:
        columns.append("Contents")
    t = Table(f"Partition table{where}", columns, align="lllrrrlrl")
    contents = {id(c.partition): c for c in image.partitions}
    for p in table.partitions:
        c = contents.get(id(p))
        what = ""
        if c is not None:
            if c.image is not None:
                what = f"app {format_size(c.image.end)}, {c.fill:.1%} full"
            elif c.state == "absent":
                what = "not in file"
            elif c.state == "unread":
                what = "not read from the board"
            elif c.filesystem is not None:
                what = fs_summary(c.filesystem)
            elif c.content is not None:
                what = c.content.summary
            else:
                what = c.state
                if c.covered < p.size:
                    what += f" (file covers {format_size(c.covered)})"
        flags = ",".join(str(f) for f in p.flag_names)
        t.rows.append([p.name, p.type_name or f"{p.type:#x}",
                       p.subtype_name or f"{p.subtype:#x}", f"{p.offset:#x}", f"{p.size:#x}",
                       f"{p.end:#x}", flags, format_size(p.size), what][:len(columns)])
    return t


def partition_table_block(table: PartitionTable, title: str = "New partition table") -> Table:
    """A partition table on its own (name, type, subtype, offset, size, end, flags)."""
    t = Table(title, ["Name", "Type", "SubType", "Offset", "Size", "End", "Flags", "Size"],
              align="lllrrrlr")
    for p in table.partitions:
        t.rows.append([p.name, p.type_name or f"{p.type:#x}", p.subtype_name or f"{p.subtype:#x}",
                       f"{p.offset:#x}", f"{p.size:#x}", f"{p.end:#x}",
                       ",".join(str(f) for f in p.flag_names), format_size(p.size)])
    return t


def _otadata_table(image: Image) -> Table:
    otadata = image.otadata
    assert otadata is not None
    t = Table("OTA data", ["Copy", "Sequence", "State", "CRC", "Status"], align="rrlll")
    for i, e in enumerate(otadata.entries):
        if e.is_erased:
            t.rows.append([str(i), "-", "-", "-", "erased"])
            continue
        crc = f"{e.crc:#010x}" + ("" if e.crc_ok else f" (computed {e.computed_crc:#010x})")
        status = "valid" if e.is_valid else ("invalid state" if e.is_invalid else "bad CRC")
        t.rows.append([str(i), str(e.ota_seq), e.state_name, crc, status])
    return t


def otadata_report(image: Image, issues: Sequence[Issue], *, quiet: bool = False
                   ) -> list[Block]:
    """``esp-image otadata FILE``: where the records are, both records, the boot answer."""
    blocks: list[Block] = []
    if not quiet:
        name = image.path or "<bytes>"
        part = image.table.otadata if image.table is not None else None
        if image.kind == "otadata":
            blocks.append(f"{name}: otadata file")
        elif part is None:
            blocks.append(f"{name}: no otadata partition")
        else:
            blocks.append(f"{name}: otadata partition {part.name!r} at {part.offset:#x}")
        if image.otadata is not None:
            blocks.append(_otadata_table(image))
        if image.boot is not None:
            blocks.append(f"boot: {_boot_text(image)}")
    blocks.extend(f"{i.severity}: {i.message}" for i in issues)
    if not quiet and image.kind == "otadata":  # the slot-count assumption of a bare file
        blocks.extend(f"note: {n}" for n in image.notes)
    return blocks


def _boot_text(image: Image) -> str:
    boot = image.boot
    assert boot is not None
    target = {"factory": "factory app", "test": "test app",
              "none": "no app"}.get(boot.target, boot.target)
    if image.table is not None and boot.slot is not None:
        part = next((p for p in image.table.ota_slots if p.ota_index == boot.slot), None)
        if part is not None:
            target = f"ota_{boot.slot} ({part.name})"
    text = f"{target}: {boot.reason}"
    if boot.skipped:
        passed = ", ".join(f"{t} ({why})" for t, why in boot.skipped)
        text += f"; the bootloader skips {passed}"
    for condition in boot.depends:
        text += f"; {condition}"
    if boot.pending_note:
        text += f"; {boot.pending_note}"
    return text


def fs_summary(fs: FileSystemInfo) -> str:
    """``littlefs 2.1, 12KB used of 2MB`` (or what is wrong with it)."""
    name = fs.version or fs.type
    if not fs.valid:
        return f"{name}, DAMAGED: {fs.detail}"
    total = fs.block_size * fs.block_count if fs.block_size and fs.block_count else None
    if fs.used is not None and total:
        return f"{name}, {format_size(fs.used)} used of {format_size(total)}"
    return name


def checks_table(checks: Sequence[Check]) -> Table:
    """The table of every check that was run (name, file offset, result, detail)."""
    t = Table("Checks", ["Check", "Offset", "Result", "Detail"], align="lrll")
    for c in checks:
        t.rows.append([c.name, f"{c.offset:#x}", "ok" if c.valid else "FAILED", c.detail])
    return t


def verify_lines(image: Image) -> list[str]:
    """The terse ``verify`` report: one OK/FAIL line, then one line per problem."""
    from .render_wrapped import wrapped_in

    chip = image.chip.name if image.chip else "-"
    name = image.path or "<bytes>"
    if image.kind == "unknown":
        return [f"FAIL {name}: not recognised: {image.reason}"]
    failed = [c for c in image.checks if not c.valid]
    what = f"{image.kind} {chip}{wrapped_in(image)}"
    if not failed:
        return [f"OK   {name}: {what}, {len(image.checks)} checks passed"]
    lines = [f"FAIL {name}: {what}, {len(failed)} of {len(image.checks)} checks failed"]
    lines += [f"     {c.name} at {c.offset:#x}: {c.detail}" for c in failed]
    return lines


def problem_lines(image: Image) -> list[str]:
    """What ``info --quiet`` prints: the failed checks, errors and warnings; none if clean."""
    problems = [f"{i.severity}: {i.message}" for i in image.issues
                if i.severity in ("error", "warning")]
    if image.valid and image.kind != "unknown":
        return [f"{image.path or '<bytes>'}: {p}" for p in problems]
    return verify_lines(image) + [f"     {p}" for p in problems]


# ---------------------------------------------------------------------- output
def write_descriptions(images: Sequence[Image]) -> None:
    """``info``: every image described, a blank line between two."""
    blocks: list[Block] = []
    for image in images:
        if blocks:
            blocks.append("")
        blocks.extend(describe(image))
    write_blocks(blocks)


def write_problems(images: Sequence[Image]) -> None:
    """``info -q``: only the images with problems, only their problems."""
    for image in images:
        lines = problem_lines(image)
        if lines:
            sys.stdout.write(shown_lines("\n".join(lines)) + "\n")


def write_verdicts(images: Sequence[Image]) -> None:
    """``verify``: each image's verdict and its failed checks."""
    for image in images:
        sys.stdout.write(shown_lines("\n".join(verify_lines(image))) + "\n")


def plan_blocks(title: str, plan: FlashPlan, files: Mapping[str, str], notes: Sequence[str],
                command: str) -> list[Block]:
    """A flash plan (ESP8266 NONOS, yaota8266): its table, issues, notes and esptool command."""
    table = Table(title, list(plan.ROW_HEADERS), align="rrlll")
    table.rows += [[str(c) for c in row] for row in plan.rows_for(files)]
    blocks: list[Block] = [table]
    blocks += [f"{i.severity}: {i.message}" for i in plan.issues]
    blocks += [f"note: {n}" for n in notes]
    return [*blocks, "", "flash it with:", f"  {command}"]


def use_rich(stream: TextIO) -> bool:
    """Rich output only for terminals, and never with ``NO_COLOR`` set."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def write_blocks(blocks: list[Block], stream: TextIO | None = None) -> None:
    """Write blocks to ``stream`` (stdout by default), with rich on a terminal."""
    out = stream or sys.stdout
    if use_rich(out):
        _write_rich(blocks, out)
    else:
        out.write(plain(blocks))


def plain(blocks: list[Block]) -> str:
    """Render blocks as plain text with aligned columns."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, str):
            lines.append(shown_lines(block))
            continue
        if isinstance(block, Bar):
            cells, legend = _bar_cells(block)
            lines += ["", shown(block.title), "  |" + "".join(c for c, _ in cells) + "|"]
            lines += _wrap_legend(legend)
            continue
        lines.append("")
        lines.append(shown(block.title))
        rows = [[shown(cell) for cell in row] for row in block.rows]
        widths = [len(c) for c in block.columns]
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
        align = block.align or "l" * len(block.columns)

        def fmt(cells: list[str], widths: list[int] = widths, align: str = align) -> str:
            return "  ".join(
                cell.rjust(w) if a == "r" else cell.ljust(w)
                for cell, w, a in zip(cells, widths, align, strict=False)
            ).rstrip()

        lines.append("  " + fmt(block.columns))
        lines.extend("  " + fmt(row) for row in rows)
    lines.append("")
    return "\n".join(lines) + "\n" if lines[-1] else "\n".join(lines)


def _bar_symbols(bar: Bar) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """One symbol per region name (a letter of the name where one is free), and the legend."""
    symbols: dict[str, str] = {}
    used = {"."}
    legend: list[tuple[str, str, str]] = []
    for name, start, stop, kind in bar.spans:
        if name in symbols:
            continue
        pool = [c for c in name + name.upper() + "0123456789*+#@%&=" if c.isalnum() or
                c in "*+#@%&="]
        symbol = next((c for c in pool if c not in used), "?")
        used.add(symbol)
        symbols[name] = symbol
        legend.append((symbol, f"{shown(name)} {start:#x} {format_size(stop - start)}", kind))
    return symbols, legend


def _bar_cells(bar: Bar) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Each column's (symbol, kind), and the legend (symbol, text, kind)."""
    width = BAR_WIDTH
    total = max(bar.end - bar.start, 1)
    symbols, legend = _bar_symbols(bar)
    # Every region gets at least one character, gaps under half a character none; the rest
    # of the width is shared in proportion to size (small regions stay visible).
    segments: list[tuple[str, int, str]] = []
    pos = bar.start
    for name, begin, stop, kind in sorted(bar.spans, key=lambda s: (s[1], s[2])):
        if stop <= pos:
            continue
        first = max(begin, pos)
        if first > pos:
            segments.append((".", first - pos, "erased"))
        segments.append((symbols[name], stop - first, kind))
        pos = stop
    if pos < bar.end:
        segments.append((".", bar.end - pos, "erased"))
    widths = [0 if symbol == "." and size * width < total // 2 else
              max(1, round(size * width / total)) for symbol, size, _ in segments]
    while sum(widths) != width and any(widths):
        step = 1 if sum(widths) < width else -1
        candidates = [i for i, w in enumerate(widths) if step > 0 or w > 1]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] += step
    cells = [(symbol, kind) for (symbol, _, kind), w in zip(segments, widths, strict=True)
             for _ in range(w)]
    return cells, legend


def _wrap_legend(legend: list[tuple[str, str, str]]) -> list[str]:
    lines: list[str] = []
    current = " "
    for symbol, text, _ in legend:
        item = f" {symbol} {text}"
        if len(current) + len(item) > 98:
            lines.append(current)
            current = " "
        current += item + " "
    lines.append(current.rstrip())
    return [line.rstrip() for line in lines]


def _write_rich(blocks: list[Block], stream: TextIO) -> None:
    from rich.console import Console

    console = Console(file=stream, highlight=False)
    for block in blocks:
        if isinstance(block, Bar):
            _print_bar(console, block)
        elif isinstance(block, str):
            style = None
            if block.startswith(("error:", "verdict: INVALID", "verdict: not")):
                style = "bold red"
            elif block.startswith("warning:"):
                style = "yellow"
            elif block.startswith("verdict: valid"):
                style = "bold green"
            console.print(shown_lines(block), style=style, markup=False)
        else:
            _print_table(console, block)


def _print_bar(console: Console, bar: Bar) -> None:
    from rich.text import Text

    cells, legend = _bar_cells(bar)
    console.print(shown(bar.title), style="bold", markup=False)
    text = Text("  |")
    for symbol, kind in cells:
        text.append(symbol, style=f"reverse {_BAR_STYLES.get(kind, 'white')}"
                    if symbol != "." else "bright_black")
    text.append("|")
    console.print(text)
    legend_text = Text("  ")
    for symbol, label, kind in legend:
        legend_text.append(f" {symbol} ", style=f"reverse {_BAR_STYLES.get(kind, 'white')}")
        legend_text.append(f" {label}  ")
    console.print(legend_text)


def _print_table(console: Console, block: Table) -> None:
    from rich.table import Table as RichTable

    table = RichTable(title=shown(block.title), title_justify="left", title_style="bold")
    align = block.align or "l" * len(block.columns)
    for col, a in zip(block.columns, align, strict=False):
        table.add_column(col, justify="right" if a == "r" else "left")
    for row in block.rows:
        styled = [f"[red]{c}[/red]" if c in ("FAILED",) else shown(c).replace("[", "\\[")
                  for c in row]
        table.add_row(*styled)
    console.print(table)
