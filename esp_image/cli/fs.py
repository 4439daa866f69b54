"""``esp-image fs FILE [options] COMMAND``: files inside firmware images and partition images.

Argument parsing and reporting only; the filesystems are in :mod:`esp_image.filesystems`, the
region handling in :mod:`esp_image.transforms.fs`.
"""

from __future__ import annotations

import json as _json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from .options import (
    After,
    Backup,
    Baud,
    Before,
    BlockSize,
    BoardChip,
    Debug,
    DryRun,
    Force,
    GroupPort,
    InPlace,
    Json,
    NoBackup,
    NoStub,
    OutFormat,
    PageSize,
    Quiet,
    output_option,
)
from .runner import (
    choose_output,
    emit_write,
    error_line,
    flash_input,
    format_suffix,
    output_form,
    run_guarded,
)

if TYPE_CHECKING:
    from ..image import Image
    from ..transforms import TransformResult
    from ..transforms.fs import FsTarget
    from .board import Connection

class _FsGroup(TyperGroup):
    """``fs``'s options may follow FILE, so the group reads every option on the line and would
    take ``esp-image fs FILE get --help`` as its own --help: the command's help is shown."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        for i, arg in enumerate(args):
            if arg in ("--", "--help"):
                break
            command = self.commands.get(arg)
            if command is not None and "--help" in args[i + 1:]:
                # Raises click's Exit after printing, as any --help does.
                command.make_context(arg, ["--help"], parent=ctx)
        rest = super().parse_args(ctx, args)
        file = ctx.params.get("file")
        if ctx.params.get("port") is not None and file in self.commands:
            # With --port there is no FILE: what the optional FILE took is the command.
            args = [*ctx._protected_args, *ctx.args]
            ctx._protected_args, ctx.args = [file], args
            ctx.params["file"] = None
            return args
        return rest


def file_group(help: str) -> typer.Typer:
    """A command group whose options may come before or after FILE and the command (fs, nvs):
    ``esp-image fs FILE --partition vfs ls /``."""
    return typer.Typer(
        cls=_FsGroup, help=help, no_args_is_help=True,
        invoke_without_command=True,  # so a missing COMMAND gets a message listing the commands
        context_settings={"allow_interspersed_args": True, "ignore_unknown_options": True},
    )


def need_command(ctx: typer.Context, group: str) -> None:
    """Exit 2 with the list of commands when FILE is not followed by one."""
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        names = ", ".join(getattr(ctx.command, "commands", {}))
        if ctx.params.get("file") in getattr(ctx.command, "commands", {}):
            error_line(f"missing FILE (or --port PORT for a connected board) before "
                       f"{ctx.params['file']}")
            raise typer.Exit(2)
        error_line(f"{group} needs a COMMAND after FILE: one of {names} (see "
                   f"'esp-image {group} --help')")
        raise typer.Exit(2)


def board_or_file(file: str | None, connection: Connection, *, json: bool, debug: bool
                  ) -> Connection | None:
    """The board the group works on (None: FILE): exactly one of FILE and --port, else one
    line and exit 2."""
    def check() -> int:
        from .board import chosen_port

        if connection[0] is not None or file is None:
            chosen_port(file, connection[0])
        return 0
    code = run_guarded(check, debug=debug, as_json=json, path=file or connection[0])
    if code:
        raise typer.Exit(code)
    return connection if connection[0] is not None else None


@dataclass(frozen=True, kw_only=True)
class FileOptions:
    """The options a file group's callback takes for every command; ``connection`` is the
    board's (``--port``), ``board`` and ``board_line`` what reading it transferred."""

    file: str | None
    partition: str | None
    output: str | None
    in_place: bool
    dry_run: bool
    force: bool
    as_json: bool
    quiet: bool
    debug: bool
    fmt: str | None = None
    connection: Connection | None = None
    backup: str | None = None
    no_backup: bool = False
    board: dict[str, object] | None = None
    board_line: str | None = None

    @property
    def source(self) -> str | None:
        """What the command reads: FILE, or the board's port."""
        return self.file if self.connection is None else self.connection[0]

    def board_key(self) -> dict[str, object]:
        """The ``board`` summary a JSON document read from a board carries."""
        return {} if self.board is None else {"board": self.board}

    def board_done(self) -> None:
        """After a read from a board: the bytes transferred, on stderr (stdout is the file's
        output, byte for byte, so pipes work alike on both)."""
        if self.board_line is not None and not (self.quiet or self.as_json):
            sys.stderr.write(self.board_line + "\n")

    def board_write(self, change: Callable[[Image], TransformResult],
                    partition: Callable[[Image], tuple[str, int, int]], *, fresh: bool) -> int:
        """A writing command on the board: only the changed sectors, as ``otadata --port``.

        ``partition`` is the (name, offset, size) the command works on; its contents are read
        first, unless ``fresh`` (mkfs): then only the sectors the new contents change are
        read, the rest compared by the board's MD5.
        """
        connection = self.connection
        assert connection is not None

        def body() -> int:
            from ..errors import UsageError
            from .board import on_board

            if self.output is not None or self.in_place:
                raise UsageError("-o and --in-place write a file; with --port the board's "
                                 "partition is written (drop them)")
            def span(image: Image, _: object) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
                _, offset, size = partition(image)
                return (), [(offset, offset + size)]
            return on_board(None, connection, change, dry_run=self.dry_run, json=self.as_json,
                            quiet=self.quiet, debug=self.debug, backup=self.backup,
                            no_backup=self.no_backup,
                            **({"layout": span} if fresh else
                               {"contents": lambda image: partition(image)[:1]}))
        return run_guarded(body, debug=self.debug, as_json=self.as_json, path=connection[0])


