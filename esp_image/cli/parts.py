"""``extract``, ``merge``, ``table``, ``convert`` and ``layout esp8266``: cut, join, compile
and plan the parts of a flash image."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..chips import chip_by_name
from ..errors import UsageError, VerificationFailed
from ..image import Image
from ..io import read_input
from ..units import parse_size_option
from .runner import (
    EXIT_OK,
    choose_output,
    emit_write,
    format_suffix,
    output_form,
    pair,
    parse_int,
    run_guarded,
    write_json,
)

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Annotated

    from ..partition_table import PartitionTable
    from ..transforms.esp8266 import LayoutPlan
    from ..transforms.extract import Extracted
    from .options import (
        After,
        Baud,
        Before,
        BoardChip,
        BoardPort,
        Chip,
        Debug,
        DryRun,
        File,
        Force,
        InPlace,
        Json,
        NoStub,
        OptWhat,
        OutFormat,
        Output,
        Port,
        Quiet,
        argument,
        option,
        output_option,
    )
    from .runner import OutputForm


def extract(
    file: File,
    what: OptWhat = None,
    output: Output = None,
    raw: Annotated[bool, option("--raw", help="The whole region, not just the image.")
                   ] = False,
    fmt: OutFormat = None,
    tinyuf2: Annotated[bool, option("--tinyuf2", help="An app as TinyUF2 bootloaders (S2, S3) "
                                                      "take it: UF2 from address 0.")] = False,
    dry_run: DryRun = False, force: Force = False, json: Json = False, quiet: Quiet = False,
    debug: Debug = False, port: BoardPort = None, baud: Baud = None, chip: BoardChip = None,
    before: Before = "default-reset", after: After = "hard-reset", no_stub: NoStub = False,
) -> int:
    """Cut a bootloader, table, otadata or partition out of a firmware file (or a board).

    Apps and bootloaders end at their real image end (signatures included).

    Example: [bold]esp-image extract firmware.bin factory -o app.bin[/bold]  ([bold]extract
    --port /dev/ttyUSB0 factory[/bold] reads it from a connected board)
    """
    ask = PartOutput(output, raw, fmt, tinyuf2, dry_run, force, json, quiet)

    def body() -> int:
        if port is not None:
            from .board import board_options
            from .port_commands import extract_from_board

            if what is not None:
                raise UsageError("with --port give only WHAT (the board is the input), not "
                                 "FILE WHAT")
            return extract_from_board(board_options(port, baud, chip, before, after,
                                                    no_stub), file, ask)
        if what is None:
            raise UsageError("missing WHAT: extract FILE WHAT (or extract --port PORT WHAT)")
        from ..transforms.extract import extract as cut

        image = Image.open(file)
        # A wrapped file's parts are cut from what it wraps (an .ota's payload, a .bin.gz's
        # inflated bytes): what a device writes to flash.
        part = cut(image.unwrapped(), what, raw=raw)
        return write_part(file, image, part, what, ask)
    return run_guarded(body, debug=debug, as_json=json, path=port or file)


@dataclass(frozen=True)
class PartOutput:
    """How ``extract`` writes the part it cut: its options."""

    output: str | None
    raw: bool
    fmt: str | None
    tinyuf2: bool
    dry_run: bool
    force: bool
    json: bool
    quiet: bool


def write_part(source: str, image: Image, part: Extracted, what: str, ask: PartOutput, *,
               stem: str | None = None, extra: dict[str, object] | None = None,
               note: str | None = None) -> int:
    """Write an extracted part as ``extract`` does, whatever it was cut from: ``source`` is
    the file (or the board's port), ``stem`` the default name's stem when it is not the
    file's (a board's MAC), ``note`` one more line for the report."""
    from ..io import check_output

    target = ask.output or _extract_name(stem or source, what, ask.fmt, image)
    check_output(target, [] if stem else [source], default=not ask.output, force=ask.force)
    form = output_form("uf2" if ask.tinyuf2 else ask.fmt, target, image, address=part.address)
    if ask.tinyuf2:
        _tinyuf2(form, ask.fmt, target, part.data, what)
    # Checked as what it is (an app, a table, otadata, a filesystem); a data partition
    # esp_image does not model (nvs, phy_init) is "unknown", as verify leaves it in a
    # firmware. --raw is the region as it is, damage included: read back only.
    strict = what.lower() in ("bootloader", "partition-table", "otadata") or \
        part.data[:1] in (b"\xe9", b"\xea")
    notes = [*part.notes, *(f"read from inside the {w.kind} wrapper" for w in image.wrappers),
             *([note] if note else [])]
    return emit_write(source=source, output=target, data=part.data, actions=list(part.actions),
                      notes=notes, as_json=ask.json,
                      verify=_extracted_check(target, ask.raw, strict), quiet=ask.quiet,
                      dry_run=ask.dry_run, form=form, extra=extra)


def _extract_name(file: str, what: str, fmt: str | None, image: Image) -> str:
    """extract's default name: ``<stem>-<what>`` with the suffix of the form written (the
    input's own for a HEX/UF2 input)."""
    import os

    from ..transforms.extract import default_extract_name

    name = default_extract_name(file, what)
    suffix = format_suffix(fmt)
    if suffix is None and image.wrappers and image.wrappers[0].kind in ("intel-hex", "uf2"):
        suffix = os.path.splitext(file)[1] or None
    return name if suffix is None else name.removesuffix(".bin") + suffix


