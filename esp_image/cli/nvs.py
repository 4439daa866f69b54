"""``esp-image nvs FILE [options] COMMAND``: the key-value data of ESP-IDF's NVS partitions
in bare partition images, merged firmware and flash dumps.

Argument parsing and reporting only; the partition model, the value parsing and the CSV are in
:mod:`esp_image.nvs`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from ..units import parse_size_option
from .fs import FileOptions, board_or_file, file_group, need_command
from .options import (
    After,
    Backup,
    Baud,
    Before,
    BoardChip,
    Debug,
    DryRun,
    GroupPort,
    InPlace,
    Json,
    NoBackup,
    NoStub,
    OutFormat,
    Quiet,
    force_option,
    option,
    output_option,
)
from .runner import (
    EXIT_DAMAGED,
    EXIT_UNUSABLE,
    choose_output,
    emit_write,
    error_line,
    run_guarded,
    write_json,
)

if TYPE_CHECKING:
    from ..image import Image
    from ..nvs import FoundNvs, NvsKeys, NvsPartition
    from ..nvs.values import Value
    from ..transforms import TransformResult

# ESP-IDF's default partition tables give nvs 0x6000 bytes.
DEFAULT_SIZE = 0x6000

nvs_app = file_group(
    "NVS key-value data (Wi-Fi credentials, calibration, settings) inside firmware files, flash "
    "dumps and NVS partition images (ls, get, set, rm, export, import, mkfs).")


@dataclass(frozen=True, kw_only=True)
class _Options(FileOptions):
    """The nvs group's options, shared by its subcommands."""

    keys: str | None = None


@nvs_app.callback()
def nvs_main(
    ctx: typer.Context,
    file: Annotated[str | None, typer.Argument(
        help="A firmware file, flash dump or NVS partition image (mkfs: may be new; none "
             "with --port).", metavar="FILE")] = None,
    partition: Annotated[str | None, typer.Option(
        "-p", "--partition", metavar="NAME",
        help="The NVS partition, when the table has several.")] = None,
    keys: Annotated[str | None, typer.Option(
        "--keys", metavar="NVS_KEYS_FILE",
        help="The nvs_keys partition (read out of flash) of an encrypted NVS.")] = None,
    output: Annotated[str | None, output_option(
        "Output file: the changed FILE (default FILE-nvs.bin), the value of get, the CSV of "
        "export.")] = None,
    in_place: InPlace = False, dry_run: DryRun = False,
    force: Annotated[bool, force_option(
        "Write into a damaged NVS partition (its damaged items are dropped, as nvs_flash does "
        "at mount), and replace an existing file under the default output name.")] = False,
    json: Json = False, quiet: Quiet = False, debug: Debug = False, fmt: OutFormat = None,
    port: GroupPort = None, baud: Baud = None, chip: BoardChip = None,
    before: Before = "default-reset", after: After = "hard-reset", no_stub: NoStub = False,
    backup: Backup = None, no_backup: NoBackup = False,
) -> None:
    """Read and edit NVS keys, without flashing anything, or on a board.

    Example: [bold]esp-image nvs firmware.bin set wifi ssid home[/bold]
    """
    need_command(ctx, "nvs")
    board = board_or_file(file, (port, baud, chip, before, after, no_stub), json=json,
                          debug=debug)
    ctx.obj = _Options(file=file, partition=partition, keys=keys, output=output,
                       in_place=in_place, dry_run=dry_run, force=force, as_json=json,
                       quiet=quiet, debug=debug, fmt=fmt, connection=board, backup=backup,
                       no_backup=no_backup)


def _opts(ctx: typer.Context) -> _Options:
    opts = ctx.obj
    assert isinstance(opts, _Options)
    return opts


def _guarded(opts: _Options, run: Callable[[], int]) -> None:
    raise typer.Exit(run_guarded(run, debug=opts.debug, as_json=opts.as_json,
                                 path=opts.source))


