"""NVS value types: names, the checks nvs_flash makes before storing, and the stored bytes."""

from __future__ import annotations

import struct
from typing import Literal

from ..errors import NvsError
from ..formats.compiled import nvs as fmt

TypeName = Literal["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "string", "blob"]
Value = int | str | bytes

INT_TYPES: dict[str, int] = {name: code for code, (name, _) in fmt.PRIMITIVE_TYPES.items()}
TYPE_NAMES: tuple[str, ...] = (*INT_TYPES, "string", "blob")


def check_name(name: str, what: str = "key") -> bytes:
    """The stored bytes of a key or namespace name, refusing what nvs_flash refuses.

    Raises:
        NvsError: empty, longer than 15 bytes (``ESP_ERR_NVS_KEY_TOO_LONG``), or with a NUL.
    """
    raw = name.encode("utf-8", "surrogateescape")
    if not raw or b"\0" in raw:
        raise NvsError(f"NVS {what} {name!r} must be 1 to {fmt.MAX_KEY_LENGTH} bytes "
                       "without NUL")
    if len(raw) > fmt.MAX_KEY_LENGTH:
        raise NvsError(f"NVS {what} {name!r} is {len(raw)} bytes; ESP-IDF allows at most "
                       f"{fmt.MAX_KEY_LENGTH}")
    return raw


def infer_type(value: Value) -> str:
    """The type of a new key from its Python value (integers need an explicit type)."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes | bytearray):
        return "blob"
    raise NvsError(f"a new integer key needs a type ({', '.join(INT_TYPES)})")


def encode(type_name: str, value: Value, key: str) -> bytes:
    """The bytes nvs_flash stores for ``value``: 8 data bytes for integers, else the payload.

    Raises:
        NvsError: unknown type, an integer out of range, a string with a NUL or longer than
            a page holds, a value of the wrong kind.
    """
    if type_name in INT_TYPES:
        code = INT_TYPES[type_name]
        number = _as_int(value, type_name, key)
        packing = fmt.PRIMITIVE_TYPES[code][1]
        try:
            packed = struct.pack(packing, number)
        except struct.error:
            bits = struct.calcsize(packing) * 8
            low, high = (-(1 << bits - 1), (1 << bits - 1) - 1) if type_name[0] == "i" else (
                0, (1 << bits) - 1)
            raise NvsError(f"{key}: {number} does not fit {type_name} "
                           f"({low}..{high})") from None
        return packed + b"\xff" * (8 - len(packed))
    if type_name == "string":
        if not isinstance(value, str):
            raise NvsError(f"{key}: a string value must be text")
        raw = value.encode("utf-8", "surrogateescape")
        if b"\0" in raw:
            raise NvsError(f"{key}: an NVS string cannot contain NUL")
        raw += b"\0"
        if len(raw) > fmt.CHUNK_MAX_SIZE:
            raise NvsError(f"{key}: string of {len(raw)} bytes (with its NUL); ESP-IDF stores "
                           f"at most {fmt.CHUNK_MAX_SIZE}")
        return raw
    if type_name == "blob":
        if isinstance(value, str):
            raise NvsError(f"{key}: a blob value must be bytes")
        return bytes(value)
    raise NvsError(f"unknown NVS type {type_name!r} (one of {', '.join(TYPE_NAMES)})")


def _as_int(value: Value, type_name: str, key: str) -> int:
    if isinstance(value, bool | bytes | bytearray):
        raise NvsError(f"{key}: {type_name} needs an integer")
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            raise NvsError(f"{key}: {value!r} is not an integer") from None
    return int(value)


def decode_string(payload: bytes) -> str:
    """A stored string without its terminating NUL (bytes ESP-IDF would return, kept exactly)."""
    if payload.endswith(b"\0"):
        payload = payload[:-1]
    return payload.decode("utf-8", "surrogateescape")


def as_text(value: Value) -> str:
    """A value written out whole: integers in decimal, strings as they are, blobs in hex (as
    the generator's ``hex2bin`` encoding reads them back)."""
    return value.hex() if isinstance(value, bytes) else str(value)


def as_bytes(value: Value) -> bytes:
    """A value as the bytes of a file: a blob as stored, a string's bytes without its NUL,
    an integer in decimal with a newline."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return f"{value}\n".encode("ascii")