def _tinyuf2(form: OutputForm, fmt: str | None, target: str, data: bytes, what: str) -> None:
    """An app-only TinyUF2 file: UF2, address 0, a chip TinyUF2 serves, an app."""
    from ..containers.uf2 import check_tinyuf2

    if (fmt or "uf2").lower() != "uf2" or target.lower().endswith((".bin", ".hex")):
        raise UsageError("--tinyuf2 writes UF2: give -o NAME.uf2 (or --format uf2)")
    check_tinyuf2(form.chip, data, what)
    form.address = 0


def _extracted_check(target: str, raw: bool, strict: bool) -> Callable[[bytes], None]:
    """How an extracted part is checked before it is written (read back only with --raw)."""
    from ..io import verify_bytes

    def check(written: bytes) -> None:
        if raw:
            return
        try:
            verify_bytes(written, what=target, allow_unknown=not strict)
        except VerificationFailed as exc:
            raise VerificationFailed(f"{exc}; --raw writes the bytes as they are") from None
    return check


def merge(
    parts: Annotated[list[str], argument("ADDR=FILE pairs.", "ADDR=FILE...")],
    output: Annotated[str, output_option("The merged file.")],
    pad_to: Annotated[str | None, option("--pad-to", metavar="SIZE",
                                         help="Pad with 0xFF to this size.")] = None,
    chip: Chip = None,
    flash_size: Annotated[str | None, option(
        "--flash-size", metavar="SIZE", help="Set the bootloader header's flash size (4MB, "
                                             "8MB ...), as esptool merge-bin does.")] = None,
    flash_mode: Annotated[str | None, option(
        "--flash-mode", metavar="MODE", help="Set the bootloader header's flash mode: qio | "
                                             "qout | dio | dout.")] = None,
    flash_freq: Annotated[str | None, option(
        "--flash-freq", metavar="FREQ", help="Set the bootloader header's flash clock (40m, "
                                             "80m ...; the chip decides which exist).")] = None,
    target_offset: Annotated[str | None, option(
        "--target-offset", metavar="ADDR",
        help="Flash address of the output's first byte.")] = None,
    fmt: OutFormat = None, dry_run: DryRun = False, json: Json = False, quiet: Quiet = False,
    debug: Debug = False,
) -> int:
    """Build one flash image from parts, like esptool merge-bin, refusing overlaps.

    Example: [bold]esp-image merge -o full.bin 0x1000=bootloader.bin 0x8000=partitions.bin
    0x10000=app.bin[/bold]
    """
    def body() -> int:
        from ..transforms.merge import merge as join

        # Parsed before any file is read: a malformed request is reported as such.
        start = parse_int(target_offset, "--target-offset") if target_offset else 0
        pad = parse_size_option(pad_to, "--pad-to")
        specs = _merge_parts(parts, output)
        # Names stay paired with their parts: two parts at one address must be named apart.
        form = output_form(fmt, output, address=start)  # refuses a bad --format first
        result = join([(address, _merge_input(address, file)) for address, file in specs],
                      chip=chip, pad_to=pad, flash_size=flash_size, flash_mode=flash_mode,
                      flash_freq=flash_freq, target_offset=start, names=[f for _, f in specs])
        form.chip = chip_by_name(result.chip) if result.chip else None
        return emit_write(source=None, output=output, data=result.data,
                          actions=[f"{addr:#x}: {file}" for addr, file in sorted(specs)],
                          notes=result.notes, as_json=json, quiet=quiet, dry_run=dry_run,
                          form=form)
    return run_guarded(body, debug=debug, as_json=json, path=output)


