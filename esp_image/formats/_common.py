"""The one boundary between the wire formats and the rest of esp_image.

``parse``/``build`` accept a compiled :class:`~esp_image.formats._layout.Layout` (the hot path:
no construct import) or any construct declaration (imported on first use), and turn their
errors into :class:`~esp_image.errors.FormatError`.
"""

from __future__ import annotations

import struct as _struct

from ..errors import FormatError, TruncatedError
from ._layout import Layout, LayoutError

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any


def parse(struct: Any, data: bytes | memoryview, offset: int = 0,
          name: str | None = None) -> Any:
    """Parse ``struct`` from ``data[offset:]``, turning its errors into ``FormatError``.

    Args:
        struct: a compiled layout or a construct declaration.
        data: the buffer.
        offset: where the structure starts (reported in errors).
        name: the structure's name for messages.
    """
    label = name or getattr(struct, "name", None) or "structure"
    if isinstance(struct, Layout):
        available = len(data) - offset
        if available < struct.size:
            raise TruncatedError(f"needs {struct.size} bytes, only {max(available, 0)} left",
                                 offset, label)
        try:
            return struct.parse(data, offset)
        except LayoutError as exc:
            raise FormatError(f"bad magic ({exc})", offset, label) from None
    return _parse_construct(struct, data, offset, label)


def build(struct: Any, obj: Any, name: str | None = None) -> bytes:
    """Build ``obj`` with ``struct``, turning its errors into ``FormatError``."""
    if isinstance(struct, Layout):
        try:
            return struct.build(obj)
        except (LayoutError, _struct.error, KeyError, TypeError) as exc:
            raise FormatError(f"cannot build: {exc}", None, name or struct.name) from None
    import construct

    try:
        return bytes(struct.build(obj))
    except construct.ConstructError as exc:
        raise FormatError(f"cannot build: {exc}", None, name) from None


def _parse_construct(struct: Any, data: bytes | memoryview, offset: int, label: str) -> Any:
    import construct

    try:
        size: int | None = int(struct.sizeof())
    except construct.SizeofError:
        size = None
    if size is not None and len(data) - offset < size:
        raise TruncatedError(
            f"needs {size} bytes, only {max(len(data) - offset, 0)} left", offset, label
        )
    view = data[offset:offset + size] if size is not None else data[offset:]
    try:
        return struct.parse(bytes(view))
    except construct.ConstError as exc:
        raise FormatError(f"bad magic ({exc})", offset, label) from None
    except construct.StreamError as exc:
        raise TruncatedError(f"data ends early ({exc})", offset, label) from None
    except construct.ConstructError as exc:
        raise FormatError(str(exc), offset, label) from None
