"""The base of the generated record classes in :mod:`esp_image.formats.compiled`.

Importing construct costs about as much as everything else esp-image does for ``info`` on a 4 MB
firmware, so run-time code never parses with the construct declarations. The generator
(``python -m esp_image.formats._compile``) turns each declaration into a slotted record class
with typed attributes, a :mod:`struct` format and straight-line ``parse``/``build`` code; this
module holds what those classes share: value semantics and the errors. Bit fields are
flattened into the record (``header.spi_size``, not ``header.spi.spi_size``).
"""

from __future__ import annotations

import struct

from ..errors import FormatError, TruncatedError

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, ClassVar, TypeVar

    _R = TypeVar("_R", bound="Record")


class Record:
    """One parsed fixed-size struct; subclasses are generated, one per declaration."""

    __slots__: tuple[str, ...] = ()
    NAME: ClassVar[str]
    """``module.Declaration`` of the construct declaration it was generated from."""
    SIZE: ClassVar[int]
    FIELDS: ClassVar[tuple[str, ...]]
    """The attributes in wire order (``__slots__`` of the generated class; subclasses add none)."""
    _STRUCT: ClassVar[struct.Struct]

    @classmethod
    def parse(cls: type[_R], data: bytes | memoryview, offset: int = 0,
              name: str | None = None) -> _R:
        """Parse ``cls.SIZE`` bytes at ``data[offset:]``.

        Args:
            data: the buffer.
            offset: where the struct starts (reported in errors).
            name: the struct's name in error messages (default ``NAME``).

        Raises:
            TruncatedError: fewer than ``SIZE`` bytes are left.
            FormatError: a magic does not match.
        """
        available = len(data) - offset
        if available < cls.SIZE:
            raise TruncatedError(f"needs {cls.SIZE} bytes, only {max(available, 0)} left",
                                 offset, name or cls.NAME)
        try:
            return cls._from_values(cls._STRUCT.unpack_from(data, offset), offset)
        except FormatError as exc:
            raise FormatError(exc.reason, offset, name or cls.NAME) from None

    @classmethod
    def unpack_all(cls, data: bytes | memoryview) -> Iterator[tuple[Any, ...]]:
        """The raw field values of back-to-back records filling ``data`` (a multiple of
        ``SIZE``), no record objects made: for formats of thousands of equal blocks. Magics
        and fields are the caller's to check."""
        return cls._STRUCT.iter_unpack(data)

    pack_values: ClassVar[Callable[..., bytes]]
    """The ``SIZE`` bytes of raw field values in wire order, no record object made (the
    writing side of :meth:`unpack_all`): the struct's own ``pack``, so a loop over thousands
    of blocks pays no Python call per block."""

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls.pack_values = cls._STRUCT.pack

    @classmethod
    def _from_values(cls: type[_R], v: tuple[Any, ...], offset: int) -> _R:
        raise NotImplementedError

    def _values(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def build(self, name: str | None = None) -> bytes:
        """The ``SIZE`` bytes of this record (magics always as declared).

        Raises:
            FormatError: a value does not fit its field (``name`` labels the message).
        """
        try:
            return self._STRUCT.pack(*self._values())
        except (struct.error, OverflowError, ValueError) as exc:
            raise FormatError(f"cannot build: {exc}", None, name or self.NAME) from None
        except FormatError as exc:
            raise FormatError(exc.reason, None, name or self.NAME) from None

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain values (records as dicts, arrays as lists)."""
        return {name: _plain(getattr(self, name)) for name in self.FIELDS}

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes`` applied (like :func:`dataclasses.replace`)."""
        values = {name: getattr(self, name) for name in self.FIELDS}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        values.update(changes)
        return type(self)(**values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.FIELDS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.FIELDS))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS)
        return f"{type(self).__name__}({fields})"


def _plain(value: object) -> object:
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def bad_magic(name: str, offset: int, expected: bytes, found: bytes) -> FormatError:
    """The error of a magic that does not match."""
    return FormatError(f"bad magic (expected {expected!r}, found {found!r})", offset, name)


def check_len(name: str, field: str, value: bytes | tuple[Any, ...], size: int) -> None:
    """Refuse a bytes or array value of the wrong length (struct would pad or cut it)."""
    if len(value) != size:
        raise FormatError(f"cannot build: {field}: expected {size} items, got {len(value)}",
                          None, name)


def check_bits(name: str, field: str, value: int, width: int) -> int:
    """``value`` if it fits ``width`` bits, else the build error."""
    if not 0 <= value < 1 << width:
        raise FormatError(f"cannot build: {field}: {value} does not fit {width} bits", None, name)
    return value
