"""``check-update``: will this OTA update boot on that device? Reads files, never writes."""

from __future__ import annotations

import sys

from ..errors import UsageError
from .runner import EXIT_DAMAGED, EXIT_OK, run_guarded, write_json

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..image import Image
    from ..update_check import UpdateCheck
    from .options import (
        After,
        Against,
        Baud,
        Before,
        BoardChip,
        BoardPort,
        Debug,
        Json,
        Key,
        NoLimit,
        NoStub,
        UpdateFile,
    )


def check_update(update: UpdateFile, against: Against = None, json: Json = False,
                 key: Key = None, debug: Debug = False, no_size_limit: NoLimit = False,
                 port: BoardPort = None, baud: Baud = None, chip: BoardChip = None,
                 before: Before = "default-reset", after: After = "hard-reset",
                 no_stub: NoStub = False) -> int:
    """Tell whether an OTA update boots on a device; exit 0 yes, 1 no (with every reason).

    Checks what the update is, that it is intact, the chip and its revision, the slot the next
    OTA write goes to and whether it fits, anti-rollback, Secure Boot v2 keys and flash
    parameters; ESP8266: the NONOS user1/user2 slot and yaota8266's main app.

    Example: [bold]esp-image check-update build/app.bin --against dump.bin[/bold]  ([bold]--port
    /dev/ttyUSB0[/bold]: the connected board is the device)
    """
    def body() -> int:
        from ..image import Image
        from ..io import MAX_FILE_SIZE, read_input
        from ..update_check import check_update as judge

        if (against is None) == (port is None):
            raise UsageError("give the device as --against TARGET or --port PORT" if against
                             is None else "give --against TARGET or --port PORT, not both")
        limit = None if no_size_limit else MAX_FILE_SIZE
        key_bytes = read_input(key, "key file") if key is not None else None
        image = Image.open(update, key=key_bytes, max_size=limit)  # refused before connecting
        target, board, transfers = _device(against, limit, port,
                                           (baud, chip, before, after, no_stub))
        result = judge(image, target)
        if json:
            write_json({**result.to_dict(), **({"board": board} if board else {})})
        else:
            _render(result)
            sys.stdout.write(transfers)
        return EXIT_OK if result.boots else EXIT_DAMAGED
    return run_guarded(body, debug=debug, as_json=json, path=update)


def _device(against: str | None, limit: int | None, port: str | None,
            connection: tuple[str | None, str | None, str, str, bool]
            ) -> tuple[Image, dict[str, object] | None, str]:
    """The device: the TARGET file, or the board on ``port`` (its ``board`` summary and the
    transfers line too); ``connection`` is (baud, chip, before, after, no_stub)."""
    from ..image import Image

    if port is None:
        assert against is not None  # one of the two, checked first
        return Image.open(against, max_size=limit), None, ""
    from .board import board_options
    from .port_commands import update_target

    target, board, transfers = update_target(board_options(port, *connection))
    return target, board, transfers + "\n"


def _render(result: UpdateCheck) -> None:
    from ..terminal import shown

    lines = [f"{result.update}: {result.what}",
             f"boots on {result.target}: {'yes' if result.boots else 'no'}"]
    if result.slot is not None:
        slot = result.slot
        name = "" if slot.name == slot.label else f" ({slot.name})"
        lines.append(f"slot: {slot.label}{name} at {slot.offset:#x}, {slot.size:#x} bytes; "
                     f"{slot.rule}")
    lines += [f"reason: {r}" for r in result.reasons]
    lines += [f"warning: {w}" for w in result.warnings]
    lines += [f"note: {n}" for n in result.notes]
    lines.append("checks:")
    lines += [f"  {'ok  ' if c.valid else 'FAIL'} {c.name}: {c.detail}" for c in result.checks]
    sys.stdout.write("".join(shown(line) + "\n" for line in lines))