def _keys(opts: _Options) -> NvsKeys | None:
    if opts.keys is None:
        return None
    from ..io import read_input
    from ..nvs import NvsKeys

    return NvsKeys.from_bytes(read_input(opts.keys, "NVS keys file"))


def _open(opts: _Options) -> tuple[Image, FoundNvs]:
    from ..image import Image
    from ..nvs import select_nvs

    assert opts.file is not None  # board_or_file: a FILE when there is no --port
    image = Image.open(opts.file)
    # A wrapped file is read inside its wrapper (a change to it is refused in _change).
    return image, select_nvs(image.unwrapped(), opts.partition, _keys(opts))


def _named(opts: _Options) -> Callable[[Image], tuple[str, int, int]]:
    """The NVS partition a command works on, from the board's table (its unread contents do
    not matter: the choice is the table's)."""
    def named(image: Image) -> tuple[str, int, int]:
        from ..nvs import select_nvs

        part = select_nvs(image, opts.partition).partition
        assert part is not None  # a board's Image is its flash, with a table
        return part.name, part.offset, part.size
    return named


def _read_board(opts: _Options) -> tuple[_Options, FoundNvs]:
    """The board's NVS partition (only it, besides the headers), and ``opts`` with what was
    transferred."""
    from dataclasses import replace

    from ..nvs import select_nvs
    from .board import read_contents

    assert opts.connection is not None
    image, board, line = read_contents(opts.connection, lambda i: _named(opts)(i)[:1])
    return (replace(opts, board=board, board_line=line),
            select_nvs(image, opts.partition, _keys(opts)))


def _where(found: FoundNvs) -> str:
    part = found.partition
    return "NVS partition image" if part is None else f"{part.name} ({part.offset:#x})"


def shorten(value: Value, width: int = 48) -> str:
    """A value in a table cell: long strings cut, blobs as their first bytes in hex."""
    if isinstance(value, bytes):
        head = value[:16].hex()
        return f"{head}{'...' if len(value) > 16 else ''} ({len(value)} bytes)"
    if isinstance(value, str) and len(value) > width:
        return f"{value[:width - 3]}... ({len(value)} chars)"
    return str(value)


# ------------------------------------------------------------------------------- reading

def _read(ctx: typer.Context, body: Callable[[_Options, FoundNvs], None]) -> None:
    """Run a read command; damage is listed on stderr (exit 1), an encrypted partition read
    without keys shows its page headers (exit 2)."""
    opts = _opts(ctx)

    def run() -> int:
        shown, found = _read_board(opts) if opts.connection else (opts, _open(opts)[1])
        part = found.nvs
        if not part.readable:
            return _locked(shown, found)
        body(shown, found)
        for check in part.damage:
            sys.stderr.write(f"esp-image: damage: {_where(found)}: {check.name} at partition "
                             f"offset {check.offset:#x}: {check.detail}\n")
        shown.board_done()
        return EXIT_DAMAGED if part.damage else 0
    _guarded(opts, run)


def _locked(opts: _Options, found: FoundNvs) -> int:
    """What an encrypted NVS shows without its keys: the page headers."""
    message = (f"{_where(found)}: the NVS entries are encrypted; give --keys NVS_KEYS_FILE "
               "(its nvs_keys partition) to read them")
    pages = [p.to_dict() for p in found.nvs.pages]
    error_line(message)
    if opts.as_json:
        write_json({"path": opts.source, "error": message, "encrypted": True, "pages": pages})
    else:
        _write_pages(found, pages)
    return EXIT_UNUSABLE


def _write_pages(found: FoundNvs, pages: list[dict[str, object]]) -> None:
    from .render import Table, write_blocks

    rows = [[str(p["index"]), f"{p['offset']:#x}", str(p["state"]), str(p.get("seq", "")),
             str(p.get("written", "")), str(p.get("erased", "")), str(p.get("empty", "")),
             {True: "ok", False: "BAD", None: ""}[p.get("crc_ok")]]  # type: ignore[index]
            for p in pages]
    write_blocks([Table(f"{_where(found)}: encrypted; page headers (entries need the keys)",
                        ["Page", "Offset", "State", "Seq", "Written", "Erased", "Empty",
                         "CRC"], rows, "rrlrrrrl")])


