"""Command bodies shared by the typer CLI and the fast entry path.

Each function opens files through the library, renders what it returns and gives back the
exit code of cli-contract.md: 0 success, 1 damage found (``verify``), 2 unusable input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from .errors import EspImageError
from .image import Image

EXIT_OK = 0
EXIT_DAMAGED = 1
EXIT_UNUSABLE = 2


def error_line(message: str, err: TextIO | None = None) -> None:
    """Write one ``esp-image: error: ...`` line to stderr."""
    (err or sys.stderr).write(f"esp-image: error: {message}\n")


def _open_all(paths: Sequence[str], chip: str | None, err: TextIO,
              debug: bool) -> list[Image | str]:
    """Open every path; a failure becomes its one-line message (the others still run)."""
    results: list[Image | str] = []
    for path in paths:
        try:
            results.append(Image.open(path, chip=chip))
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
         out: TextIO | None, err: TextIO | None) -> tuple[list[Image | str], TextIO]:
    """Open every file and, with ``--json``, print the document; return results and stdout."""
    stream = out or sys.stdout
    results = _open_all(paths, chip, err or sys.stderr, debug)
    if as_json:
        stream.write(_json_doc(paths, results) + "\n")
    return results, stream


def info(paths: Sequence[str], *, as_json: bool = False, chip: str | None = None,
         quiet: bool = False, debug: bool = False,
         out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``esp-image info``: describe every file; 2 if any file could not be read."""
    results, stream = _run(paths, as_json=as_json, chip=chip, debug=debug, out=out, err=err)
    if not as_json and not quiet:
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
           out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``esp-image verify``: 0 if every check of every file passed, 1 if not, 2 if unusable."""
    results, stream = _run(paths, as_json=as_json, chip=chip, debug=debug, out=out, err=err)
    if not as_json:
        from .render import verify_lines

        for result in results:
            if isinstance(result, Image) and not (quiet and result.valid):
                stream.write("\n".join(verify_lines(result)) + "\n")
    if any(isinstance(r, str) for r in results):
        return EXIT_UNUSABLE
    return EXIT_OK if all(isinstance(r, Image) and r.valid for r in results) else EXIT_DAMAGED