fs_app = file_group("Files inside firmware images: littlefs, FAT and wear-levelled FAT (ls, cat, "
                    "get, put, rm, mkdir, df, mkfs); SPIFFS read-only (ls, cat, get, df).")


@dataclass(frozen=True, kw_only=True)
class _Options(FileOptions):
    """The fs group's options, shared by its subcommands."""

    page_size: str | None = None
    block_size: str | None = None


@fs_app.callback()
def fs_main(
    ctx: typer.Context,
    file: Annotated[str | None, typer.Argument(
        help="A firmware file, flash dump or partition image (none with --port).",
        metavar="FILE")] = None,
    partition: Annotated[str | None, typer.Option(
        "-p", "--partition", metavar="NAME",
        help="The partition (default: the first vfs/ffat/fat/littlefs one).")] = None,
    output: Annotated[str | None, output_option("Output file for changes (default "
                                                "FILE-fs.bin).")] = None,
    in_place: InPlace = False, dry_run: DryRun = False, force: Force = False,
    json: Json = False, quiet: Quiet = False, debug: Debug = False,
    page_size: PageSize = None, block_size: BlockSize = None, fmt: OutFormat = None,
    port: GroupPort = None, baud: Baud = None, chip: BoardChip = None,
    before: Before = "default-reset", after: After = "hard-reset", no_stub: NoStub = False,
    backup: Backup = None, no_backup: NoBackup = False,
) -> None:
    """Work with the files inside a firmware image, without flashing it, or on a board.

    Example: [bold]esp-image fs firmware.bin put main.py boot.py /[/bold]
    """
    need_command(ctx, "fs")
    board = board_or_file(file, (port, baud, chip, before, after, no_stub), json=json,
                          debug=debug)
    ctx.obj = _Options(file=file, partition=partition, output=output, in_place=in_place,
                       dry_run=dry_run, force=force, as_json=json, quiet=quiet, debug=debug,
                       page_size=page_size, block_size=block_size, fmt=fmt, connection=board,
                       backup=backup, no_backup=no_backup)


def _opts(ctx: typer.Context) -> _Options:
    opts = ctx.obj
    assert isinstance(opts, _Options)
    return opts


def _open(opts: _Options) -> tuple[Image, FsTarget, bytes]:
    from ..image import Image
    from ..transforms.fs import locate, region

    assert opts.file is not None  # board_or_file: a FILE when there is no --port
    image = Image.open(opts.file)
    inner = image.unwrapped()  # a wrapped file is read inside its wrapper
    target = locate(inner, opts.partition)
    return image, target, region(inner, target)


def _named(opts: _Options) -> Callable[[Image], tuple[str, int, int]]:
    """The partition a command works on on a board, from the board's table."""
    def named(image: Image) -> tuple[str, int, int]:
        from ..transforms.fs import locate

        target = locate(image, opts.partition)
        return target.name, target.address or 0, target.size
    return named