@nvs_app.command("ls")
def nvs_ls(ctx: typer.Context, namespace: Annotated[str | None, typer.Argument(
        help="Only this namespace.", metavar="[NAMESPACE]")] = None) -> None:
    """List keys with namespace, type and value (--json: complete values, blobs in base64).

    Example: [bold]esp-image nvs firmware.bin ls wifi[/bold]
    """
    def body(opts: _Options, found: FoundNvs) -> None:
        part = found.nvs
        from ..errors import NvsNotFound

        if namespace is not None and all(ns.name != namespace for ns in part.namespaces()):
            raise NvsNotFound(f"NVS has no namespace {namespace!r}")
        entries = part.entries(namespace)
        if opts.as_json:
            write_json([e.to_dict() for e in entries])
            return
        from .render import Table, write_blocks

        used = part.usage()
        title = (f"{_where(found)}: {len(entries)} key(s) in {len({e.namespace for e in entries})} "
                 f"namespace(s); {used['used_entries']} of {used['total_entries']} entries "
                 "used")
        write_blocks([Table(title, ["Namespace", "Key", "Type", "Value"],
                            [[e.namespace, e.key, e.type, shorten(e.value)] for e in entries])])
    _read(ctx, body)


Namespace = Annotated[str, typer.Argument(help="The namespace.", metavar="NAMESPACE")]
Key = Annotated[str, typer.Argument(help="The key (at most 15 bytes).", metavar="KEY")]


@nvs_app.command("get")
def nvs_get(ctx: typer.Context, namespace: Namespace, key: Key) -> None:
    """Print one value whole (blobs in hex), or write it to -o FILE (blobs as stored).

    Example: [bold]esp-image nvs firmware.bin get cal table -o table.bin[/bold]
    """
    def body(opts: _Options, found: FoundNvs) -> None:
        part = found.nvs
        from ..nvs.values import as_bytes, as_text

        entry = part.get(namespace, key)
        doc = entry.to_dict()
        if opts.output is not None:
            from ..io import check_output, write_atomic

            data = as_bytes(entry.value)
            check_output(opts.output, [opts.file] if opts.file else [])
            write_atomic(opts.output, data, verify=None)
            doc["output"] = opts.output
            text = f"wrote {opts.output} ({len(data)} bytes)"
        else:
            text = as_text(entry.value)
        if opts.as_json:
            write_json({**doc, **opts.board_key()})
        elif opts.output is None or not opts.quiet:
            from ..terminal import shown

            sys.stdout.write(shown(text) + "\n")
    _read(ctx, body)


@nvs_app.command("export")
def nvs_export(ctx: typer.Context) -> None:
    """Write every key as the CSV ESP-IDF's NVS partition generator reads.

    -o FILE.csv; blobs inline in base64.

    Example: [bold]esp-image nvs firmware.bin export -o nvs.csv[/bold]
    """
    def body(opts: _Options, found: FoundNvs) -> None:
        part = found.nvs
        from ..errors import UsageError
        from ..nvs.csv_io import export_csv

        if opts.output is None:
            raise UsageError("export needs -o FILE.csv (-o /dev/stdout prints it)")
        entries = part.entries()
        text = export_csv(part)
        emit_write(source=opts.source, output=opts.output, data=text.encode(
            "utf-8", "surrogateescape"), actions=[f"exported {len(entries)} key(s) in "
                                                   f"{len({e.namespace for e in entries})} "
                                                   "namespace(s)"],
                   dry_run=opts.dry_run, as_json=opts.as_json, verify=False, quiet=opts.quiet,
                   extra=opts.board_key() or None)
    _read(ctx, body)


