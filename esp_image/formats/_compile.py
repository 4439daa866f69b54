"""Generate :mod:`esp_image.formats.compiled` from the construct declarations.

    python -m esp_image.formats._compile          # rewrite esp_image/formats/compiled/
    python -m esp_image.formats._compile --check  # exit 1 if it is out of date

For each format module ``esp_image.formats.X`` the generated ``compiled/X.py`` holds what run-time
code needs without importing construct (see :mod:`esp_image.formats._records` for why):

- the module's wire constants (its UPPERCASE names with literal values) and the pure helpers
  listed in :data:`FUNCTIONS`, copied so that each is still written once, in the format module;
- one typed, slotted record class per module-level construct ``Struct``, with its :mod:`struct`
  format and straight-line ``parse``/``build`` code.

``_compiled.py`` indexes every record by its declaration's name.

Only the field kinds the declarations use are supported; anything else is an error, never a
silent guess. tests/formats/test_compiled.py holds every record against construct.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pprint
import sys
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

MODULES = ("esp32_image", "app_desc", "partition_table", "otadata", "esp8266", "rboot",
           "yaota8266", "nvs", "secure_cert", "coredump", "gzip", "arduino_signed",
           "length_prefix", "matter_ota", "encrypted_img", "spiffs", "arduino", "uf2",
           "elf")
"""The format modules, in the order their records may refer to each other's."""

FUNCTIONS: dict[str, tuple[str, ...]] = {
    "otadata": ("ota_crc_bytes", "ota_crc"),
    "rboot": ("config_size",),
    "yaota8266": ("body_size",),
    "nvs": ("nvs_crc", "item_crc", "header_crc"),
    "secure_cert": ("padding_length", "tlv_size"),
    "coredump": ("align4",),
    "spiffs": ("spiffs_magic", "lookup_pages"),
}
"""Pure helpers (no construct) that run-time code calls, copied with the constants."""

DATACLASSES = frozenset({"esp32_image.ImageHeader"})
"""Records the public API hands out as frozen dataclasses (``AppImage.header``: users call
``dataclasses.replace`` on it). Creating a dataclass costs about 1 ms at import, so only these."""

OUTPUT = Path(__file__).with_name("compiled")
INDEX = Path(__file__).with_name("_compiled.py")

_INT_CODES = {"B": "int", "H": "int", "L": "int", "I": "int", "Q": "int"}


def declarations(module: ModuleType) -> dict[str, Any]:
    """The module-level construct Structs of a format module, in definition order."""
    import construct

    out: dict[str, Any] = {}
    for name, value in vars(module).items():
        inner = value
        while isinstance(inner, construct.Renamed):
            inner = inner.subcon
        if isinstance(inner, construct.Struct) and not name.startswith("_"):
            out[name] = value
    return out


def fields_of(struct: Any, known: dict[int, str]) -> tuple[tuple[Any, ...], ...]:
    """The field specifications of a construct ``Struct`` (unwrapping a docstring).

    ``known`` maps ``id()`` of already generated Structs to their class names, so a nested
    declared Struct becomes a field of that record type.
    """
    import construct

    struct = _unwrap(struct)
    if not isinstance(struct, construct.Struct):
        raise TypeError(f"expected a Struct, got {type(struct).__name__}")
    subcons: Any = struct.subcons
    return tuple(_field(str(sc.name), sc.subcon, known) for sc in subcons)


def _unwrap(struct: Any) -> Any:
    import construct

    while isinstance(struct, construct.Renamed):
        struct = struct.subcon
    return struct


def _scalar(name: str, sub: Any) -> tuple[Any, ...] | None:
    """An integer field: ``("int", name, struct code)`` or ``("int24", name)``."""
    import construct

    if isinstance(sub, construct.FormatField):
        if not sub.fmtstr.startswith("<") or sub.fmtstr[1:] not in _INT_CODES:
            raise TypeError(f"{name}: only little-endian unsigned integers are supported")
        return ("int", name, sub.fmtstr[1:])
    if isinstance(sub, construct.BytesInteger) and _any(sub).length == 3:
        if _any(sub).signed or not _any(sub).swapped:
            raise TypeError(f"{name}: only little-endian unsigned 24-bit integers")
        return ("int24", name)
    return None


