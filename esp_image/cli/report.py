"""``info --html/--svg`` and ``diff --html``: the pictures, made from what the terminal shows.

Each file's section holds the blocks :func:`~.render.describe` computes for ``info`` (the bar is
left out: the SVG map draws it), so the report says exactly what the terminal says.
"""

from __future__ import annotations

import os

from ..image import Image
from ..io import check_output
from .runner import emit_write

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..diff import Diff
    from ..report.html import Section


def check_picture_outputs(files: Sequence[str], html: str | None, svg: str | None) -> int:
    """Refuse, before anything is read or printed, an SVG of several files or an output
    that names an input."""
    from ..errors import UsageError

    if svg is not None and len(files) != 1:
        raise UsageError(f"--svg draws one file's map; got {len(files)} files "
                         "(use --html for several)")
    for output in (html, svg):
        if output is not None:
            check_output(output, files)
    return 0


def write_info_pictures(files: Sequence[str], results: Sequence[Image | str],
                        html: str | None, svg: str | None, *, quiet: bool) -> int:
    """Write the report and/or the map of ``info``'s files (unreadable ones: their error)."""
    from ..report.svg import check_svg, flash_map, svg_map

    if svg is not None and isinstance(results[0], Image):
        fmap = flash_map(results[0])
        emit_write(source=files[0], output=svg, data=svg_map([fmap]).encode(), actions=(),
                   verify=lambda data: check_svg(data, len(fmap.boxes)), quiet=quiet)
    if html is not None:
        made = [_file_section(path, r) for path, r in zip(files, results, strict=True)]
        _write_html("esp-image report", [s for s, _ in made], sum(n for _, n in made), html,
                    source=files[0], quiet=quiet)
    return 0


def _file_section(path: str, result: Image | str) -> tuple[Section, int]:
    """A file's section, and how many regions its map draws."""
    from ..report.html import Section
    from ..report.svg import flash_map, svg_map
    from .render import Bar, Table, describe, verdict_line

    if isinstance(result, str):
        return Section(path, f"unreadable: {result}", False, None), 0
    fmap = flash_map(result, os.path.basename(path))
    blocks: list[str | Table] = [b for b in describe(result) if not isinstance(b, Bar)]
    verdict = verdict_line(result)
    # describe() opens with the file line and the verdict: the heading and verdict show them.
    body = [b for b in blocks[1:] if b != verdict]
    ok = result.valid and result.kind != "unknown"
    section = Section(path, verdict, ok, svg_map([fmap], standalone=False), [blocks[0], *body])
    return section, len(fmap.boxes)


def write_diff_picture(a: Image, b: Image, result: Diff, html: str) -> None:
    """``diff --html``: both maps on one scale, the boxes whose bytes differ marked, then the
    table of changes."""
    from ..report.html import Section
    from ..report.svg import flash_map, mark_changes, svg_map
    from .diff_render import diff_blocks
    from .render import Bar, Table

    maps = (flash_map(a, "A " + os.path.basename(a.path or "")),
            flash_map(b, "B " + os.path.basename(b.path or "")))
    mark_changes((maps[0], a), (maps[1], b))
    verdict = f"{'equal' if result.equal else 'different'}: {result.summary}"
    blocks: list[str | Table] = [blk for blk in diff_blocks(result)
                                 if not isinstance(blk, Bar) and blk != verdict]
    section = Section(f"{a.path} -> {b.path}", verdict, True if result.equal else None,
                      svg_map(maps, standalone=False), blocks)
    _write_html("esp-image diff", [section],
                sum(len(m.boxes) for m in maps), html, source=a.path, quiet=True)


def _write_html(title: str, sections: list[Section], regions: int, output: str, *,
                source: str | None, quiet: bool) -> None:
    from .. import __version__
    from ..report.html import check_html, report_html

    page = report_html(title, sections, f"made by esp-image {__version__}")
    emit_write(source=source, output=output, data=page.encode(), actions=(), quiet=quiet,
               verify=lambda data: check_html(data, len(sections), regions))