# ------------------------------------------------------------------------------- writing

Change = Callable[["NvsPartition"], tuple["NvsPartition", list[str]]]


def _change(ctx: typer.Context, change: Change, sources: tuple[str, ...] = (),
            readable: bool = True) -> None:
    """Apply ``change`` to the NVS partition and write the whole file back, only that
    partition's bytes changed. ``sources``: files the change reads, which -o may not name."""
    opts = _opts(ctx)
    if opts.connection is not None:
        raise typer.Exit(opts.board_write(lambda image: _on_board(opts, image, change, readable),
                                          _named(opts), fresh=not readable))

    def run() -> int:
        from .runner import flash_input, format_suffix, output_form

        assert opts.file is not None
        output = choose_output(opts.file, opts.output, opts.in_place, "nvs",
                               force=opts.force, inputs=sources,
                               suffix=format_suffix(opts.fmt))
        opened, found = _open(opts)
        image = flash_input(opened)
        data, new, actions = _changed(image, found, change, readable)
        return emit_write(source=opts.file, output=output, data=data, actions=actions,
                          dry_run=opts.dry_run, as_json=opts.as_json, quiet=opts.quiet,
                          verify=_written_check(found.name, new), original=image.data,
                          form=output_form(opts.fmt, output, opened))
    _guarded(opts, run)


def _changed(image: Image, found: FoundNvs, change: Change, readable: bool
             ) -> tuple[bytes, NvsPartition, list[str]]:
    """The whole of ``image`` with ``change`` made to its NVS partition ``found``, the new
    partition and what was done."""
    from ..errors import NvsError
    from ..nvs import replace_nvs

    if readable and not found.nvs.readable:
        raise NvsError(f"{_where(found)}: the NVS entries are encrypted; give --keys "
                       "NVS_KEYS_FILE to change them")
    new, actions = change(found.nvs)
    data = new.to_bytes() if found.partition is None else \
        replace_nvs(image, found.name, new.to_bytes())
    return data, new, [f"{_where(found)}: {a}" for a in actions]


def _on_board(opts: _Options, image: Image, change: Change, readable: bool) -> TransformResult:
    """The change made to the board's Image, refused (before anything is written) unless
    the partition reads back as written, as for a file."""
    from ..nvs import select_nvs
    from ..transforms import TransformResult

    found = select_nvs(image, opts.partition, _keys(opts))
    data, new, actions = _changed(image, found, change, readable)
    _written_check(found.name, new)(data)
    return TransformResult(data, tuple(actions))


def _written_check(name: str | None, expected: NvsPartition) -> Callable[[bytes], None]:
    """The NVS partition of the bytes about to be written reads back as ``expected``."""
    def verify(written: bytes) -> None:
        from ..errors import VerificationFailed
        from ..nvs import select_nvs

        again = select_nvs(written, name, expected.keys).nvs
        if again.entries() != expected.entries() or len(again.damage) > len(expected.damage):
            raise VerificationFailed("refusing to write: the NVS partition does not read back "
                                     "as written")
    return verify


# A negative number is a VALUE, not an unknown option: set wifi rssi -70 --type i8
@nvs_app.command("set", context_settings={"ignore_unknown_options": True})
def nvs_set(ctx: typer.Context, namespace: Namespace, key: Key,
            value: Annotated[str, typer.Argument(
                help="The value (a number, text, hex, base64 or a file name: see --type).",
                metavar="VALUE")],
            type_name: Annotated[str | None, option(
                "--type", metavar="TYPE",
                help="u8|i8|u16|i16|u32|i32|u64|i64|string|blob|hex2bin|base64|file (default: "
                     "the existing key's type, else string).")] = None) -> None:
    """Store a value as nvs_flash does (a new namespace gets the next free index).

    Example: [bold]esp-image nvs firmware.bin set wifi channel 6 --type u8[/bold]
    """
    opts = _opts(ctx)

    def change(part: NvsPartition) -> tuple[NvsPartition, list[str]]:
        from ..nvs.csv_io import set_from_text

        stored, parsed, _ = set_from_text(part, namespace, key, value, type_name=type_name,
                                          force=opts.force)
        return part, [f"set {namespace}:{key} ({stored}) = {shorten(parsed)}"]
    _change(ctx, change, (value,) if type_name == "file" else ())