def _read_board(opts: _Options) -> tuple[_Options, bytes]:
    """The board's filesystem partition (only it, besides the headers), and ``opts`` with
    what was transferred."""
    from dataclasses import replace

    from ..transforms.fs import locate, region
    from .board import read_contents

    assert opts.connection is not None
    image, board, line = read_contents(opts.connection, lambda i: _named(opts)(i)[:1])
    return (replace(opts, board=board, board_line=line),
            region(image, locate(image, opts.partition)))


def _read_only(ctx: typer.Context, body: Callable[[_Options, Any], int]) -> None:
    opts = _opts(ctx)

    def run() -> int:
        from ..filesystems import open_volume
        from ..units import parse_size_option

        page = parse_size_option(opts.page_size, "--page-size")
        block = parse_size_option(opts.block_size, "--block-size")
        shown, data = _read_board(opts) if opts.connection else (opts, _open(opts)[2])
        code = body(shown, open_volume(data, page_size=page, block_size=block))
        shown.board_done()
        return code
    raise typer.Exit(run_guarded(run, debug=opts.debug, as_json=opts.as_json,
                                 path=opts.source))


def _change(ctx: typer.Context, what: str, change: Callable[[Any], list[str]],
            fresh: Callable[[int], Any] | None = None, sources: list[str] | None = None) -> None:
    """Apply ``change`` to the volume (or to ``fresh(size)``) and write the file back.

    ``sources`` are files on this computer the change reads: ``-o`` may not name them.
    """
    opts = _opts(ctx)
    if opts.connection is not None:
        raise typer.Exit(opts.board_write(lambda image: _on_board(opts, image, what, change,
                                                                  fresh), _named(opts),
                                          fresh=fresh is not None))

    def run() -> int:
        assert opts.file is not None
        output = choose_output(opts.file, opts.output, opts.in_place, "fs",
                               force=opts.force, inputs=sources or [],
                               suffix=format_suffix(opts.fmt))
        opened, target, data = _open(opts)
        image = flash_input(opened)
        result = _changed(image, target, data, what, change, fresh)
        return emit_write(
            source=opts.file, output=output, data=result.data, actions=result.actions,
            notes=result.notes, dry_run=opts.dry_run, as_json=opts.as_json,
            verify=_written_check(target, opts.partition), quiet=opts.quiet,
            original=image.data, form=output_form(opts.fmt, output, opened))
    raise typer.Exit(run_guarded(run, debug=opts.debug, as_json=opts.as_json, path=opts.file))


def _on_board(opts: _Options, image: Image, what: str, change: Callable[[Any], list[str]],
              fresh: Callable[[int], Any] | None) -> TransformResult:
    """The change made to the board's Image, refused (before anything is written) unless
    the new filesystem opens again, as for a file."""
    from ..transforms.fs import locate, region

    target = locate(image, opts.partition)
    result = _changed(image, target, region(image, target), what, change, fresh)
    _written_check(target, opts.partition)(result.data)
    return result


def _changed(image: Image, target: FsTarget, data: bytes, what: str,
             change: Callable[[Any], list[str]], fresh: Callable[[int], Any] | None
             ) -> TransformResult:
    """``image`` with ``change`` made to the volume in ``data`` (or to ``fresh(size)``)."""
    from ..errors import FormatError, LayoutError
    from ..transforms import TransformResult
    from ..transforms.fs import put_back

    volume, made = _volume(target, data, fresh, what)
    try:
        actions = made + change(volume)
    except FormatError as exc:
        raise LayoutError(f"{target.name}: the filesystem turned out to be damaged "
                          f"({exc}); not writing into it (fs mkfs replaces it)") from None
    new = put_back(image, target, volume.image())
    notes = []
    if target.missing:
        notes.append(f"the file ended {target.missing:#x} bytes before the end of "
                     f"{target.name!r}; extended with 0xFF to hold the filesystem")
    where = target.name if target.address is None else f"{target.name} ({target.address:#x})"
    return TransformResult(new, tuple(f"{where}: {a}" for a in actions) or (f"{where}: {what}",),
                           tuple(notes))