def _field(name: str, sub: Any, known: dict[int, str]) -> tuple[Any, ...]:
    import construct

    sub = _any(_unwrap(sub))
    scalar = _scalar(name, sub)
    if scalar is not None:
        return scalar
    if isinstance(sub, construct.Const):
        return ("const", name, bytes(sub.value))
    if isinstance(sub, construct.Bytes) and isinstance(sub.length, int):
        return ("bytes", name, sub.length)
    if isinstance(sub, construct.Default) and isinstance(sub.subcon, construct.Bytes):
        return ("default", name, sub.subcon.length, bytes(_any(sub).value))
    if isinstance(sub, construct.Array) and isinstance(sub.count, int):
        item = _scalar(name, _unwrap(sub.subcon))
        if item is not None:
            return ("ints", name, sub.count, item[2] if item[0] == "int" else "int24")
        return ("records", name, sub.count, _record_name(name, sub.subcon, known))
    if isinstance(sub, construct.Struct):
        return ("record", name, _record_name(name, sub, known))
    if isinstance(sub, construct.Transformed) and isinstance(sub.subcon, construct.Struct):
        return _bits(name, sub.subcon)
    raise TypeError(f"{name}: {type(sub).__name__} is not supported by the record compiler")


def _record_name(name: str, struct: Any, known: dict[int, str]) -> str:
    try:
        return known[id(_unwrap(struct))]
    except KeyError:
        raise TypeError(f"{name}: a nested Struct must be declared at module level first"
                        ) from None


def _bits(name: str, struct: Any) -> tuple[Any, ...]:
    import construct

    bits = []
    inner_subcons: Any = struct.subcons
    for sc in inner_subcons:
        inner = sc.subcon
        if isinstance(inner, construct.BitsInteger) and not (inner.signed or inner.swapped):
            bits.append((sc.name, int(_any(inner).length), "int"))
        elif inner is construct.Flag:
            bits.append((sc.name, 1, "bool"))
        else:
            raise TypeError(f"{name}.{sc.name}: only unsigned BitsInteger and Flag fields")
    width = sum(w for _, w, _ in bits)
    if width not in (8, 16, 32):
        raise TypeError(f"{name}: a BitStruct of {width} bits")
    return ("bits", name, width, tuple(bits))


def _any(value: object) -> Any:
    """construct's typing stubs do not describe these attributes; read them untyped."""
    return value


# ------------------------------------------------------------------------------ rendering

_BITS_CODE = {8: "B", 16: "H", 32: "I"}


class _Record:
    """The pieces of one generated class, gathered field by field."""

    def __init__(self, name: str, fields: tuple[tuple[Any, ...], ...], sizes: dict[str, int],
                 codes: dict[str, str]) -> None:
        self.params: list[str] = []
        self.slots: list[str] = []
        self.decode: list[str] = []  # constructor arguments
        self.encode: list[str] = []  # struct values
        self.checks: list[str] = []  # (lines) before decoding
        self.build_checks: list[str] = []
        self.code = ""
        self.size = 0
        pos = 0
        for field in fields:
            pos = self._add(name, field, pos, sizes, codes)

    def _attr(self, name: str, annotation: str, default: str | None = None) -> None:
        if name in self.slots:
            raise TypeError(f"field {name!r} appears twice once bit fields are flattened")
        self.slots.append(name)
        self.params.append(f"{name}: {annotation}" + (f" = {default}" if default else ""))

    def _add(self, rec: str, f: tuple[Any, ...], pos: int, sizes: dict[str, int],
             codes: dict[str, str]) -> int:
        kind, name = f[0], f[1]
        nm = "self.NAME"
        if kind == "int":
            self._attr(name, "int")
            self.code += f[2]
            self.decode.append(f"v[{pos}]")
            self.encode.append(f"self.{name}")
            return pos + 1
        if kind == "int24":
            self._attr(name, "int")
            self.code += "3s"
            self.decode.append(f'int.from_bytes(v[{pos}], "little")')
            self.encode.append(f'self.{name}.to_bytes(3, "little")')
            return pos + 1
        if kind == "const":
            self.code += f"{len(f[2])}s"
            self.checks.append(f"if v[{pos}] != {f[2]!r}:\n"
                               f"    raise bad_magic(cls.NAME, offset, {f[2]!r}, v[{pos}])")
            self.encode.append(repr(f[2]))
            return pos + 1
        if kind in ("bytes", "default"):
            self._attr(name, "bytes", _bytes_literal(f[3]) if kind == "default" else None)
            self.code += f"{f[2]}s"
            self.decode.append(f"v[{pos}]")
            self.build_checks.append(f"check_len({nm}, {name!r}, self.{name}, {f[2]})")
            self.encode.append(f"self.{name}")
            return pos + 1
        if kind == "bits":
            shift = f[2]
            parts = []
            for sub, width, typ in f[3]:
                shift -= width
                self._attr(sub, typ)
                mask = (1 << width) - 1
                get = f"v[{pos}] >> {shift} & {mask:#x}" if shift else f"v[{pos}] & {mask:#x}"
                self.decode.append(f"bool({get})" if typ == "bool" else get)
                value = (f"int(self.{sub})" if typ == "bool"
                         else f"check_bits({nm}, {sub!r}, self.{sub}, {width})")
                parts.append(f"{value} << {shift}" if shift else value)
            self.code += _BITS_CODE[f[2]]
            self.build_checks.append(f"{name} = (" + "\n    | ".join(parts) + ")")
            self.encode.append(name)
            return pos + 1
        if kind == "ints":
            count, item = f[2], f[3]
            self._attr(name, "tuple[int, ...]")
            self.build_checks.append(f"check_len({nm}, {name!r}, self.{name}, {count})")
            if item == "int24":
                self.code += "3s" * count
                self.decode.append(f'tuple(int.from_bytes(b, "little") for b in '
                                   f"v[{pos}:{pos + count}])")
                self.encode.append(f'*(x.to_bytes(3, "little") for x in self.{name})')
            else:
                self.code += item * count
                self.decode.append(f"tuple(v[{pos}:{pos + count}])")
                self.encode.append(f"*self.{name}")
            return pos + count
        if kind == "record":
            cls = f[2]
            self._attr(name, cls)
            n = sizes[cls]
            self.code += codes[cls]
            self.decode.append(f"{cls}._from_values(v[{pos}:{pos + n}], offset)")
            self.encode.append(f"*self.{name}._values()")
            return pos + n
        if kind == "records":
            count, cls = f[2], f[3]
            self._attr(name, f"tuple[{cls}, ...]")
            n = sizes[cls]
            self.code += codes[cls] * count
            self.decode.append(f"tuple({cls}._from_values(v[i:i + {n}], offset) "
                               f"for i in range({pos}, {pos + n * count}, {n}))")
            self.build_checks.append(f"check_len({nm}, {name!r}, self.{name}, {count})")
            self.encode.append(f"*(x for r in self.{name} for x in r._values())")
            return pos + n * count
        raise TypeError(f"{rec}.{name}: unknown field kind {kind!r}")


