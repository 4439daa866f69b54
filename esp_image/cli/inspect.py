"""``info``, ``verify`` and ``diff``: read files, run every check, report; never write.

``info`` and ``verify`` are on the start-up fast path (:mod:`esp_image.entry`): this module
imports neither typer nor typing at run time; the annotations name :mod:`.options`.
"""

from __future__ import annotations

import sys

from ..image import Image
from .runner import EXIT_DAMAGED, EXIT_OK, EXIT_UNUSABLE, open_all, run_guarded, write_json

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Annotated

    from .options import (
        After,
        Baud,
        Before,
        BoardPort,
        Debug,
        FileChip,
        Html,
        Json,
        Key,
        NoLimit,
        NoStub,
        OptFiles,
        Quiet,
        Svg,
        argument,
        quiet_option,
    )


def info(files: OptFiles = None, json: Json = False, chip: FileChip = None,
         quiet: Quiet = False, debug: Debug = False, no_size_limit: NoLimit = False,
         key: Key = None, port: BoardPort = None, baud: Baud = None,
         before: Before = "default-reset", after: After = "hard-reset",
         no_stub: NoStub = False, html: Html = None, svg: Svg = None) -> int:
    """Identify each file, parse it completely, run every check and describe it.

    Example: [bold]esp-image info firmware.bin[/bold]  (or [bold]--json[/bold] for pipelines;
    [bold]--html report.html[/bold] for people and CI artifacts; [bold]--port
    /dev/ttyUSB0[/bold] reads a connected board)
    """
    if port is not None or not files:
        return _board(files, port, baud, chip, before, after, no_stub, verify=False, json=json,
                      quiet=quiet, debug=debug)
    if html is not None or svg is not None:
        from .report import check_picture_outputs

        if code := run_guarded(lambda: check_picture_outputs(files, html, svg), debug=debug):
            return code
    results = open_all(files, chip=chip, debug=debug, no_size_limit=no_size_limit, key=key)
    images = [r for r in results if isinstance(r, Image)]
    if json:
        write_json(_documents(files, results))
    elif quiet:
        from .render import write_problems

        write_problems(images)
    else:
        from .render import write_descriptions

        write_descriptions(images)
    code = EXIT_UNUSABLE if len(images) < len(results) else EXIT_OK
    if html is not None or svg is not None:
        from .report import write_info_pictures

        code = max(code, run_guarded(lambda: write_info_pictures(
            files, results, html, svg, quiet=json or quiet), debug=debug))
    return code


def verify(files: OptFiles = None, json: Json = False, chip: FileChip = None,
           quiet: Quiet = False, debug: Debug = False, no_size_limit: NoLimit = False,
           key: Key = None, port: BoardPort = None, baud: Baud = None,
           before: Before = "default-reset", after: After = "hard-reset",
           no_stub: NoStub = False) -> int:
    """Run every integrity check; exit 0 if all pass, 1 if anything is damaged.

    Example: [bold]esp-image verify build/*.bin[/bold]  (or [bold]--port /dev/ttyUSB0[/bold])
    """
    if port is not None or not files:
        return _board(files, port, baud, chip, before, after, no_stub, verify=True, json=json,
                      quiet=quiet, debug=debug)
    results = open_all(files, chip=chip, debug=debug, no_size_limit=no_size_limit, key=key)
    images = [r for r in results if isinstance(r, Image)]
    if json:
        write_json(_documents(files, results))
    else:
        from .render import write_verdicts

        write_verdicts([i for i in images if not (quiet and i.valid)])
    if len(images) < len(results):
        return EXIT_UNUSABLE
    return EXIT_OK if all(i.valid for i in images) else EXIT_DAMAGED


def _board(files: list[str] | None, port: str | None, baud: str | None, chip: str | None,
           before: str, after: str, no_stub: bool, *, verify: bool, json: bool, quiet: bool,
           debug: bool) -> int:
    """``--port``: the board instead of files (given both or neither: one usage line)."""
    from .board import board_options, chosen_port, inspect_board

    def options() -> int:
        connection = board_options(chosen_port(files, port), baud, chip, before, after,
                                   no_stub)
        return inspect_board(connection, verify=verify, json=json, quiet=quiet, debug=debug)
    return run_guarded(options, debug=debug, as_json=json, path=port)


def _documents(paths: list[str], results: list[Image | str]) -> object:
    """One document per file (its error for one that could not be read); one file: no list."""
    docs = [{"path": path, "error": r} if isinstance(r, str) else r.to_dict()
            for path, r in zip(paths, results, strict=True)]
    return docs[0] if len(docs) == 1 else docs


def diff(a: Annotated[str, argument("The first (old) file.", "A")],
         b: Annotated[str, argument("The second (new) file.", "B")],
         json: Json = False,
         quiet: Annotated[bool, quiet_option("Print only the summary line, and only when the "
                                             "files differ.")] = False,
         debug: Debug = False, html: Html = None) -> int:
    """Show what changed between two images or firmware files; exit 0 if identical, 1 if not.

    Compares header fields, flash parameters, segments, app descriptors, signatures,
    partition table rows, otadata and the app in every partition.

    Example: [bold]esp-image diff old-firmware.bin new-firmware.bin[/bold]  (or
    [bold]--json[/bold] for pipelines)
    """
    def body() -> int:
        from ..diff import diff as compare

        if html is not None:
            from .report import check_picture_outputs

            check_picture_outputs([a, b], html, None)
        image_a, image_b = Image.open(a), Image.open(b)
        result = compare(image_a, image_b)
        if html is not None:
            from .report import write_diff_picture

            write_diff_picture(image_a, image_b, result, html)
        if json:
            write_json({"a": a, "b": b, **result.to_dict(), "equal": result.equal})
        elif quiet and not result.equal:
            from ..terminal import shown

            sys.stdout.write(shown(f"{a} and {b} differ: {result.summary}") + "\n")
        elif not quiet:
            from .diff_render import diff_blocks
            from .render import write_blocks

            write_blocks(diff_blocks(result))
        return EXIT_OK if result.equal else EXIT_DAMAGED
    return run_guarded(body, debug=debug, as_json=json, path=a)
