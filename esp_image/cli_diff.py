"""``esp-image diff A B``: what changed between two files, with ``diff``'s exit codes.

Argument parsing and reporting only; the comparison is :func:`esp_image.diff.diff`.
Exit codes: 0 the files are identical, 1 they differ, 2 a file is unusable.
The lead registers it with ``app.command("diff")(diff_command)``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from . import commands

FileA = Annotated[str, typer.Argument(help="The first (old) file.", metavar="A")]
FileB = Annotated[str, typer.Argument(help="The second (new) file.", metavar="B")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet",
                                     help="Print only the summary line, and only when the "
                                          "files differ.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show a traceback on internal errors.")]


def run_diff(a: str, b: str, *, as_json: bool = False, quiet: bool = False) -> int:
    """Open both files, print the report, return 0 (equal) or 1 (different).

    Raises:
        EspImageError: a file cannot be read (the caller turns it into exit code 2).
    """
    from .diff import diff
    from .image import Image

    first = Image.open(a)
    second = Image.open(b)
    result = diff(first, second)
    if as_json:
        import json

        doc: dict[str, object] = {"a": a, "b": b, **result.to_dict()}
        doc["equal"] = result.equal
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    elif quiet:
        if not result.equal:
            from .terminal import shown

            sys.stdout.write(shown(f"{a} and {b} differ: {result.summary}") + "\n")
    else:
        from .diff import diff_blocks
        from .render import write_blocks

        write_blocks(diff_blocks(result))
    return commands.EXIT_OK if result.equal else commands.EXIT_DAMAGED


def diff_command(a: FileA, b: FileB, json: Json = False, quiet: Quiet = False,
                 debug: Debug = False) -> None:
    """Show what changed between two images or firmware files; exit 0 if identical, 1 if not.

    Compares header fields, flash parameters, segments, app descriptors, signatures,
    partition table rows, otadata and the app in every partition.

    Example: [bold]esp-image diff old-firmware.bin new-firmware.bin[/bold]  (or
    [bold]--json[/bold] for pipelines)
    """
    code = commands.run_guarded(lambda: run_diff(a, b, as_json=json, quiet=quiet), debug=debug,
                                as_json=json, path=a)
    raise typer.Exit(code)
