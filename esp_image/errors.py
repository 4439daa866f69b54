"""The esp_image exception hierarchy.

Every failure inside the library is raised as an :class:`EspImageError` subclass whose
message says where (file offset or flash address), what was expected and what was found.
The CLI turns these into one line on stderr and exit code 2.
"""

from __future__ import annotations


class EspImageError(Exception):
    """Base class of every error raised by esp_image."""


class InputError(EspImageError):
    """The input cannot be used at all (missing, unreadable, empty, a directory, too large)."""


class FormatError(EspImageError):
    """Bytes do not match the structure they were expected to hold.

    Attributes:
        offset: byte offset (in the buffer being parsed) where the problem was found.
        structure: name of the structure being parsed.
    """

    def __init__(self, message: str, offset: int | None = None, structure: str | None = None):
        where = []
        if structure:
            where.append(structure)
        if offset is not None:
            where.append(f"at offset {offset:#x}")
        super().__init__(f"{' '.join(where)}: {message}" if where else message)
        self.offset = offset
        self.structure = structure
        self.reason = message


class TruncatedError(FormatError):
    """The data ends before the structure does."""


class ChecksumMismatch(EspImageError):
    """A stored checksum, hash or CRC does not match the computed one."""


class CsvFieldError(EspImageError):
    """A partition CSV field does not parse; re-raised as a FormatError naming the line."""


class BoardError(InputError):
    """A device that cannot be reached or did not answer as its protocol requires (exit 2): a
    board on a serial port or socket, a read or write on it that failed, or a yaota8266 device on
    the network silent after every retry (which includes dropping datagrams whose signature it
    rejects). Nothing about the input is wrong."""


class LayoutError(EspImageError):
    """A partition layout breaks a rule the generator or the bootloader enforces."""


class DecompressionLimit(InputError):
    """Compressed input inflates past the size esp_image accepts (a decompression bomb, or not
    firmware at all); nothing beyond the limit is inflated."""


class KeyMismatch(InputError):
    """A key file that cannot serve the file it was given for: the wrong kind of key (public
    where a private one is needed, EC where RSA is), unreadable, or one that does not open it."""


class UsageError(EspImageError):
    """The request itself cannot be carried out: an unknown option value, an impossible size,
    a missing or contradictory option. Nothing about the input is wrong (the CLI exits 2, not
    1, which means damage or a refusal after checking the input)."""


class UnsupportedChip(EspImageError):
    """A chip id or chip name that esp_image does not know."""


class VerificationFailed(EspImageError):
    """The bytes about to be written do not pass esp_image's own checks (nothing is written)."""


class NvsError(EspImageError):
    """An NVS read or write that ESP-IDF's nvs_flash would refuse (bad key, value, state)."""


class NvsFull(NvsError):
    """An NVS partition has no room for what is written (the message gives the bytes needed)."""


class NvsNotFound(NvsError):
    """An NVS namespace or key that is not in the partition."""


class Interrupted(SystemExit):
    """The one exception outside EspImageError: it is a signal, not a failure of the input.

    SIGINT or SIGTERM arrived: unwind (temporary files are removed) and exit 128+signal.

    A SystemExit, so that click, typer and ``except Exception`` handlers let it pass.
    """

    def __init__(self, signum: int, detail: str = "") -> None:
        super().__init__(128 + signum)
        self.signum = signum
        self.detail = detail
        """What was left half done (a board write names its sectors and the backup)."""
