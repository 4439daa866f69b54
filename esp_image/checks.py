"""Integrity-check results shared by every format model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One integrity check that was run.

    Attributes:
        name: check name from the CLI contract (``checksum``, ``sha256``, ``md5``, ``crc32``,
            ``otadata-crc``, ``structure``, ``layout``, ...).
        valid: whether the check passed.
        offset: file offset of the thing checked.
        detail: a human-readable explanation, e.g. ``"stored 0x5c, computed 0x5c"``.
    """

    name: str
    valid: bool
    offset: int
    detail: str

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form used by ``--json``."""
        return {"name": self.name, "valid": self.valid, "offset": self.offset,
                "detail": self.detail}

    def shifted(self, delta: int) -> Check:
        """Return the same check with its offset moved by ``delta`` (image → file offsets)."""
        return Check(self.name, self.valid, self.offset + delta, self.detail)


class Checked:
    """``damage`` and ``valid`` of a model whose ``checks`` list holds every check it ran."""

    checks: list[Check]

    @property
    def damage(self) -> list[Check]:
        """The failed checks."""
        return [c for c in self.checks if not c.valid]

    @property
    def valid(self) -> bool:
        """Whether every check passed."""
        return not self.damage


def compare(name: str, offset: int, stored: int, computed: int, width: int = 2) -> Check:
    """Build a check comparing a stored and a computed integer, formatted in hex."""
    return Check(
        name,
        stored == computed,
        offset,
        f"stored {stored:#0{width + 2}x}, computed {computed:#0{width + 2}x}",
    )


def compare_digest(name: str, offset: int, stored: bytes, computed: bytes) -> Check:
    """Build a check comparing two digests, shown in hex."""
    if stored == computed:
        return Check(name, True, offset, f"stored {stored.hex()} matches")
    return Check(name, False, offset, f"stored {stored.hex()}, computed {computed.hex()}")


@dataclass(frozen=True)
class Issue:
    """A layout or consistency finding that is not a stored-vs-computed integrity check.

    Attributes:
        severity: ``"error"`` when the bootloader or ESP-IDF would reject the data,
            ``"warning"`` when it works but is likely a mistake.
        code: a short stable identifier, e.g. ``"past-flash-end"``, ``"overlap"``.
        message: one line for a person, naming the partition/offset involved.
    """

    severity: str
    code: str
    message: str

    @property
    def is_error(self) -> bool:
        """Whether this finding makes the data invalid."""
        return self.severity == "error"

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"severity": self.severity, "code": self.code, "message": self.message}
