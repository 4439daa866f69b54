"""Boards: every ``--port`` command reads and writes a connected board through esptool's
Python API, reading only what it needs and writing only the 4 KiB sectors that change.

:func:`board_image` is the one call a command needs to turn a board into an
:class:`~esp_image.image.Image` (``check-update`` and ``plan`` can use it as ``info`` does).
esptool is imported only when a board is opened.
"""

from __future__ import annotations

from .link import AFTER, BEFORE, Board, BoardOptions, open_board
from .read import read_image

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..image import Image

__all__ = ["AFTER", "BEFORE", "Board", "BoardOptions", "board_image", "open_board",
           "read_image"]


def board_image(options: BoardOptions, *, contents: tuple[str, ...] = (),
                whole: bool = False) -> tuple[Image, dict[str, object]]:
    """Connect, read what an Image of the board needs, disconnect (reset as asked)."""
    with open_board(options) as board:
        image = read_image(board, contents=contents, whole=whole)
        return image, board.summary()
