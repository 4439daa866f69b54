"""The one boundary between construct and the rest of esp_image."""

from __future__ import annotations

import construct

from ..errors import FormatError, TruncatedError

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any


def parse(struct: construct.Construct[Any, Any], data: bytes | memoryview, offset: int = 0,
          name: str | None = None) -> Any:
    """Parse ``struct`` from ``data[offset:]``, turning construct errors into ``FormatError``.

    Args:
        struct: the construct declaration.
        data: the buffer.
        offset: where the structure starts (reported in errors).
        name: the structure's name for messages (defaults to the struct's docstring-less name).
    """
    label = name or getattr(struct, "name", None) or "structure"
    size = _static_size(struct)
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


def build(struct: construct.Construct[Any, Any], obj: Any, name: str | None = None) -> bytes:
    """Build ``obj`` with ``struct``, turning construct errors into ``FormatError``."""
    try:
        return struct.build(obj)
    except construct.ConstructError as exc:
        raise FormatError(f"cannot build: {exc}", None, name) from None


def _static_size(struct: construct.Construct[Any, Any]) -> int | None:
    try:
        return int(struct.sizeof())
    except construct.SizeofError:
        return None
