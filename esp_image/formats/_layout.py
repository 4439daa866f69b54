"""Fixed-size structs compiled ahead of time from their construct declarations.

Importing construct costs about as much as everything else esp-image does for ``info`` on a 4 MB
firmware, so the structs the ESP32-family path parses at run time are compiled into the plain
data in ``_compiled.py`` (by ``python -m esp_image.formats._compile``) and read here with
:mod:`struct`. The construct declarations stay the definition: ``tests/test_compiled_layouts.py``
regenerates the data from them and checks that both parse and build every corpus structure
identically. Records behave like construct containers (attribute and key access).

A field specification is a tuple:

- ``("int", name, code)``: a little-endian integer, ``code`` a :mod:`struct` format character;
- ``("bytes", name, length)`` and ``("default", name, length, value)``;
- ``("const", name, value)``: magic bytes, checked on parse and always written on build;
- ``("bits", name, width, ((sub, bits), ...))``: a BitStruct, most significant field first;
- ``("struct", name, fields)`` and ``("array", name, count, fields)``.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    Field = tuple[Any, ...]


class LayoutError(ValueError):
    """Bytes that do not match the layout (a wrong magic); turned into FormatError by callers."""


class Record(dict[str, "Any"]):
    """A parsed struct: a dict with attribute access, like construct's Container."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Layout:
    """One fixed-size struct: ``parse`` bytes into a :class:`Record`, ``build`` one back."""

    __slots__ = ("_struct", "fields", "name", "size")

    def __init__(self, name: str, fields: tuple[Field, ...]) -> None:
        self.name = name
        self.fields = fields
        self._struct = struct.Struct("<" + "".join(_code(f) for f in fields))
        self.size = self._struct.size

    def sizeof(self) -> int:
        """The struct's size in bytes (construct's spelling)."""
        return self.size

    def parse(self, data: bytes | memoryview, offset: int = 0) -> Record:
        """Parse ``self.size`` bytes at ``offset``.

        Raises:
            LayoutError: a magic does not match.
            struct.error: fewer than ``self.size`` bytes are available.
        """
        values = self._struct.unpack_from(data, offset)
        return _decode(self.fields, values)

    def build(self, obj: Mapping[str, Any]) -> bytes:
        """Build the bytes of ``obj`` (constants are always written as declared)."""
        return self._struct.pack(*_encode(self.fields, obj))


def _code(field: Field) -> str:
    kind = field[0]
    if kind == "int":
        return str(field[2])
    if kind in ("bytes", "default"):
        return f"{field[2]}s"
    if kind == "const":
        return f"{len(field[2])}s"
    if kind == "bits":
        return {8: "B", 16: "H", 32: "I"}[field[2]]
    if kind == "struct":
        return "".join(_code(f) for f in field[2])
    if kind == "array":
        return "".join(_code(f) for f in field[3]) * int(field[2])
    raise ValueError(f"unknown field kind {kind!r}")


def _count(fields: tuple[Field, ...]) -> int:
    """How many :mod:`struct` values ``fields`` unpack to."""
    total = 0
    for f in fields:
        if f[0] == "struct":
            total += _count(f[2])
        elif f[0] == "array":
            total += _count(f[3]) * int(f[2])
        else:
            total += 1
    return total


def _decode(fields: tuple[Field, ...], values: tuple[Any, ...]) -> Record:
    out = Record()
    pos = 0
    for f in fields:
        kind, name = f[0], f[1]
        if kind == "struct":
            n = _count(f[2])
            out[name] = _decode(f[2], values[pos:pos + n])
            pos += n
            continue
        if kind == "array":
            n = _count(f[3])
            out[name] = [_decode(f[3], values[pos + i * n:pos + (i + 1) * n])
                         for i in range(int(f[2]))]
            pos += n * int(f[2])
            continue
        value = values[pos]
        pos += 1
        if kind == "const" and value != f[2]:
            raise LayoutError(f"expected {f[2]!r}, found {value!r}")
        if kind == "bits":
            sub = Record()
            shift = f[2]
            for sub_name, width in f[3]:
                shift -= width
                sub[sub_name] = (value >> shift) & ((1 << width) - 1)
            value = sub
        out[name] = value
    return out


def _encode(fields: tuple[Field, ...], obj: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    for f in fields:
        kind, name = f[0], f[1]
        if kind == "const":
            out.append(f[2])
        elif kind == "default":
            out.append(obj.get(name, f[3]))
        elif kind == "struct":
            out.extend(_encode(f[2], obj[name]))
        elif kind == "array":
            items = obj[name]
            if len(items) != int(f[2]):
                raise LayoutError(f"{name}: expected {f[2]} items, got {len(items)}")
            for item in items:
                out.extend(_encode(f[3], item))
        elif kind == "bits":
            value = 0
            sub = obj[name]
            for sub_name, width in f[3]:
                part = int(sub[sub_name])
                if not 0 <= part < 1 << width:
                    raise LayoutError(f"{name}.{sub_name}: {part} does not fit {width} bits")
                value = value << width | part
            out.append(value)
        elif kind == "bytes":
            value = obj[name]
            if len(value) != f[2]:
                raise LayoutError(f"{name}: expected {f[2]} bytes, got {len(value)}")
            out.append(bytes(value))
        else:
            out.append(obj[name])
    return out


def lazy_declarations(module: str, declare: Callable[[], dict[str, Any]]
                      ) -> Callable[[str], Any]:
    """A module ``__getattr__`` that builds a format module's construct declarations on first use.

    Importing construct costs about 15 ms and the run-time path parses with the compiled
    layouts, so the declarations (the definition, the generator's input and the tests' oracle)
    are built only when one is asked for.
    """
    declared: dict[str, Any] = {}

    def __getattr__(name: str) -> Any:
        if not declared:
            declared.update(declare())
        try:
            return declared[name]
        except KeyError:
            raise AttributeError(f"module {module!r} has no attribute {name!r}") from None

    return __getattr__
