"""What the ESP-IDF bootloader starts: the selection otadata makes (:class:`BootSelection`) and
the apps ``bootloader_utility_load_boot_image`` tries in turn (:class:`AppSlots`), skipping the
partitions whose app ``bootloader_load_image`` rejects (otadata.md §5, §5.1).

Re-exported by :mod:`esp_image.otadata`, which decides the selection from the records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .formats.compiled.partition_table import MAX_OTA_SLOTS

# The bootloader's partition indices (bootloader_config.h): OTA slots are 0..15.
FACTORY_INDEX = -1
TEST_INDEX = -2


@dataclass(frozen=True)
class BootSelection:
    """What the bootloader selects from otadata (rollback disabled, otadata.md §5).

    Attributes:
        slot: the OTA slot index chosen, or None for the bootloader's FACTORY index (the
            factory app; without one the loader then tries every OTA slot from ota_0 up, §5.1).
        copy: the otadata copy that decided, or None when no copy decided.
        reason: one line explaining the choice, e.g.
            ``"copy 1 valid, seq 3 → (3−1) mod 2 = slot 0"``.
        factory_fallback: True when the FACTORY index was chosen (``slot is None``).
        seeding: no factory and both copies initial (erased or bad CRC): after ota_0 boots,
            the bootloader writes copy 0 itself (§5.2).
        pending_note: for NEW / PENDING_VERIFY states, what a bootloader built with rollback
            enabled would do differently (§2); None otherwise.
        selected: the index otadata selects (``FACTORY_INDEX`` or an OTA slot) once the apps
            were checked with :meth:`loaded_from`; None while only otadata was read, when
            :attr:`slot` is the selection itself.
        boots: the index that really starts (``FACTORY_INDEX``, ``TEST_INDEX`` or a slot), or
            None when no app loads; meaningful only when :attr:`selected` is set.
        skipped: the candidates the loader tries and rejects before :attr:`boots`, each with
            the reason, in the loader's order.
        depends: what the answer depends on that the file does not hold (flash not in the
            file, validation-skipping Kconfig options), one sentence each.
    """

    slot: int | None
    copy: int | None
    reason: str
    factory_fallback: bool
    seeding: bool = False
    pending_note: str | None = None
    selected: int | None = None
    boots: int | None = None
    skipped: tuple[tuple[str, str], ...] = ()
    depends: tuple[str, ...] = ()

    @property
    def apps_checked(self) -> bool:
        """Whether the apps were checked (:attr:`target` is then what really starts)."""
        return self.selected is not None

    @property
    def target(self) -> str:
        """What boots: ``"factory"``, ``"ota_N"``, ``"test"``, or ``"none"`` (nothing loads)."""
        if self.apps_checked:
            return index_name(self.boots)
        return "factory" if self.slot is None else f"ota_{self.slot}"

    @property
    def selected_target(self) -> str:
        """What otadata selects, before the loader skips apps it rejects."""
        if self.selected is not None:
            return index_name(self.selected)
        return self.target

    def loaded_from(self, apps: AppSlots) -> BootSelection:
        """Follow ``bootloader_utility_load_boot_image`` from this selection through ``apps``.

        :attr:`slot` becomes the OTA slot that really starts (None for factory, test or
        nothing), :attr:`boots` names it, :attr:`skipped` lists what was passed over and why.
        """
        start = FACTORY_INDEX if self.slot is None else self.slot
        skipped: list[tuple[str, str]] = []
        depends: list[str] = []
        boots: int | None = None
        unsure: int | None = None  # the first candidate whose flash is not in the file
        after_unsure: list[str] = []
        unchecked: list[str] = []  # rejected only by checks a Kconfig option can turn off
        for index in apps.order(start):
            status = apps.status(index)
            assert status is not None  # order() yields only indices that have a partition
            if unsure is not None:
                if status.state == "invalid":
                    continue
                after_unsure.append(index_name(index) + (
                    "" if status.state == "valid" else f" ({status.reason})"))
                if status.state == "valid":
                    break
                continue
            if status.state == "valid":
                boots = index
                break
            if status.state == "unknown":
                unsure = index
                boots = index
                continue
            skipped.append((index_name(index), status.reason))
            if status.validation_only:
                unchecked.append(index_name(index))
        if unsure is not None:
            then = (f"otherwise the bootloader tries {', then '.join(after_unsure)}"
                    if after_unsure else "otherwise no app boots")
            depends.append(f"{index_name(unsure)}: {apps.status_reason(unsure)}; it boots if "
                           f"the flash there holds a valid app, {then}")
        if unchecked:
            depends.append(
                f"{' and '.join(unchecked)} fail{'s' if len(unchecked) == 1 else ''} only "
                "checks that a bootloader built with CONFIG_BOOTLOADER_SKIP_VALIDATE_ALWAYS "
                "(or _ON_POWER_ON, at power-on) and without Secure Boot does not run; such a "
                f"bootloader would start {unchecked[0]}")
        slot = boots if boots is not None and boots >= 0 else None
        return replace(self, slot=slot, selected=start, boots=boots, skipped=tuple(skipped),
                       depends=tuple(depends))

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form.

        ``slot``/``target`` name what boots; ``selected`` what otadata selects; ``skipped``
        the apps the bootloader passes over on the way, each with the reason.
        """
        return {
            "slot": self.slot,
            "target": self.target,
            "copy": self.copy,
            "reason": self.reason,
            "factory_fallback": self.factory_fallback,
            "seeding": self.seeding,
            "pending_note": self.pending_note,
            "selected": self.selected_target,
            "boots": None if self.target == "none" else self.target,
            "skipped": [{"target": t, "reason": r} for t, r in self.skipped],
            "apps_checked": self.apps_checked,
            "depends": list(self.depends),
        }