def _merge_input(address: int, file: str) -> bytes:
    """A part's flash bytes: the file, or the flash a HEX/UF2 part describes (which must
    start at the address given for it)."""
    from ..containers import decode, sniff

    data = read_input(file, "part to merge")
    if sniff(data) is None:
        return data
    found = decode(data)
    if found.start != address:
        raise UsageError(f"{file}: the {found.kind} file starts at {found.start:#x}, not at "
                         f"{address:#x} as given")
    return found.flash()


def _merge_parts(parts: list[str], output: str) -> list[tuple[int, str]]:
    """``ADDR=FILE`` arguments as (address, file); ``-o`` may not name one of the files."""
    from ..io import check_output

    specs = [_merge_part(spec) for spec in parts]
    check_output(output, [file for _, file in specs])
    return specs


def _merge_part(spec: str) -> tuple[int, str]:
    addr, file = pair(spec, "=", "merge", "ADDR=FILE arguments")
    try:
        return int(addr, 0), file
    except ValueError:
        raise UsageError(f"{spec!r}: {addr!r} is not an address") from None


def table(
    file: File,
    output: Annotated[str | None, output_option(
        "Write here (default: a table is printed as CSV; a CSV is compiled to NAME.bin "
        "next to it).")] = None,
    offset: Annotated[str, option("--offset", metavar="ADDR",
                                  help="Table offset for CSV input.")] = "0x8000",
    flash_size: Annotated[str | None, option("--flash-size", metavar="SIZE",
                                             help="Check the table fits.")] = None,
    fmt: OutFormat = None, dry_run: DryRun = False, force: Force = False, json: Json = False,
    quiet: Quiet = False, debug: Debug = False,
) -> int:
    """Print a table as ESP-IDF CSV, or compile a CSV to a binary table (like gen_esp32part).

    Example: [bold]esp-image table firmware.bin[/bold]  or
    [bold]esp-image table partitions.csv -o partitions.bin[/bold]
    """
    def body() -> int:
        from ..containers import sniff
        from ..partition_csv import decode_csv, looks_like_csv
        from ..partition_table import PartitionTable

        table_offset = parse_int(offset, "--offset", "0x8000")
        size = parse_size_option(flash_size, "--flash-size")
        raw = read_input(file, "partition table or CSV")
        if not looks_like_csv(file, raw) or sniff(raw) is not None:  # HEX is ASCII too
            return _print_table(file, raw, output, dry_run=dry_run, json=json, quiet=quiet)
        compiled = PartitionTable.from_csv(decode_csv(raw, file), table_offset=table_offset)
        errors = [i for i in compiled.validate(flash_size=size, table_offset=table_offset)
                  if i.is_error]
        if errors:
            from ..errors import LayoutError

            raise LayoutError("; ".join(i.message for i in errors))
        target = output or (file.rsplit(".", 1)[0] + (format_suffix(fmt) or ".bin"))
        return _write_table(file, compiled, target, dry_run=dry_run, force=force, json=json,
                            quiet=quiet, default=not output,
                            form=output_form(fmt, target, address=table_offset))
    return run_guarded(body, debug=debug, as_json=json, path=file)


