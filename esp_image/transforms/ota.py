"""Writing otadata the way ESP-IDF does, in a bare otadata file or inside a flash file."""

from __future__ import annotations

from dataclasses import replace

from ..errors import InputError, LayoutError, UsageError
from ..formats.compiled import otadata as fmt
from ..otadata import OtaData, OtaEntry
from . import TransformResult

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from ..image import Image

STATES = {"new": fmt.NEW, "pending": fmt.PENDING_VERIFY, "valid": fmt.VALID,
          "invalid": fmt.INVALID, "aborted": fmt.ABORTED, "undefined": fmt.UNDEFINED}


def select_slot(otadata: OtaData, slot: int, *, ota_slot_count: int,
                state: str | None = None) -> OtaData:
    """Make ``slot`` boot, as ``esp_ota_set_boot_partition`` writes it, with ``state``.

    The record ESP-IDF would write (the other copy, the next sequence number, the right CRC);
    ``state`` (default ``undefined``, what ESP-IDF writes without rollback) replaces its state.
    Reading the result back with ESP-IDF's rule selects ``slot``.
    """
    if state is not None and state not in STATES:
        raise UsageError(f"unknown OTA state {state!r}; choose one of {', '.join(STATES)}")
    switched = otadata.switch(slot, ota_slot_count=ota_slot_count,
                              rollback=state == "new")
    if state is None or state in ("new", "undefined"):
        return switched
    active = switched.active_copy()
    if active is None:  # pragma: no cover - switch() always leaves a valid copy
        raise LayoutError("otadata switch left no valid copy")
    entries = list(switched.entries)
    old = entries[active]
    entries[active] = OtaEntry.make(old.ota_seq, STATES[state], old.seq_label)
    return replace(switched, entries=(entries[0], entries[1]))


def otadata_location(image: Image, ota_slot_count: int | None = None
                     ) -> tuple[OtaData, int, int]:
    """The otadata of a bare otadata file or a flash file: (records, file offset, slot count).

    The slot count of a bare file defaults to 2 unless given; a flash file's comes from its
    table.
    """
    if image.kind == "otadata" and image.otadata is not None:
        return image.otadata, 0, ota_slot_count or 2
    if image.kind == "flash" and image.table is not None and image.base is not None:
        part = image.table.otadata
        if part is None:
            raise InputError(f"{image.path or 'input'}: the partition table has no otadata "
                             "partition; the bootloader boots the factory app (or ota_0)")
        where = part.offset - image.base
        if where < 0 or where + fmt.OTADATA_SIZE > image.size:
            raise InputError(f"{image.path or 'input'}: the otadata partition ({part.offset:#x}) "
                             "is not inside the file")
        return (image.otadata or OtaData.erased(), where,
                ota_slot_count or len(image.table.ota_slots))
    raise InputError(f"{image.path or 'input'} is {image.kind}; otadata needs an otadata "
                     "file or a flash file with an otadata partition")


def slot_number(image: Image, boot: str) -> int:
    """The OTA slot a ``--boot`` value names: a number, ``ota_N``, or an OTA app's name.

    Raises:
        UsageError: none of those (a name is looked up in the image's partition table).
    """
    text = boot.strip().lower()
    if text.isdigit():
        return int(text)
    if text.startswith("ota_") and text[4:].isdigit():
        return int(text[4:])
    if image.table is not None:
        part = image.table.find(boot)
        if part is not None and part.ota_index is not None:
            return part.ota_index
    raise UsageError(f"--boot {boot!r}: give a slot number, ota_N, or the name of an OTA "
                     "app partition")


def otadata_for(image: Image, *, slot: int | str | None = None, state: str | None = None,
                erase: bool = False, ota_slot_count: int | None = None, force: bool = False
                ) -> TransformResult:
    """New file bytes with the otadata changed; and what changed, one line each.

    ``slot`` is a slot number or any name :func:`slot_number` resolves (``ota_1``, a
    partition name).

    Works on a bare otadata file (the slot count defaults to 2 unless given) and on a flash
    file holding an otadata partition (the slot count comes from its table). In a flash file,
    booting a slot whose app the bootloader would skip (erased, damaged, no partition) is
    refused unless ``force``.
    """
    current, where, n = otadata_location(image, ota_slot_count)
    if isinstance(slot, str):
        slot = slot_number(image, slot)
    apps = image.app_slots()
    has_factory = image.table is not None and image.table.factory is not None
    if erase or (slot is None and state is None):
        new = OtaData.erased()
        actions = ["otadata erased: the bootloader boots the factory app, else ota_0"]
    elif slot is None:
        active = current.active_copy()
        if active is None:
            raise LayoutError("no valid otadata record to change the state of; give --boot")
        chosen = current.select(ota_slot_count=n, has_factory=False).slot
        new = select_slot(current, chosen if chosen is not None else 0, ota_slot_count=n,
                          state=state)
        actions = [f"otadata state set to {state}"]
    else:
        if not 0 <= slot < n:
            raise UsageError(f"slot {slot} does not exist: the table has {n} OTA slot(s)")
        new = select_slot(current, slot, ota_slot_count=n, state=state)
        choice = new.select(ota_slot_count=n, has_factory=has_factory)
        actions = [f"otadata: ota_{slot} boots ({choice.reason}); "
                   f"state {new.entries[choice.copy or 0].state_name}"]
        if apps is not None:
            loaded = new.select(ota_slot_count=n, has_factory=has_factory, apps=apps)
            status = apps.status(slot)
            why = "no partition" if status is None else status.reason
            if status is None or status.state == "invalid":
                if not force:
                    raise LayoutError(
                        f"ota_{slot} holds no app the bootloader accepts ({why}): it would "
                        f"skip it and boot {loaded.target}; use --force to select it anyway")
                actions[0] = (f"otadata: ota_{slot} selected ({choice.reason}); state "
                              f"{new.entries[choice.copy or 0].state_name}")
                actions.append(f"forced: the bootloader skips ota_{slot} ({why}) and boots "
                               f"{loaded.target}")
            elif status.state == "unknown":
                actions.extend(loaded.depends[:1])
    out = bytearray(image.data)
    out[where:where + fmt.OTADATA_SIZE] = new.to_bytes()
    return TransformResult(bytes(out), tuple(actions))