def _volume(target: FsTarget, data: bytes, fresh: Callable[[int], Any] | None, what: str
            ) -> tuple[Any, list[str]]:
    """The volume to change (``fresh``, or the one in ``data``) and what making it did."""
    from ..errors import LayoutError
    from ..filesystems import detect, mkfs, open_volume

    if fresh is not None:
        return fresh(target.size), []
    found = detect(data)
    if found.type == "spiffs":
        from ..filesystems.spiffs import read_only

        raise read_only(what)
    if found is not None and found.type == "erased":
        # What the device does on first boot: MicroPython makes littlefs in an erased
        # vfs, Arduino's FFat a wear-levelled FAT.
        kind = "fat-wl" if target.name == "ffat" else "littlefs"
        return mkfs(target.size, kind=kind), [
            f"the partition was erased: made an empty {kind} filesystem, as the device would "
            "on first boot"]
    if found is not None and found.type != "unknown" and not found.valid:
        # writing on top of damage gives a file verify fails (or the device reformats)
        raise LayoutError(f"{target.name}: the {found.type} filesystem is damaged "
                          f"({found.detail}); not writing into it (fs mkfs replaces it)")
    return open_volume(data), []


def _written_check(target: FsTarget, partition: str | None) -> Callable[[bytes], None]:
    """The checks verify runs (a bare partition image's include its filesystem's), and the
    filesystem must open again."""
    from ..filesystems import open_volume
    from ..image import Image
    from ..io import verify_bytes
    from ..transforms.fs import locate, region

    def verify(written: bytes) -> None:
        verify_bytes(written, what="the firmware" if target.name != "image" else
                     "the partition image")
        open_volume(region(Image.from_bytes(written), locate(
            Image.from_bytes(written), partition)))
    return verify


Path = Annotated[str, typer.Argument(help="A path inside the filesystem.", metavar="PATH")]


@fs_app.command("ls")
def fs_ls(ctx: typer.Context, path: Annotated[str, typer.Argument(
        help="A directory inside the filesystem.", metavar="[PATH]")] = "/") -> None:
    """List a directory. Example: [bold]esp-image fs firmware.bin ls /lib[/bold]"""
    def body(opts: _Options, volume: Any) -> int:
        entries = volume.listdir(path)
        if opts.as_json:
            sys.stdout.write(_json.dumps([{"name": e.name, "path": e.path, "dir": e.is_dir,
                                           "size": e.size} for e in entries], indent=2) + "\n")
        else:
            from ..terminal import shown

            for e in entries:
                sys.stdout.write(f"{'d' if e.is_dir else '-'} {e.size:>9}  {shown(e.name)}"
                                 f"{'/' if e.is_dir else ''}\n")
        return 0
    _read_only(ctx, body)


@fs_app.command("cat")
def fs_cat(ctx: typer.Context, path: Path) -> None:
    """Print a file's bytes (with --json: base64 and size).

    Example: [bold]esp-image fs firmware.bin cat /boot.py[/bold]
    """
    def body(opts: _Options, volume: Any) -> int:
        data = volume.read(path)
        if opts.as_json:
            import base64

            sys.stdout.write(_json.dumps({"path": path, "size": len(data), "encoding": "base64",
                                          "content": base64.b64encode(data).decode("ascii"),
                                          **opts.board_key()}, indent=2) + "\n")
            return 0
        sys.stdout.flush()
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader is gone (| head): the file was read, all is well
            from ..terminal import stdout_closed

            stdout_closed()
        return 0
    _read_only(ctx, body)


@fs_app.command("get")
def fs_get(ctx: typer.Context,
           src: Annotated[str, typer.Argument(help="The file inside the filesystem.",
                                              metavar="SRC")],
           dst: Annotated[str, typer.Argument(help="Where to write it on this computer (a "
                                                   "file or a directory).", metavar="DST")]
           ) -> None:
    """Copy a file out. Example: [bold]esp-image fs firmware.bin get /main.py main.py[/bold]"""
    def body(opts: _Options, volume: Any) -> int:
        from ..io import check_output, write_atomic

        data = volume.read(src)
        target = os.path.join(dst, os.path.basename(src)) if os.path.isdir(dst) else dst
        check_output(target, [opts.file] if opts.file else [])
        write_atomic(target, data, verify=None)
        if not opts.quiet:
            from ..terminal import shown

            sys.stdout.write(f"wrote {shown(target)} ({len(data)} bytes)\n")
        return 0
    _read_only(ctx, body)