def _write_table(path: str, compiled: PartitionTable, target: str, *, dry_run: bool,
                 force: bool, json: bool, quiet: bool, default: bool, form: OutputForm) -> int:
    """A CSV compiled: the binary table written next to it (or to ``-o``)."""
    from ..io import check_output

    check_output(target, [path], default=default, force=force)
    return emit_write(source=path, output=target, data=compiled.to_bytes(),
                      actions=[f"compiled {len(compiled.partitions)} partitions"],
                      as_json=json, extra={"partitions": [p.to_dict() for p in
                                                          compiled.partitions]},
                      quiet=quiet, dry_run=dry_run, form=form)


def _print_table(path: str, raw: bytes, output: str | None, *, dry_run: bool, json: bool,
                 quiet: bool) -> int:
    """A binary table or firmware: its table as CSV, printed or written to ``-o``."""
    image = Image.from_bytes(raw, path=path)
    found = image.table
    if found is None:
        raise UsageError(f"{path}: no partition table found (it is {image.kind})")
    text = found.to_csv()
    if output:
        from ..io import check_output

        check_output(output, [path])
        if not dry_run:
            _write_csv(output, text, found, image.table_address or 0x8000)
    if json:
        write_json({"input": path, "output": output,
                    "partitions": [p.to_dict() for p in found.partitions], "csv": text})
    elif not output:
        from ..terminal import shown_lines

        sys.stdout.write(shown_lines(text))
    elif not quiet:
        from ..terminal import shown

        sys.stdout.write(f"{'would write' if dry_run else 'wrote'} {shown(output)}\n")
    return EXIT_OK


def _write_csv(output: str, text: str, found: PartitionTable, table_offset: int) -> None:
    from ..io import write_atomic
    from ..partition_table import PartitionTable

    def same_table(written: bytes) -> None:
        again = PartitionTable.from_csv(written.decode("utf-8"), table_offset=table_offset)
        if again.to_bytes() != found.to_bytes():
            raise VerificationFailed(f"refusing to write {output}: the CSV does not "
                                     "compile back to the same table")
    write_atomic(output, text.encode(), verify=same_table)


