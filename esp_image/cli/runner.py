"""What every command shares: guarded running, error lines, exit codes, writing outputs.

Exit codes of cli-contract.md: 0 success, 1 damage found or a pre-flight refusal, 2 unusable
input or a malformed request. No library logic lives here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from ..errors import EspImageError, UsageError
from ..image import Image
from ..io import MAX_FILE_SIZE

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import TextIO

    from ..chips import Chip
    from ..containers import Form

EXIT_OK = 0
EXIT_DAMAGED = 1
EXIT_UNUSABLE = 2


def error_line(message: str, err: TextIO | None = None) -> None:
    """Write one ``esp-image: error: ...`` line to stderr (names from files escaped)."""
    from ..terminal import shown

    (err or sys.stderr).write(f"esp-image: error: {shown(message)}\n")


def open_all(paths: Sequence[str], *, chip: str | None, debug: bool,
             no_size_limit: bool = False, key: str | None = None) -> list[Image | str]:
    """Open every path; a failure becomes its one-line message (the others still run).

    ``key`` is a key file for wrapped files (``--key``); one that cannot be read fails every
    path with the same line.
    """
    from ..errors import KeyMismatch
    from ..io import read_input

    results: list[Image | str] = []
    try:
        key_bytes = read_input(key, "key file") if key is not None else None
    except EspImageError as exc:
        if debug:
            raise
        error_line(str(exc))
        return [str(exc)] * len(paths)
    for path in paths:
        try:
            results.append(Image.open(path, chip=chip, key=key_bytes,
                                      max_size=None if no_size_limit else MAX_FILE_SIZE))
        except EspImageError as exc:
            if debug:
                raise
            message = f"{path}: {exc} (--key {key})" if isinstance(exc, KeyMismatch) \
                else str(exc)
            error_line(message)
            results.append(message)
        except Exception as exc:  # a bug must still give one line, not a traceback
            if debug:
                raise
            message = f"{path}: internal error: {type(exc).__name__}: {exc} (run with --debug)"
            error_line(message)
            results.append(message)
    return results


def refuse_wrapped(image: Image) -> None:
    """Refuse (one line, exit 2) to change a wrapped file: the change would have to go inside
    the compression, signature or encryption, which cannot be redone here."""
    from ..recognise.wrapped import change_refusal

    refusal = change_refusal(image)
    if refusal is not None:
        raise UsageError(refusal)


def flash_input(image: Image) -> Image:
    """What a changing command works on: a HEX/UF2 file's flash bytes (the same model as the
    .bin), the file itself when it is plain; other wrappers are refused (:func:`refuse_wrapped`)."""
    refuse_wrapped(image)
    return image.unwrapped()


class OutputForm:
    """How an output is written (``--format``, ``-o``'s suffix or the input's container) and
    what HEX/UF2 need: the flash address of data byte 0 and the chip (UF2's family id)."""

    def __init__(self, form: Form, address: int | None, chip: Chip | None,
                 source_form: str = "raw") -> None:
        self.form, self.address, self.chip, self.source_form = form, address, chip, source_form
        self._sparse: tuple[bytes, list[tuple[int, bytes]]] | None = None

    def _segments(self, data: bytes) -> list[tuple[int, bytes]]:
        """``data`` without its erased sectors: made once for the encoding and its check."""
        from ..containers import sparse

        assert self.address is not None
        if self._sparse is None or self._sparse[0] is not data:
            self._sparse = (data, sparse(self.address, data))
        return self._sparse[1]

    def encode(self, data: bytes) -> bytes:
        """``data`` in this form (raw: unchanged).

        Raises:
            UsageError: HEX/UF2 without a known address, UF2 without a chip, or nothing but
                erased flash to describe.
        """
        if self.form == "raw":
            return data
        from ..containers import encode_segments

        if self.address is None:
            raise UsageError(f"{self.form.upper()} needs the flash address of the data, and it "
                             "is not known for this file; write raw (--format raw)")
        segments = self._segments(data)
        if not segments:
            raise UsageError(f"the data is all erased flash: a {self.form.upper()} file would "
                             "describe nothing; write raw (--format raw)")
        return encode_segments(self.form, segments, self.chip)

    def verifier(self, data: bytes, inner: Callable[[bytes], None] | None
                 ) -> Callable[[bytes], None] | None:
        """The check of the written file: decoded back, it describes ``data`` at the address,
        sector for sector, and ``data`` passes ``inner`` (the command's usual check)."""
        if self.form == "raw":
            return inner

        def check(written: bytes) -> None:
            from ..containers import decode
            from ..errors import VerificationFailed

            try:
                back = decode(written)
            except EspImageError as exc:
                raise VerificationFailed(f"refusing to write it: the {self.form.upper()} "
                                         f"output does not read back ({exc})") from None
            if list(back.segments) != self._segments(data) or \
                    not all(c.valid for c in back.checks):
                raise VerificationFailed(f"refusing to write it: the {self.form.upper()} "
                                         "output does not describe the flash bytes meant")
            if inner is not None:
                inner(data)
        return check


def output_form(requested: str | None, output: str | None, image: Image | None = None, *,
                address: int | None = None, chip: Chip | None = None) -> OutputForm:
    """The form of an output (``--format``, else ``-o``'s suffix, else the input ``image``'s
    container) with the flash address of its byte 0 (``address``, else the container's
    start, else the flash file's base) and its chip."""
    from ..containers import FORM_OF_KIND, form_for

    source = image.wrappers[0].kind if image is not None and image.wrappers else None
    form = form_for(requested, output, source)
    if image is not None:
        if address is None and source in FORM_OF_KIND:
            address = int(image.wrappers[0].outer["start_address"])  # type: ignore[call-overload]
        elif address is None:
            address = image.base
        chip = chip or image.chip
    return OutputForm(form, address, chip, FORM_OF_KIND.get(source or "", "raw"))


def format_suffix(requested: str | None) -> str | None:
    """The default output name's suffix for ``--format`` (None: keep the input's)."""
    from ..containers import form_for, suffix_of

    return suffix_of(form_for(requested, None, None)) if requested is not None else None


def write_json(doc: object, stream: TextIO | None = None) -> None:
    """One JSON document on stdout (or ``stream``), as every ``--json`` prints it."""
    import json

    (stream or sys.stdout).write(json.dumps(doc, indent=2) + "\n")


def run_guarded(body: Callable[[], int], *, debug: bool = False,
                err: TextIO | None = None, as_json: bool = False,
                path: str | None = None) -> int:
    """Run a command body: esp_image errors become one line and the contract's exit code.

    A ``LayoutError`` or a failed verification is a pre-flight refusal (exit 1); unusable
    input or a malformed request (:class:`UsageError`) exits 2. Nothing is written in either
    case. With ``as_json`` stdout also gets ``{"path": path, "error": message}``, as ``info``
    prints for a file it cannot read, so a pipeline always gets a document.
    """
    from ..errors import LayoutError, VerificationFailed

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
        write_json({"path": path, "error": message})
    return code


def emit_write(*, source: str | None, output: str, data: bytes, actions: Sequence[str],
               notes: Sequence[str] = (), dry_run: bool = False, as_json: bool = False,
               verify: bool | Callable[[bytes], None] = True,
               extra: dict[str, object] | None = None, out: TextIO | None = None,
               quiet: bool = False, original: bytes | memoryview | None = None,
               flash_command: str | None = None, form: OutputForm | None = None) -> int:
    """Write ``data`` to ``output`` atomically (unless ``dry_run``) and report what was done.

    ``original`` is the input's bytes for a command that rewrites it: when ``data`` is equal,
    nothing is written ("nothing to change"; JSON: no actions, ``written`` and ``changed``
    false). ``flash_command`` is how to flash the result, printed after the report and given
    to JSON as ``write_flash``. ``form`` writes ``data`` (flash bytes) as HEX or UF2, checked
    by reading it back before the rename.
    """
    from ..io import verify_bytes, write_atomic

    stream = _report_stream(out or sys.stdout, output)
    encoded = form.encode(data) if form is not None else data
    changed = original is None or data != original or \
        (form is not None and form.form != form.source_form)
    if written := changed and not dry_run:
        check = verify if callable(verify) else verify_bytes if verify else None
        write_atomic(output, encoded, verify=form.verifier(data, check) if form else check)
    if form is not None:
        extra = {"format": form.form, **(extra or {})}
        data = encoded
        if form.form == "uf2" and flash_command is not None:  # esptool does not flash UF2
            flash_command = None
            notes = [*notes, "copy the UF2 file to a UF2 loader's drive (ESP USB Bridge)"]
    if not changed:
        actions, flash_command = (), None
    if as_json:
        write_json({"input": source, "output": output, "written": written, "changed": changed,
                    "size": len(data), "actions": list(actions), "notes": list(notes),
                    **(extra or {}),
                    **({"write_flash": flash_command} if flash_command is not None else {})},
                   stream)
    elif not quiet:
        from ..terminal import shown_lines

        if not changed:
            head = f"nothing to change: {source} already is what was asked; nothing written"
        else:
            head = f"{'would write' if dry_run else 'wrote'} {output} ({len(data)} bytes)"
        stream.write(shown_lines("\n".join([head, *report_lines(actions, notes, flash_command)]))
                     + "\n")
    return EXIT_OK


def report_lines(actions: Sequence[str], notes: Sequence[str] = (),
                 flash_command: str | None = None) -> list[str]:
    """The lines under a write report's first: what was done, notes, how to flash it."""
    lines = [f"  - {a}" for a in actions]
    lines += [f"  note: {n}" for n in notes]
    if flash_command is not None:
        lines += ["flash it with:", f"  {flash_command}"]
    return lines


def _report_stream(stream: TextIO, output: str) -> TextIO:
    """``stream``, or stderr when ``output`` is stdout (-o /dev/stdout): the report must not
    mix with the bytes."""
    from ..io import same_file

    fd = _fileno(stream) if stream is sys.stdout else None
    return sys.stderr if fd is not None and same_file(output, fd) else stream


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
    from ..io import check_output, output_name

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
    return esptool_write_flash_pieces(chip, [(address, path)], port)


def esptool_write_flash_pieces(chip: str, pieces: Sequence[tuple[int, str]],
                               port: str = "PORT", *, flash_mode: str | None = None,
                               flash_size: str | None = None) -> str:
    """The esptool 5 ``write-flash`` command for ``(address, file)`` pieces; ``flash_mode``
    and ``flash_size`` are passed on (esptool sets them in the bootloader header it writes)."""
    words = ["write-flash"]
    if flash_mode is not None:
        words += ["--flash-mode", flash_mode]
    if flash_size is not None:
        words += ["--flash-size", flash_size]
    for address, path in pieces:
        words += [f"{address:#x}", path]
    return esptool_command(chip, port, words)


def esptool_command(chip: str, port: str, words: Sequence[str]) -> str:
    """``esptool --chip CHIP --port PORT`` and ``words``, quoted for a POSIX shell."""
    import shlex

    return " ".join(shlex.quote(w) for w in ["esptool", "--chip", chip, "--port", port,
                                             *words])


def pair(spec: str, sep: str, option: str, form: str) -> tuple[str, str]:
    """``LEFT<sep>RIGHT`` of an option value, or a UsageError showing the form."""
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
