"""Command bodies shared by the typer CLI and the fast entry path.

Each function opens files through the library, renders what it returns and gives back the
exit code of cli-contract.md: 0 success, 1 damage found (``verify``), 2 unusable input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from .errors import EspImageError, UsageError
from .image import Image
from .io import MAX_FILE_SIZE, read_input

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import TextIO

EXIT_OK = 0
EXIT_DAMAGED = 1
EXIT_UNUSABLE = 2


def error_line(message: str, err: TextIO | None = None) -> None:
    """Write one ``esp-image: error: ...`` line to stderr (names from files escaped)."""
    from .terminal import shown

    (err or sys.stderr).write(f"esp-image: error: {shown(message)}\n")


def _open_all(paths: Sequence[str], chip: str | None, err: TextIO,
              debug: bool, max_size: int | None = MAX_FILE_SIZE) -> list[Image | str]:
    """Open every path; a failure becomes its one-line message (the others still run)."""
    results: list[Image | str] = []
    for path in paths:
        try:
            results.append(Image.open(path, chip=chip, max_size=max_size))
        except EspImageError as exc:
            if debug:
                raise
            error_line(str(exc), err)
            results.append(str(exc))
        except Exception as exc:  # a bug must still give one line, not a traceback
            if debug:
                raise
            message = f"{path}: internal error: {type(exc).__name__}: {exc} (run with --debug)"
            error_line(message, err)
            results.append(message)
    return results


def _json_doc(paths: Sequence[str], results: list[Image | str]) -> str:
    import json

    docs: list[dict[str, object]] = []
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, str):
            docs.append({"path": path, "error": result})
        else:
            docs.append(result.to_dict())
    return json.dumps(docs[0] if len(docs) == 1 else docs, indent=2)


def _run(paths: Sequence[str], *, as_json: bool, chip: str | None, debug: bool,
         out: TextIO | None, err: TextIO | None,
         max_size: int | None = MAX_FILE_SIZE) -> tuple[list[Image | str], TextIO]:
    """Open every file and, with ``--json``, print the document; return results and stdout."""
    stream = out or sys.stdout
    results = _open_all(paths, chip, err or sys.stderr, debug, max_size)
    if as_json:
        stream.write(_json_doc(paths, results) + "\n")
    return results, stream


def info(paths: Sequence[str], *, as_json: bool = False, chip: str | None = None,
         quiet: bool = False, debug: bool = False,
         out: TextIO | None = None, err: TextIO | None = None,
         no_size_limit: bool = False) -> int:
    """``esp-image info``: describe every file; 2 if any file could not be read."""
    results, stream = _run(paths, as_json=as_json, chip=chip, debug=debug, out=out, err=err,
                           max_size=None if no_size_limit else MAX_FILE_SIZE)
    if not as_json and quiet:
        from .render import problem_lines
        from .terminal import shown_lines

        for result in results:
            if isinstance(result, Image):
                lines = problem_lines(result)
                if lines:
                    stream.write(shown_lines("\n".join(lines)) + "\n")
    elif not as_json:
        from .render import Block, describe, write_blocks

        blocks: list[Block] = []
        for result in results:
            if isinstance(result, Image):
                if blocks:
                    blocks.append("")
                blocks.extend(describe(result))
        write_blocks(blocks, stream)
    return EXIT_UNUSABLE if any(isinstance(r, str) for r in results) else EXIT_OK


def verify(paths: Sequence[str], *, as_json: bool = False, chip: str | None = None,
           quiet: bool = False, debug: bool = False,
           out: TextIO | None = None, err: TextIO | None = None,
           no_size_limit: bool = False) -> int:
    """``esp-image verify``: 0 if every check of every file passed, 1 if not, 2 if unusable."""
    results, stream = _run(paths, as_json=as_json, chip=chip, debug=debug, out=out, err=err,
                           max_size=None if no_size_limit else MAX_FILE_SIZE)
    if not as_json:
        from .render import verify_lines
        from .terminal import shown_lines

        for result in results:
            if isinstance(result, Image) and not (quiet and result.valid):
                stream.write(shown_lines("\n".join(verify_lines(result))) + "\n")
    if any(isinstance(r, str) for r in results):
        return EXIT_UNUSABLE
    return EXIT_OK if all(isinstance(r, Image) and r.valid for r in results) else EXIT_DAMAGED


# ---------------------------------------------------------------------- writing commands
"""The name the command modules used before the library had :class:`UsageError`."""


def run_guarded(body: Callable[[], int], *, debug: bool = False,
                err: TextIO | None = None, as_json: bool = False,
                path: str | None = None) -> int:
    """Run a command body: esp_image errors become one line and the contract's exit code.

    A ``LayoutError`` or a failed verification is a pre-flight refusal (exit 1); unusable
    input or a malformed request (:class:`UsageError`) exits 2. Nothing is written in either
    case. With ``as_json`` stdout also gets ``{"path": path, "error": message}``, as ``info``
    prints for a file it cannot read, so a pipeline always gets a document.
    """
    from .errors import LayoutError
    from .io import VerificationFailed

    stream = err or sys.stderr
    try:
        return body()
    except UsageError as exc:
        if debug:
            raise
        message, code = str(exc), EXIT_UNUSABLE
    except (LayoutError, VerificationFailed) as exc:
        if debug:
            raise
        message, code = f"refused: {exc}", EXIT_DAMAGED
    except (EspImageError, ValueError) as exc:
        if debug:
            raise
        message, code = str(exc), EXIT_UNUSABLE
    except Exception as exc:  # a bug must still give one line, not a traceback
        if debug:
            raise
        message = f"internal error: {type(exc).__name__}: {exc} (run with --debug)"
        code = EXIT_UNUSABLE
    error_line(message, stream)
    if as_json:
        import json

        sys.stdout.write(json.dumps({"path": path, "error": message}, indent=2) + "\n")
    return code


def emit_write(*, source: str | None, output: str, data: bytes, actions: Sequence[str],
               notes: Sequence[str] = (), dry_run: bool = False, as_json: bool = False,
               verify: bool | Callable[[bytes], None] = True,
               extra: dict[str, object] | None = None,
               out: TextIO | None = None, quiet: bool = False,
               original: bytes | memoryview | None = None,
               flash_command: str | None = None) -> int:
    """Write ``data`` to ``output`` atomically (unless ``dry_run``) and report what was done.

    ``original`` is the input's bytes for a command that rewrites it: when ``data`` is equal,
    nothing is written ("nothing to change"; JSON: no actions, ``written`` and ``changed``
    false). ``flash_command`` is how to flash the result, printed after the report and given
    to JSON as ``write_flash``.
    """
    from .io import same_file, verify_bytes, write_atomic

    stream = out or sys.stdout
    changed = original is None or data != original
    fd = _fileno(stream) if stream is sys.stdout else None
    if fd is not None and same_file(output, fd):
        stream = sys.stderr  # -o /dev/stdout: the report must not mix with the bytes
    written = changed and not dry_run
    if written:
        check = verify if callable(verify) else verify_bytes if verify else None
        write_atomic(output, data, verify=check)
    if not changed:
        actions, flash_command = (), None
    if as_json:
        import json

        doc: dict[str, object] = {"input": source, "output": output, "written": written,
                                  "changed": changed, "size": len(data),
                                  "actions": list(actions), "notes": list(notes),
                                  **(extra or {})}
        if flash_command is not None:
            doc["write_flash"] = flash_command
        stream.write(json.dumps(doc, indent=2) + "\n")
        return EXIT_OK
    if quiet:
        return EXIT_OK
    if not changed:
        lines = [f"nothing to change: {source} already is what was asked; nothing written"]
    else:
        lines = [f"{'would write' if dry_run else 'wrote'} {output} ({len(data)} bytes)"]
    lines += [f"  - {a}" for a in actions]
    lines += [f"  note: {n}" for n in notes]
    if flash_command is not None:
        lines += ["flash it with:", f"  {flash_command}"]
    from .terminal import shown_lines

    stream.write(shown_lines("\n".join(lines)) + "\n")
    return EXIT_OK


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.StringIO and closed streams have none
        return None


def choose_output(path: str, output: str | None, in_place: bool, tag: str,
                  suffix: str | None = None, *, force: bool = False,
                  inputs: Sequence[str] = ()) -> str:
    """``-o`` if given, the input with ``--in-place``, else a tagged name next to the input.

    Refuses (one line, exit 2) ``-o`` naming the input or one of ``inputs`` (by identity:
    the same path spelled differently, a symlink or a hard link) and a default name that
    exists, unless ``force``.
    """
    from .io import check_output, output_name

    if output and in_place:
        raise UsageError("give either -o/--output or --in-place, not both")
    if in_place:  # every input is read before the write
        return path
    target = output or output_name(path, tag, suffix=suffix)
    check_output(target, [path, *inputs], default=not output, force=force)
    return target


def esptool_write_flash(chip: str, address: int, path: str, port: str = "PORT") -> str:
    """The esptool 5 command that flashes ``path`` (a file whose byte 0 belongs at
    ``address``: the file's base, e.g. 0x1000 for an ESP32 MicroPython firmware)."""
    import shlex

    words = ["esptool", "--chip", chip, "--port", port, "write-flash", f"{address:#x}", path]
    return " ".join(shlex.quote(w) for w in words)


def _open(path: str) -> Image:
    return Image.open(path)


def _size(text: str | None, what: str) -> int | None:
    from .units import parse_size_option

    return parse_size_option(text, what)


def _pair(spec: str, sep: str, option: str, form: str) -> tuple[str, str]:
    if sep not in spec:
        raise UsageError(f"{option} takes {form}, got {spec!r}")
    left, right = spec.split(sep, 1)
    return left.strip(), right.strip()


def parse_int(text: str, option: str, example: str = "0x10000") -> int:
    """An integer option value (decimal or 0x hex), or a :class:`UsageError` naming both."""
    try:
        return int(text, 0)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a number (e.g. {example})") from None


def _table_rows(table: object) -> list[dict[str, object]]:
    from .partition_table import PartitionTable

    assert isinstance(table, PartitionTable)
    return [p.to_dict() for p in table.partitions]


def run_retable(path: str, *, flash_size: str | None, table: str | None, app_size: str | None,
                resize: Sequence[str], add: Sequence[str], delete: Sequence[str],
                rename: Sequence[str], output: str | None, in_place: bool, dry_run: bool,
                as_json: bool, quiet: bool = False, debug: bool = False,
                erase_fs: bool = False, force: bool = False) -> int:
    """``esp-image retable``."""
    def body() -> int:
        from .render import partition_table_block, plain
        from .transforms.retable import RetableOptions, retable

        options = RetableOptions.parse(
            flash_size=flash_size, table=table, app_size=app_size, resize=resize, add=add,
            delete=delete, rename=rename, erase_fs=erase_fs)
        image = _open(path)
        result = retable(image, options)
        target = choose_output(path, output, in_place, options.tag(), force=force)
        # retable() refuses a file without a chip and a base, so both are known here
        command = esptool_write_flash(image.chip.name, image.base, target) \
            if image.chip is not None and image.base is not None else None
        code = emit_write(source=path, output=target, data=result.data, actions=result.actions,
                          notes=result.notes, dry_run=dry_run, as_json=as_json, quiet=quiet,
                          extra={"flash_size": result.flash_size,
                                 "partitions": _table_rows(result.table)},
                          original=image.data, flash_command=command)
        if not as_json and not quiet and result.data != image.data:
            sys.stdout.write(plain([partition_table_block(result.table)]))
        return code
    return run_guarded(body, debug=debug, as_json=as_json, path=path)


def run_flash_params(path: str, *, size: str | None, mode: str | None, freq: str | None,
                     output: str | None, in_place: bool, dry_run: bool, as_json: bool,
                     debug: bool = False, quiet: bool = False, force: bool = False) -> int:
    """``esp-image flash-params``."""
    def body() -> int:
        from .transforms.flash import FlashParams, set_flash_params

        params = FlashParams.parse(size, mode, freq)
        image = _open(path)
        tag = "-".join(x for x in (size, mode, freq) if x) or "flash-params"
        result = set_flash_params(image, params)
        return emit_write(source=path,
                          output=choose_output(path, output, in_place, tag, force=force),
                          data=result.data, actions=result.actions, dry_run=dry_run,
                          as_json=as_json, quiet=quiet, original=image.data)
    return run_guarded(body, debug=debug, as_json=as_json, path=path)


def run_otadata(path: str, *, boot: str | None, state: str | None, erase: bool,
                slots: int | None, output: str | None, in_place: bool, dry_run: bool,
                as_json: bool, debug: bool = False, quiet: bool = False,
                force: bool = False) -> int:
    """``esp-image otadata``: report (no change option) or rewrite the OTA selection."""
    def body() -> int:
        from .transforms.ota import otadata_for

        if erase and (boot is not None or state is not None):
            raise UsageError("--erase clears both records: give it alone, not with "
                             "--boot or --state")
        if boot is None and state is None and not erase:
            if output or in_place or dry_run or force:
                raise UsageError("nothing to change: give --boot, --state or --erase "
                                 "(otadata FILE alone reports and writes nothing)")
            return _report_otadata(path, slots, as_json, quiet)
        image = _open(path)
        result = otadata_for(image, slot=boot, state=state, erase=erase, ota_slot_count=slots,
                             force=force)
        after = Image.from_bytes(result.data)
        extra: dict[str, object] = {"boot": after.boot.to_dict() if after.boot else None}
        return emit_write(source=path, output=choose_output(path, output, in_place, "otadata",
                                                            force=force),
                          data=result.data, actions=result.actions, dry_run=dry_run,
                          as_json=as_json, extra=extra, quiet=quiet, original=image.data)
    return run_guarded(body, debug=debug, as_json=as_json, path=path)


def _report_otadata(path: str, slots: int | None, as_json: bool, quiet: bool) -> int:
    """Both records and the boot answer; a file without otadata is described, not refused."""
    from .transforms.ota import otadata_location

    image = _open(path)
    if not (image.kind == "flash" and image.table is not None
            and image.table.otadata is None):
        otadata_location(image, slots)  # one line for a file that holds no otadata
    boot = image.boot
    if image.kind == "otadata" and slots not in (None, 2) and image.otadata is not None:
        boot = image.otadata.select(ota_slot_count=slots or 2, has_factory=False)
        image = replace(image, boot=boot)
    issues = [i for i in image.issues if i.code == "boot-fallback"]
    if as_json:
        import json

        doc = {"path": path, "kind": image.kind,
               "otadata": image.otadata.to_dict() if image.otadata is not None else None,
               "boot": boot.to_dict() if boot is not None else None,
               "issues": [i.to_dict() for i in issues],
               "notes": list(image.notes) if image.kind == "otadata" else []}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return EXIT_OK
    if not quiet or issues:
        from .render import otadata_report, plain

        sys.stdout.write(plain(otadata_report(image, issues, quiet=quiet)))
    return EXIT_OK


def run_extract(path: str, what: str, *, output: str | None, raw: bool, as_json: bool,
                debug: bool = False, quiet: bool = False, dry_run: bool = False,
                force: bool = False) -> int:
    """``esp-image extract``."""
    def body() -> int:
        from .io import VerificationFailed, check_output, verify_bytes
        from .transforms.extract import default_extract_name, extract

        image = _open(path)
        part = extract(image, what, raw=raw)
        target = output or default_extract_name(path, what)
        check_output(target, [path], default=not output, force=force)
        # Checked as what it is (an app, a table, otadata, a filesystem); a data partition
        # esp_image does not model (nvs, phy_init) is "unknown", as verify leaves it in a
        # firmware. --raw is the region as it is, damage included: read back only.
        strict = what.lower() in ("bootloader", "partition-table", "otadata") or \
            part.data[:1] in (b"\xe9", b"\xea")

        def verify(written: bytes) -> None:
            if raw:
                return
            try:
                verify_bytes(written, what=target, allow_unknown=not strict)
            except VerificationFailed as exc:
                raise VerificationFailed(f"{exc}; --raw writes the bytes as they are") from None
        return emit_write(source=path, output=target, data=part.data, actions=part.actions,
                          notes=part.notes, as_json=as_json, verify=verify, quiet=quiet,
                          dry_run=dry_run)
    return run_guarded(body, debug=debug, as_json=as_json, path=path)


def run_merge(parts: Sequence[str], *, output: str, pad_to: str | None, chip: str | None,
              flash_size: str | None, flash_mode: str | None, flash_freq: str | None,
              target_offset: str | None, as_json: bool, debug: bool = False,
              quiet: bool = False, dry_run: bool = False) -> int:
    """``esp-image merge``."""
    def body() -> int:
        from .transforms.merge import merge

        # Parsed before any file is read: a malformed request is reported as such.
        start = parse_int(target_offset, "--target-offset") if target_offset else 0
        pad = _size(pad_to, "--pad-to")
        specs: list[tuple[int, str]] = []
        for spec in parts:
            addr, file = _pair(spec, "=", "merge", "ADDR=FILE arguments")
            try:
                specs.append((int(addr, 0), file))
            except ValueError:
                raise UsageError(f"{spec!r}: {addr!r} is not an address") from None
        from .io import check_output

        check_output(output, [file for _, file in specs])
        # Names stay paired with their parts: two parts at one address must be named apart.
        pieces = [(address, read_input(file, "part to merge")) for address, file in specs]
        result = merge(pieces, chip=chip, pad_to=pad,
                       flash_size=flash_size, flash_mode=flash_mode, flash_freq=flash_freq,
                       target_offset=start, names=[file for _, file in specs])
        actions = [f"{addr:#x}: {file}" for addr, file in sorted(specs)]
        return emit_write(source=None, output=output, data=result.data, actions=actions,
                          notes=result.notes, as_json=as_json, quiet=quiet, dry_run=dry_run)
    return run_guarded(body, debug=debug, as_json=as_json, path=output)


def run_table(path: str, *, output: str | None, offset: str, flash_size: str | None,
              as_json: bool, debug: bool = False, quiet: bool = False,
              dry_run: bool = False, force: bool = False) -> int:
    """``esp-image table``: binary/flash → CSV, or CSV → binary."""
    def body() -> int:
        from .io import check_output
        from .partition_csv import decode_csv, looks_like_csv
        from .partition_table import PartitionTable

        table_offset = parse_int(offset, "--offset", "0x8000")
        size = _size(flash_size, "--flash-size")
        raw = read_input(path, "partition table or CSV")
        if looks_like_csv(path, raw):
            table = PartitionTable.from_csv(decode_csv(raw, path), table_offset=table_offset)
            errors = [i for i in table.validate(flash_size=size, table_offset=table_offset)
                      if i.is_error]
            if errors:
                from .errors import LayoutError

                raise LayoutError("; ".join(i.message for i in errors))
            target = output or (path.rsplit(".", 1)[0] + ".bin")
            check_output(target, [path], default=not output, force=force)
            return emit_write(source=path, output=target, data=table.to_bytes(),
                              actions=[f"compiled {len(table.partitions)} partitions"],
                              as_json=as_json, extra={"partitions": _table_rows(table)},
                              quiet=quiet, dry_run=dry_run)
        image = Image.from_bytes(raw, path=path)
        if image.table is None:
            raise UsageError(f"{path}: no partition table found (it is {image.kind})")
        text = image.table.to_csv()
        if output:
            check_output(output, [path])
        if output and not dry_run:
            from .io import write_atomic

            def same_table(written: bytes) -> None:
                from .io import VerificationFailed

                assert image.table is not None
                again = PartitionTable.from_csv(written.decode("utf-8"),
                                                table_offset=image.table_address or 0x8000)
                if again.to_bytes() != image.table.to_bytes():
                    raise VerificationFailed(f"refusing to write {output}: the CSV does not "
                                             "compile back to the same table")

            write_atomic(output, text.encode(), verify=same_table)
        if as_json:
            import json

            sys.stdout.write(json.dumps({"input": path, "output": output,
                                         "partitions": _table_rows(image.table),
                                         "csv": text}, indent=2) + "\n")
        elif not output:
            from .terminal import shown_lines

            sys.stdout.write(shown_lines(text))
        elif not quiet:
            from .terminal import shown

            sys.stdout.write(f"{'would write' if dry_run else 'wrote'} {shown(output)}\n")
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=as_json, path=path)


