"""Pictures of a file for people: the flash map as SVG (:mod:`.svg`) and the HTML report
(:mod:`.html`). Imported only when ``--svg`` or ``--html`` asks for one (start-up cost)."""

from __future__ import annotations


def markup(text: str) -> str:
    """``text`` from a file as SVG/HTML character data or an attribute value: non-printable
    characters escaped as the terminal shows them (XML forbids most control characters),
    then ``& < > " '`` as entities, so a label is always text, never markup."""
    from html import escape

    from ..terminal import shown

    return escape(shown(text), quote=True)