def index_name(index: int | None) -> str:
    """The bootloader's partition index as a name: ``factory``, ``test``, ``ota_N``, ``none``."""
    if index is None:
        return "none"
    if index == FACTORY_INDEX:
        return "factory"
    if index == TEST_INDEX:
        return "test"
    return f"ota_{index}"


@dataclass(frozen=True)
class AppStatus:
    """Whether ``bootloader_load_image`` would accept the app in one partition.

    Attributes:
        state: ``"valid"``, ``"invalid"`` or ``"unknown"`` (the file does not hold it all).
        reason: why it is invalid or unknown, e.g. ``"erased"``.
        validation_only: invalid only by checks the bootloader skips when built with
            ``CONFIG_BOOTLOADER_SKIP_VALIDATE_*`` (checksum, SHA-256, chip id).
    """

    state: str
    reason: str = ""
    validation_only: bool = False


@dataclass(frozen=True)
class AppSlots:
    """The bootloader's view of the app partitions (``bootloader_state_t``) and their apps.

    Attributes:
        app_count: the number of OTA app partitions (``bs->app_count``, gaps included).
        slots: the status of ``ota_N`` for each N that has a partition of non-zero size.
        factory: the factory app's status, None without one.
        test: the test app's status, None without one.
    """

    app_count: int
    slots: Mapping[int, AppStatus] = field(default_factory=dict)
    factory: AppStatus | None = None
    test: AppStatus | None = None

    def status(self, index: int) -> AppStatus | None:
        """``index_to_partition``: OTA slots at or past ``app_count`` have no partition."""
        if index == FACTORY_INDEX:
            return self.factory
        if index == TEST_INDEX:
            return self.test
        if 0 <= index < min(self.app_count, MAX_OTA_SLOTS):
            return self.slots.get(index)
        return None

    def status_reason(self, index: int) -> str:
        status = self.status(index)
        return status.reason if status is not None else "no partition"

    def order(self, start: int) -> list[int]:
        """The indices the loader tries from ``start``, skipping those without a partition."""
        downwards = range(start, FACTORY_INDEX - 1, -1)
        upwards = range(start + 1, self.app_count)
        tried = [i for i in (*downwards, *upwards) if self.status(i) is not None]
        if self.test is not None:
            tried.append(TEST_INDEX)
        return tried