def run_convert(path: str, *, to: str, user: int | None, output: str | None, in_place: bool,
                dry_run: bool, as_json: bool, debug: bool = False, quiet: bool = False,
                force: bool = False) -> int:
    """``esp-image convert`` (ESP8266 v2 esptool <-> gen_appbin)."""
    def body() -> int:
        from .transforms.esp8266 import convert_v2

        raw = read_input(path, "ESP8266 v2 image")
        data = convert_v2(raw, to=to, user=user)
        tag = to if user is None else f"{to}-user{user}"
        return emit_write(source=path,
                          output=choose_output(path, output, in_place, tag, force=force),
                          data=data, actions=[f"converted to the {to} form"
                                              + (f" (user{user})" if user else "")],
                          dry_run=dry_run, as_json=as_json, quiet=quiet, original=raw)
    return run_guarded(body, debug=debug, as_json=as_json, path=path)


_BLANK_NOTE = ("blank.bin in the command is the NONOS SDK's bin/blank.bin: 4096 bytes of 0xFF "
               "(make one with: python3 -c \"open('blank.bin','wb').write(b'\\xff'*4096)\")")


def run_layout_esp8266(map_name: str, *, boot: str | None, user1: str | None,
                       user2: str | None, init_data: str | None, output: str | None,
                       port: str, as_json: bool, debug: bool = False, quiet: bool = False,
                       dry_run: bool = False) -> int:
    """``esp-image layout esp8266``."""
    def body() -> int:
        from .transforms.esp8266 import plan_layout

        def read(name: str | None, kinds: tuple[str, ...] = ("image",)) -> bytes | None:
            if name is None:
                return None
            data = read_input(name, "ESP8266 image")
            found = Image.from_bytes(data, path=name)
            if found.kind not in kinds or found.chip is None or found.chip.name != "esp8266":
                what = "esp_init_data_default" if "esp8266-init-data" in kinds else \
                    "ESP8266 image"
                raise UsageError(f"{name}: not an {what} (it is "
                                   f"{found.chip.name + ' ' if found.chip else ''}{found.kind})")
            return data

        files = {k: v for k, v in (("boot", boot), ("user1", user1), ("user2", user2),
                                   ("init_data", init_data)) if v}
        plan = plan_layout(map_name, boot=read(boot), user1=read(user1), user2=read(user2),
                           init_data=read(init_data, ("esp8266-init-data",)))
        command = plan.write_flash_command(port=port, files=files)
        notes = [*plan.notes, _BLANK_NOTE] if "blank.bin" in command else list(plan.notes)
        if output:
            from .io import check_output

            check_output(output, list(files.values()))
            data = plan.build()
            emit_write(source=None, output=output, data=data,
                       actions=[f"full flash image for map {map_name}"], as_json=False,
                       out=sys.stderr if as_json else None, quiet=quiet, dry_run=dry_run)
        if as_json:
            import json

            sys.stdout.write(json.dumps({**plan.to_dict(), "write_flash": command,
                                         "notes": notes, "output": output}, indent=2) + "\n")
            return EXIT_OK
        if quiet:
            return EXIT_OK
        from .render import Block, Table, plain

        table = Table(f"ESP8266 flash plan: {plan.flash_map.title}", list(plan.ROW_HEADERS),
                      align="rrlll")
        for row in plan.rows_for(files):
            table.rows.append([str(c) for c in row])
        blocks: list[Block] = [table]
        blocks += [f"{i.severity}: {i.message}" for i in plan.issues]
        blocks += [f"note: {n}" for n in notes]
        blocks += ["", "flash it with:", f"  {command}"]
        sys.stdout.write(plain(blocks))
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=as_json, path=output)