def _bytes_literal(value: bytes) -> str:
    if len(value) > 16 and value == value[:1] * len(value):
        return f"{value[:1]!r} * {len(value)}"
    return repr(value)


def _value_count(code: str) -> int:
    import struct as _struct

    count = 0
    number = ""
    for ch in code:
        if ch.isdigit():
            number += ch
            continue
        count += 1 if ch == "s" else int(number or 1)
        number = ""
    _struct.calcsize("<" + code)  # a bad code fails here, not at run time
    return count


def _docstring(value: Any, fallback: str) -> str:
    doc = getattr(value, "docs", "") or fallback
    lines = inspect.cleandoc(doc).splitlines()
    return "\n".join(("    " + line).rstrip() for line in lines)


def render_record(name: str, module: str, value: Any, *, known: dict[int, str],
                  sizes: dict[str, int], codes: dict[str, str]) -> list[str]:
    """The source lines of one record class (and record its size and struct code)."""
    import struct as _struct

    fields = fields_of(value, known)
    rec = _Record(name, fields, sizes, codes)
    size = _struct.calcsize("<" + rec.code)
    sizes[name] = _value_count(rec.code)
    codes[name] = rec.code
    known[id(_unwrap(value))] = name
    if size != value.sizeof():
        raise TypeError(f"{name}: {size} bytes compiled, construct says {value.sizeof()}")
    frozen = f"{module}.{name}" in DATACLASSES
    out = ["@dataclass(frozen=True, slots=True)"] if frozen else []
    out += [f"class {name}(Record):",
            '    """' + _docstring(value, f"{module}.{name}").lstrip() + '"""',
            ""]
    names = [repr(s) for s in rec.slots]
    if frozen:  # a dataclass makes the slots and the constructor itself
        out += _wrap("    FIELDS = (", names, ")", 8, tuple_=True)
    else:
        out += [*_wrap("    __slots__ = (", names, ")", 8, tuple_=True), "    FIELDS = __slots__"]
    out += [f"    NAME = {module + '.' + name!r}",
            f"    SIZE = {size}",
            f"    _STRUCT = Struct({'<' + rec.code!r})",
            ""]
    out += [f"    {p.split(' = ')[0]}" for p in rec.params]
    if not frozen:
        out += ["", *_wrap("    def __init__(", ["self", *rec.params], ") -> None:", 8)]
        out += [f"        self.{s} = {s}" for s in rec.slots]
    out += ["", "    @classmethod",
            f"    def _from_values(cls, v: tuple[Any, ...], offset: int) -> {name}:"]
    for check in rec.checks:
        out += ["        " + line for line in check.splitlines()]
    out += [*_wrap("        return cls(", rec.decode, ")", 12), "",
            "    def _values(self) -> tuple[Any, ...]:"]
    out += ["        " + line for check in rec.build_checks for line in check.splitlines()]
    out += [*_wrap("        return (", rec.encode, ")", 12, tuple_=True), "", ""]
    return out


