"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, nothing fetched).

The page shows, per file, its verdict and flash map, then the blocks the terminal description
is made of (tables and lines, computed once by the CLI's renderer), so the report and ``info``
never disagree. It reads in dark mode (``prefers-color-scheme``) and prints on light paper.
"""

from __future__ import annotations

from html.parser import HTMLParser

from . import markup

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol

    class TableLike(Protocol):
        """What the report reads of a table block (:class:`esp_image.cli.render.Table`)."""

        title: str
        columns: list[str]
        rows: list[list[str]]

CSS = """
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#666;--line:#d0d0d0;
--ok:#2e7d32;--bad:#c62828;--warn:#a15c00;--head:#f3f3f3}
@media screen and (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--bg:#181a1b;--muted:#a0a0a0;
--line:#3c3f41;--ok:#81c784;--bad:#ff8a80;--warn:#ffcc80;--head:#232628}}
body{margin:0 auto;max-width:80rem;padding:1rem 1.5rem;color:var(--fg);background:var(--bg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.5rem;margin:.2rem 0}
h2{font-size:1.15rem;margin:1.5rem 0 .3rem;overflow-wrap:anywhere}
.meta{color:var(--muted);margin:0}
section.file{border-top:2px solid var(--line);padding-top:.4rem}
.verdict{font-weight:bold;font-size:1.05rem}
.verdict.ok{color:var(--ok)}.verdict.bad{color:var(--bad)}
figure{margin:.6rem 0;overflow-x:auto}
table{border-collapse:collapse;margin:.8rem 0;font-size:13px}
caption{text-align:left;font-weight:bold;padding:.2rem 0}
th,td{border:1px solid var(--line);padding:.15rem .45rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:var(--head)}
td.bad{color:var(--bad);font-weight:bold}
p.line{margin:.2rem 0;font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;
font-size:13px;overflow-wrap:anywhere}
p.error{color:var(--bad)}p.warning{color:var(--warn)}p.note{color:var(--muted)}
@media print{:root{--fg:#000;--bg:#fff;--muted:#444;--line:#999;--head:#eee}
body{max-width:none;padding:0}section.file{break-before:page}
section.file:first-of-type{break-before:auto}table,figure{break-inside:avoid}}
"""


class Section:
    """One file (or one comparison) of the report.

    ``ok`` colours the verdict: True valid, False damaged or unreadable, None neutral.
    ``blocks`` are lines (str) and tables, in the order the terminal shows them.
    """

    __slots__ = ("blocks", "heading", "ok", "svg", "verdict")

    def __init__(self, heading: str, verdict: str, ok: bool | None, svg: str | None,
                 blocks: Sequence[str | TableLike] = ()) -> None:
        self.heading, self.verdict, self.ok, self.svg = heading, verdict, ok, svg
        self.blocks = blocks


def report_html(title: str, sections: Sequence[Section], generator: str) -> str:
    """The whole page; every string that came from a file is escaped."""
    body = [f"<header><h1>{markup(title)}</h1><p class=\"meta\">{markup(generator)}</p>"
            "</header>"]
    for index, section in enumerate(sections, 1):
        verdict_class = "neutral" if section.ok is None else "ok" if section.ok else "bad"
        body.append(f'<section class="file" id="file-{index}"><h2>{markup(section.heading)}'
                    f'</h2><p class="verdict {verdict_class}">{markup(section.verdict)}</p>')
        if section.svg is not None:
            body.append(f'<figure class="map">{section.svg}</figure>')
        body.extend(_block(b) for b in section.blocks)
        body.append("</section>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta name="color-scheme" content="light dark"><title>{markup(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def _block(block: str | TableLike) -> str:
    if isinstance(block, str):
        if not block:
            return ""
        kind = block.split(":", 1)[0]
        css = kind if kind in ("error", "warning", "note") else "text"
        return f'<p class="line {css}">{markup(block)}</p>'
    # Cells and rows without their optional end tags (HTML5): the read-back parse of the
    # written page spends most of its time on end tags.
    head = "".join(f"<th>{markup(c)}" for c in block.columns)
    rows = "".join("<tr>" + "".join(
        f'<td class="bad">{markup(c)}' if c == "FAILED" else f"<td>{markup(c)}"
        for c in row) for row in block.rows)
    return (f"<table><caption>{markup(block.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>")


class _Census(HTMLParser):
    """Counts what :func:`check_html` looks for while the page parses."""

    def __init__(self) -> None:
        super().__init__()
        self.sections = self.maps = self.regions = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self.sections += tag == "section" and "file" in classes
        self.maps += tag == "svg"
        self.regions += tag == "g" and "region" in classes


def check_html(data: bytes, sections: int, regions: int) -> None:
    """Refuse a page that does not parse, or lacks a file section or a map region drawn (the
    written file's check before it replaces anything)."""
    from ..errors import VerificationFailed

    census = _Census()
    try:
        census.feed(data.decode("utf-8"))
        census.close()
    except (UnicodeDecodeError, AssertionError) as exc:
        raise VerificationFailed(f"the HTML written does not parse: {exc}") from None
    if (census.sections, census.regions) != (sections, regions) or (regions and not census.maps):
        raise VerificationFailed(
            f"the HTML written has {census.sections} file sections and {census.regions} map "
            f"regions, not {sections} and {regions}")