@nvs_app.command("rm")
def nvs_rm(ctx: typer.Context, namespace: Namespace, key: Annotated[str | None, typer.Argument(
        help="The key (default: every key of the namespace, and the namespace).",
        metavar="[KEY]")] = None) -> None:
    """Erase one key, or a whole namespace. Example: [bold]esp-image nvs fw.bin rm wifi ssid[/bold]
    """
    opts = _opts(ctx)

    def change(part: NvsPartition) -> tuple[NvsPartition, list[str]]:
        removed = part.remove(namespace, key, force=opts.force)
        return part, [f"removed {namespace}:{key}" if key is not None else
                      f"removed namespace {namespace} and its {removed} key(s)"]
    _change(ctx, change)


@nvs_app.command("import")
def nvs_import(ctx: typer.Context, csv_file: Annotated[str, typer.Argument(
        help="Generator CSV (key,type,encoding,value); file rows relative to its folder.",
        metavar="FILE.csv")],
        replace: Annotated[bool, option("--replace", help="Replace every key instead of "
                                                          "merging into them.")] = False) -> None:
    """Write the keys of an ESP-IDF generator CSV into the partition.

    Example: [bold]esp-image nvs firmware.bin import settings.csv[/bold]
    """
    opts = _opts(ctx)

    def change(part: NvsPartition) -> tuple[NvsPartition, list[str]]:
        from pathlib import Path

        from ..io import read_input
        from ..nvs.csv_io import import_csv, read_csv

        text = read_input(csv_file, "CSV file", allow_empty=True).decode("utf-8", "replace")
        base = Path(csv_file).parent
        new = import_csv(part, text, replace, base_dir=base, force=opts.force)
        count = len(read_csv(text, base))
        return new, [f"{'replaced the contents with' if replace else 'merged'} {count} "
                     f"key(s) from {csv_file}"]
    _change(ctx, change, (csv_file,))


@nvs_app.command("mkfs")
def nvs_mkfs(ctx: typer.Context, size: Annotated[str | None, option(
        "--size", metavar="SIZE",
        help="Partition size (default: the partition's own, or 0x6000 for a new file).")] = None
             ) -> None:
    """An empty NVS partition: FILE's NVS emptied, or a new partition image FILE.

    A new image is made when FILE does not exist and no -o is given.

    Example: [bold]esp-image nvs nvs.bin mkfs --size 24K[/bold]
    """
    opts = _opts(ctx)
    if opts.file is None or os.path.lexists(opts.file) or opts.output is not None:
        def change(part: NvsPartition) -> tuple[NvsPartition, list[str]]:
            return _empty(parse_size_option(size, "--size") or part.size, part.keys)
        _change(ctx, change, readable=False)

    def run() -> int:
        assert opts.file is not None  # with --port, _change above
        new, actions = _empty(parse_size_option(size, "--size") or DEFAULT_SIZE, _keys(opts))
        return emit_write(source=None, output=opts.file, data=new.to_bytes(),
                          actions=actions, dry_run=opts.dry_run, as_json=opts.as_json,
                          quiet=opts.quiet, verify=_written_check(None, new))
    _guarded(opts, run)


def _empty(size: int, keys: NvsKeys | None) -> tuple[NvsPartition, list[str]]:
    from ..nvs import NvsPartition

    new = NvsPartition.mkfs(size, keys)
    return new, [f"new empty {'encrypted ' if keys else ''}NVS partition ({size:#x} bytes)"]