def _wrap(head: str, items: list[str], tail: str, indent: int, tuple_: bool = False
          ) -> list[str]:
    """``head + items + tail`` on one line if it fits in 99 columns, else one item a line."""
    single = head + ", ".join(items) + ("," if tuple_ and len(items) == 1 else "") + tail
    if len(single) <= 99:
        return [single]
    return [head, *(" " * indent + item + "," for item in items), " " * (indent - 4) + tail]


def render(module_name: str) -> str:
    """The text of ``compiled/<module_name>.py``."""
    module = importlib.import_module(f"esp_image.formats.{module_name}")
    known: dict[int, str] = {}
    sizes: dict[str, int] = {}
    codes: dict[str, str] = {}
    body: list[str] = []
    for name, value in declarations(module).items():
        body += render_record(name, module_name, value, known=known, sizes=sizes,
                              codes=codes)
    helpers = [inspect.getsource(getattr(module, f)) for f in FUNCTIONS.get(module_name, ())]
    head = [
        f'"""Generated from :mod:`esp_image.formats.{module_name}`: do not edit.',
        "",
        "Change the declarations there and run ``python -m esp_image.formats._compile``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    if any("zlib." in h for h in helpers):
        head += ["import zlib"]
    if body:
        if "@dataclass" in "\n".join(body):
            head += ["from dataclasses import dataclass"]
        head += ["from struct import Struct", "", "from .._records import Record"]
        used = [n for n in ("bad_magic", "check_bits", "check_len") if n + "(" in "".join(body)]
        if used:
            head[-1] = f"from .._records import Record, {', '.join(used)}"
        head += ["", "TYPE_CHECKING = False", "if TYPE_CHECKING:",
                 "    from typing import Any"]
    head += [""]
    consts = [f"{name} = {_literal(value, 96 - len(name))}"
              for name, value in constants(module).items()]
    return "\n".join([*head, *consts, "", "", *[h.rstrip() + "\n\n" for h in helpers],
                      *body]).rstrip() + "\n"


def constants(module: ModuleType) -> dict[str, Any]:
    """The module's UPPERCASE names whose values are plain literals, in definition order."""
    return {name: value for name, value in vars(module).items()
            if name.isupper() and name != "TYPE_CHECKING" and _is_literal(value)}


def _is_literal(value: object) -> bool:
    if isinstance(value, (bool, int, str, bytes)) or value is None:
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(_is_literal(k) and _is_literal(v) for k, v in value.items())
    return False


def _literal(value: object, width: int) -> str:
    if isinstance(value, bytes):
        return _bytes_literal(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 64:
        return f"0x{value:X}"
    return pprint.pformat(value, width=width, sort_dicts=False)


def render_index() -> str:
    """The text of ``_compiled.py``: every record by its declaration's name."""
    lines = ['"""Every generated record by the name of its construct declaration: do not edit.',
             "",
             "Generated by ``python -m esp_image.formats._compile``;",
             "tests/formats/test_compiled.py holds each record against its declaration.",
             '"""',
             "",
             "from __future__ import annotations",
             ""]
    lines += _wrap("from .compiled import (", sorted(MODULES), ")", 4)
    lines += ["", "TYPE_CHECKING = False", "if TYPE_CHECKING:",
              "    from ._records import Record", "", "RECORDS: dict[str, type[Record]] = {"]
    for name in MODULES:
        module = importlib.import_module(f"esp_image.formats.{name}")
        lines += [f"    {name + '.' + decl!r}: {name}.{decl},"
                  for decl in declarations(module)]
    return "\n".join([*lines, "}", ""])


def outputs() -> dict[Path, str]:
    """Every generated file and its text."""
    files = {OUTPUT / "__init__.py": '"""Run-time constants and records of the wire formats, '
             'without construct.\n\nGenerated by ``python -m esp_image.formats._compile``."""\n',
             INDEX: render_index()}
    for name in MODULES:
        files[OUTPUT / f"{name}.py"] = render(name)
    return files


def write_or_check(files: dict[Path, str], argv: list[str] | None, description: str | None,
                   command: str) -> int:
    """A generator's command line: write ``files``, or with ``--check`` exit 1 if any of
    them is not what would be written (``command`` regenerates them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"{', '.join(str(p) for p in stale)} out of date: run {command}")
            return 1
        return 0
    for path, text in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Rewrite or check ``compiled/``."""
    return write_or_check(outputs(), argv, __doc__, "python -m esp_image.formats._compile")


if __name__ == "__main__":
    sys.exit(main())