@fs_app.command("put")
def fs_put(ctx: typer.Context, src: Annotated[list[str], typer.Argument(
        help="Files or directories on this computer, then the destination directory.",
        metavar="SRC... DST")]) -> None:
    """Copy files in (directories recursively); the file is extended to hold the filesystem.

    Example: [bold]esp-image fs firmware.bin put main.py lib /[/bold]
    """
    if len(src) < 2:
        error_line("put needs at least one source and a destination")
        raise typer.Exit(2)
    sources, dst = src[:-1], src[-1]

    def change(volume: Any) -> list[str]:
        from ..io import read_input

        done = []
        for item in sources:
            base = os.path.basename(os.path.normpath(item))
            if os.path.isdir(item):
                done += _put_tree(volume, item, _join(dst, base))
            else:
                data = read_input(item, "file", allow_empty=True)
                target = _join(dst, base) if dst.endswith("/") or len(sources) > 1 or \
                    _is_dir(volume, dst) else dst
                volume.write(target, data)
                done.append(f"put {target} ({len(data)} bytes)")
        return done
    _change(ctx, "put", change, sources=sources)


def _put_tree(volume: Any, tree: str, inside: str) -> list[str]:
    """Copy the directory ``tree`` to ``inside`` the filesystem; what was done, per file."""
    from ..io import read_input

    done = []
    for root, dirs, files in os.walk(tree):
        rel = os.path.relpath(root, tree)
        inner = inside if rel == "." else _join(inside, rel)
        _mkdirs(volume, inner)
        # Links inside the tree are skipped, each with a line: following one could
        # copy files from outside the tree (or loop); a device has no links.
        for name in sorted(n for n in dirs + files if os.path.islink(os.path.join(root, n))):
            link = os.path.join(root, name)
            done.append(f"skipped {_join(inner, name)}: a symbolic link (to "
                        f"{os.readlink(link)!r}), not followed")
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(root, d)))
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            data = read_input(path, "file", allow_empty=True)
            volume.write(_join(inner, name), data)
            done.append(f"put {_join(inner, name)} ({len(data)} bytes)")
    return done


@fs_app.command("rm")
def fs_rm(ctx: typer.Context, path: Path) -> None:
    """Remove a file or an empty directory. Example: [bold]esp-image fs fw.bin rm /old.py[/bold]"""
    def change(volume: Any) -> list[str]:
        volume.remove(path)
        return [f"removed {path}"]
    _change(ctx, "rm", change)


@fs_app.command("mkdir")
def fs_mkdir(ctx: typer.Context, path: Path) -> None:
    """Make a directory. Example: [bold]esp-image fs firmware.bin mkdir /lib[/bold]"""
    def change(volume: Any) -> list[str]:
        _mkdirs(volume, path)
        return [f"made {path}"]
    _change(ctx, "mkdir", change)


@fs_app.command("df")
def fs_df(ctx: typer.Context) -> None:
    """Show the filesystem, its size and how full it is.

    Example: [bold]esp-image fs firmware.bin df[/bold]
    """
    def body(opts: _Options, volume: Any) -> int:
        from ..units import format_size

        used, total = volume.df()
        if opts.as_json:
            sys.stdout.write(_json.dumps({"used": used, "total": total,
                                          "free": total - used, **opts.board_key()}) + "\n")
        else:
            sys.stdout.write(f"{format_size(used)} used of {format_size(total)} "
                             f"({used / total:.1%}), {format_size(total - used)} free\n")
        return 0
    _read_only(ctx, body)


@fs_app.command("mkfs")
def fs_mkfs(ctx: typer.Context, kind: Annotated[str, typer.Option(
        "--type", metavar="TYPE",
        help="littlefs (MicroPython's default) | fat | fat-wl (ESP-IDF wear levelling, Arduino "
             "FFat)")] = "littlefs") -> None:
    """Make an empty filesystem in the partition (its files are lost).

    Example: [bold]esp-image fs firmware.bin mkfs --type littlefs[/bold]
    """
    def fresh(size: int) -> Any:
        from ..filesystems import mkfs

        return mkfs(size, kind=kind)
    _change(ctx, f"new empty {kind} filesystem", lambda _: [f"new empty {kind} filesystem"],
            fresh)


def _join(directory: str, name: str) -> str:
    return "/" + "/".join(p for p in f"{directory}/{name}".split("/") if p and p != ".")


def _is_dir(volume: Any, path: str) -> bool:
    try:
        volume.listdir(path)
    except Exception:  # any "not a directory" answer means: treat DST as a file name
        return False
    return True


def _mkdirs(volume: Any, path: str) -> None:
    current = ""
    for part in [p for p in path.split("/") if p]:
        current += "/" + part
        if not _is_dir(volume, current):
            volume.mkdir(current)