def convert(
    file: File,
    to: Annotated[str, option("--to", metavar="FORM", help="gen_appbin | esptool")],
    user: Annotated[int | None, option("--user", metavar="N",
                                       help="1 or 2: which gen_appbin user bin this is.")
                    ] = None,
    output: Output = None, in_place: InPlace = False, dry_run: DryRun = False,
    force: Force = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> int:
    """Convert an ESP8266 v2 image between esptool's and gen_appbin's form (CRC repaired).

    Example: [bold]esp-image convert app.bin --to gen_appbin --user 1[/bold]
    """
    def body() -> int:
        from ..transforms.esp8266 import convert_v2

        raw = read_input(file, "ESP8266 v2 image")
        data = convert_v2(raw, to=to, user=user)
        tag = to if user is None else f"{to}-user{user}"
        return emit_write(source=file,
                          output=choose_output(file, output, in_place, tag, force=force),
                          data=data, actions=[f"converted to the {to} form"
                                              + (f" (user{user})" if user else "")],
                          dry_run=dry_run, as_json=json, quiet=quiet, original=raw)
    return run_guarded(body, debug=debug, as_json=json, path=file)


_BLANK_NOTE = ("blank.bin in the command is the NONOS SDK's bin/blank.bin: 4096 bytes of 0xFF "
               "(make one with: python3 -c \"open('blank.bin','wb').write(b'\\xff'*4096)\")")


def layout_esp8266(
    map_name: Annotated[str, option("--map", metavar="MAP",
                                    help="NONOS map: 1MB, 4MB-c1, 32m-c1 ...")],
    boot: Annotated[str | None, option("--boot", metavar="FILE",
                                       help="The bootloader, boot_v1.x.bin.")] = None,
    user1: Annotated[str | None, option("--user1", metavar="FILE",
                                        help="The user1.bin app.")] = None,
    user2: Annotated[str | None, option("--user2", metavar="FILE",
                                        help="The user2.bin app.")] = None,
    init_data: Annotated[str | None, option(
        "--init-data", metavar="FILE", help="The RF init data, esp_init_data_default.bin.")
                         ] = None,
    output: Annotated[str | None, output_option(
        "Also write the complete flash image here (nothing is written without -o).")] = None,
    port: Port = "PORT", fmt: OutFormat = None,
    dry_run: DryRun = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> int:
    """The ESP8266 NONOS flash plan for a map, the esptool command, and the full image.

    Example: [bold]esp-image layout esp8266 --map 4MB-c1 --boot boot_v1.7.bin --user1
    user1.bin -o full.bin[/bold]
    """
    def body() -> int:
        plan, files = _esp8266_plan(map_name, boot=boot, user1=user1, user2=user2,
                                    init_data=init_data)
        command = plan.write_flash_command(port=port, files=files)
        notes = [*plan.notes, *([_BLANK_NOTE] if "blank.bin" in command else [])]
        if output:
            _write_plan(plan, map_name, output, list(files.values()), dry_run=dry_run,
                        json=json, quiet=quiet,
                        form=output_form(fmt, output, address=0, chip=chip_by_name("esp8266")))
        if json:
            write_json({**plan.to_dict(), "write_flash": command, "notes": notes,
                        "output": output})
        elif not quiet:
            from .render import plain, plan_blocks

            sys.stdout.write(plain(plan_blocks(f"ESP8266 flash plan: {plan.flash_map.title}",
                                               plan, files, notes, command)))
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=output)


def _esp8266_plan(map_name: str, **paths: str | None) -> tuple[LayoutPlan, dict[str, str]]:
    """The plan for ``map_name`` with the files given by role (boot, user1, user2, init_data),
    and those files by role."""
    from ..transforms.esp8266 import plan_layout

    files = {role: path for role, path in paths.items() if path}
    return plan_layout(map_name, **{
        role: _esp8266_part(path, "esp8266-init-data" if role == "init_data" else "image")
        for role, path in files.items()}), files


def _esp8266_part(name: str, kind: str) -> bytes:
    """The file ``name``, refused unless it is an ESP8266 ``kind`` (an image, init data)."""
    data = read_input(name, "ESP8266 image")
    found = Image.from_bytes(data, path=name)
    if found.kind != kind or found.chip is None or found.chip.name != "esp8266":
        what = "esp_init_data_default" if kind == "esp8266-init-data" else "ESP8266 image"
        raise UsageError(f"{name}: not an {what} (it is "
                         f"{found.chip.name + ' ' if found.chip else ''}{found.kind})")
    return data


def _write_plan(plan: LayoutPlan, map_name: str, output: str, inputs: list[str], *,
                dry_run: bool, json: bool, quiet: bool, form: OutputForm) -> None:
    """The full flash image; with --json its report goes to stderr, the plan to stdout."""
    from ..io import check_output

    check_output(output, inputs)
    emit_write(source=None, output=output, data=plan.build(),
               actions=[f"full flash image for map {map_name}"], as_json=False,
               out=sys.stderr if json else None, quiet=quiet, dry_run=dry_run, form=form)
