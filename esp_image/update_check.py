"""Will this OTA update boot on that device? :func:`check_update` judges an app against a device.

The device (``target``) is an :class:`~esp_image.image.Image` of what its flash holds: a merged
firmware file or a dump today, a board-backed Image later. Every question is a named
:class:`~esp_image.checks.Check`; a failed one is a reason the update does not boot. What only
makes booting less certain is a warning; facts worth knowing are notes.

ESP-IDF devices: the update goes where ``esp_ota_get_next_update_partition(NULL)`` points and
must pass what ``esp_ota_end`` and the bootloader check there. ESP8266 devices: NONOS FOTA
(user1/user2) and yaota8266 are in :mod:`esp_image.update_check_esp8266`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import Check
from .errors import UsageError

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from .app_image import AppImage
    from .image import Image, PartitionContent
    from .partition_table import Partition

# What the device's updater must do with each wrapper before the app reaches the slot.
UNWRAP_STEPS = {
    "gzip": "inflate it while writing (e.g. Arduino's Update with gzip support, or "
            "esp_https_ota with a decompressing write callback)",
    "arduino-signed": "check the RSA signature and drop it (Arduino's Update with a signing key)",
    "matter-ota": "strip the Matter OTA header (the Matter OTA requestor does)",
    "esp-encrypted-img": "decrypt it with the device's RSA private key (esp_encrypted_img, "
                         "e.g. in esp_https_ota's decrypt callback)",
    "length-prefixed": "strip the length word in front of the app",
}

_REV_UNSET = (0, 0xFFFF)  # max_chip_rev_full / max_efuse_blk_rev_full: "not set" (IS_FIELD_SET)


@dataclass(frozen=True)
class Slot:
    """Where the next OTA write goes.

    Attributes:
        name: the partition name; ``label``: ``ota_N`` (or ``user1``/``user2``, ``main app``).
        offset / size: its flash address and size.
        running: what boots now (``factory``, ``ota_0``, ``user2`` ...), or None if unknown.
        rule: how the slot was chosen, one line.
    """

    name: str
    label: str
    offset: int
    size: int
    running: str | None
    rule: str

    def to_dict(self) -> dict[str, object]:
        """JSON form (``slot``)."""
        return {"name": self.name, "label": self.label, "offset": self.offset,
                "size": self.size, "running": self.running, "rule": self.rule}


@dataclass(frozen=True)
class UpdateCheck:
    """The answer for one update and one device.

    Attributes:
        update / target: the paths (None for bytes).
        what: what the update is, one line (``esp32 app fixture_app v1.0.0``).
        checks: every check run, in order; a failed one is a reason.
        slot: where the update would be written, when that is known.
        warnings: what may stop it booting but the files cannot decide.
        notes: facts worth knowing (wrappers, IDF versions, what is unknown).
    """

    update: str | None
    target: str | None
    what: str
    checks: tuple[Check, ...]
    slot: Slot | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def boots(self) -> bool:
        """Whether every check passed."""
        return all(c.valid for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        """One line per failed check: ``name: detail``."""
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.valid]

    def to_dict(self) -> dict[str, object]:
        """The ``check-update --json`` document (JSON.md)."""
        return {"update": self.update, "target": self.target, "what": self.what,
                "boots": self.boots, "slot": self.slot.to_dict() if self.slot else None,
                "reasons": self.reasons, "warnings": list(self.warnings),
                "notes": list(self.notes), "checks": [c.to_dict() for c in self.checks]}


class Findings:
    """Collects the checks, warnings and notes of one judgement."""

    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []

    def check(self, name: str, ok: bool, detail: str, offset: int = 0) -> bool:
        self.checks.append(Check(name, ok, offset, detail))
        return ok

    def result(self, update: Image, target: Image, what: str, slot: Slot | None
               ) -> UpdateCheck:
        return UpdateCheck(update.path, target.path, what, tuple(self.checks), slot,
                           tuple(self.warnings), tuple(self.notes))


def check_update(update: Image, target: Image) -> UpdateCheck:
    """Judge whether ``update``, written by the device's OTA code, boots on ``target``.

    Raises:
        UsageError: ``target`` is not a whole-flash view of a device (a merged file or dump
            with a partition table, or an ESP8266 OTA layout), or ``update`` is not
            recognisable at all.
    """
    inner = update.unwrapped()
    if inner.kind == "unknown":
        raise UsageError(f"{update.path or 'update'}: not a recognisable firmware file"
                         + (f" ({inner.reason})" if inner.reason else ""))
    out = Findings()
    for layer in update.wrappers:
        step = UNWRAP_STEPS.get(layer.kind, "unwrap it")
        out.notes.append(f"the update is wrapped ({layer.kind}): the device's updater must "
                         f"{step}; it is judged by the app inside")
    if target.esp8266 is not None:
        from .update_check_esp8266 import check_esp8266

        return check_esp8266(update, inner, target, out)
    if target.kind != "flash" or target.table is None or target.chip is None:
        raise UsageError(f"{target.path or 'target'}: a {describe(target)} file; the target "
                         "must be a merged firmware file or a flash dump with a partition table")
    app = _bare_app(inner, out)
    if app is None:
        return out.result(update, target, describe(inner), None)
    _intact(update, out)
    running = running_partition(target)
    content = _content(target, running)
    known = content.image if content is not None else None
    slot = next_update_slot(target, running, out)
    _chip(app, target, known, out)
    if slot is not None:
        _fits(app, len(inner.data), slot, target, out)
    _anti_rollback(app, known, out)
    _secure_boot(app, target.bootloader, out)
    _flash_params(app, target.bootloader, known, out)
    _identity(app, known, out)
    return out.result(update, target, describe(inner), slot)


def describe(image: Image) -> str:
    """What ``image`` is, in a few words (``esp32 app fixture_app v1.0.0``)."""
    firmware = image.firmware
    chip = image.chip.name if image.chip else "unknown-chip"
    if image.shape is not None and image.shape != "image":
        return f"{chip} {image.shape}"
    if image.kind != "image" or firmware is None:
        return f"{chip} {image.kind}"
    desc = getattr(firmware, "app_desc", None)
    name = f" {desc.project_name} {desc.version}" if desc is not None else ""
    user = getattr(firmware, "user", None)
    name += f" (gen_appbin user{user}.bin)" if user else ""
    return f"{chip} {firmware.role}{name}"


_NOT_AN_APP = {
    "flash": "a merged firmware file or flash dump (bootloader, partition table and apps); "
             "OTA writes one app: extract it first (esp-image extract FILE PARTITION)",
    "partition-table": "a partition table; OTA writes app partitions only",
    "otadata": "otadata; the device's OTA code writes it itself after an update",
}


def _bare_app(inner: Image, out: Findings) -> AppImage | None:
    """The update's ESP32-family app, or None with the ``update-kind`` reason."""
    from .app_image import AppImage

    firmware = inner.firmware
    if inner.kind == "image" and isinstance(firmware, AppImage) and firmware.role == "app":
        out.check("update-kind", True, "a bare app image")
        return firmware
    if inner.kind == "image" and firmware is not None and firmware.role == "bootloader":
        why = "a bootloader image; OTA writes app partitions only"
    elif inner.kind == "image" and firmware is not None and inner.shape is not None:
        out.check("update-kind", True, "a bare ESP8266 app image")
        out.check("chip", False, "built for ESP8266, the target is an ESP32-family device")
        return None
    else:
        why = _NOT_AN_APP.get(inner.kind, f"{inner.kind} data, not an app image")
    out.check("update-kind", False, f"the update is {why}")
    return None


def _intact(update: Image, out: Findings) -> None:
    """A damaged update never boots: its own checks (wrapper layers included) must pass."""
    damage = [f"{c.name} ({c.detail})" for c in update.checks if not c.valid]
    names = ", ".join(dict.fromkeys(c.name for c in update.checks))
    out.check("update-intact", not damage,
              "; ".join(damage) if damage else f"its own checks pass ({names})")


def running_partition(target: Image) -> Partition | None:
    """The app partition the bootloader boots now (the boot answer), or None when none does."""
    boot, table = target.boot, target.table
    if boot is None or table is None or boot.target == "none":
        return None
    wanted = boot.target
    from .formats.compiled import partition_table as fmt

    test = fmt.SUBTYPES[fmt.TYPE_APP]["test"]
    found = None
    for part in table.app_partitions:
        # As the bootloader's partition scan: a later partition of the same role replaces
        # an earlier one (recognise.esp32.app_slots).
        if ((wanted == "factory" and part.is_factory) or (wanted == "test" and part.subtype == test)
                or (part.ota_index is not None and wanted == f"ota_{part.ota_index}")):
            found = part
    return found


def next_update_slot(target: Image, running: Partition | None, out: Findings) -> Slot | None:
    """``esp_ota_get_next_update_partition(NULL)``, with the ``slot`` check.

    ESP-IDF (components/app_update/esp_ota_ops.c) walks the subtypes ota_0..ota_15 in order,
    takes the first OTA partition it finds as the default, and returns the one after the
    running partition; the default when the running one is the last OTA slot or not an OTA
    slot (factory, test). ``esp_ota_begin`` then refuses the running partition
    (ESP_ERR_OTA_PARTITION_CONFLICT), so a single OTA slot that is running takes no update.
    """
    assert target.table is not None
    slots: dict[int, Partition] = {}
    for part in target.table.partitions:
        if part.ota_index is not None:
            slots.setdefault(part.ota_index, part)  # esp_partition_find_first
    if running is None:
        out.check("slot", False, "no app boots on the target now, so no OTA code runs to "
                  "write the update" + _depends(target))
        return None
    if not slots:
        out.check("slot", False, "the partition table has no ota_N app partition: OTA has "
                  f"nowhere to write (it boots {running.name})")
        return None
    ordered = [slots[i] for i in sorted(slots)]
    after = [p for p in ordered if running.ota_index is not None
             and p.ota_index is not None and p.ota_index > running.ota_index]
    chosen = after[0] if after else ordered[0]
    label = f"ota_{chosen.ota_index}"
    boots = _label(running)
    rule = (f"{boots} runs, so the next OTA slot after it is {label}" if after else
            f"{boots} runs, so the first OTA slot {label} is next")
    slot = Slot(chosen.name, label, chosen.offset, chosen.size, boots, rule)
    if chosen is running or (chosen.offset == running.offset):
        out.check("slot", False, f"{label} is the only OTA slot and it is running: "
                  "esp_ota_begin refuses to write the running partition")
        return None
    out.check("slot", True, f"{rule} ({chosen.name} at {chosen.offset:#x}, "
              f"{chosen.size:#x} bytes)")
    return slot


def _label(part: Partition) -> str:
    return f"ota_{part.ota_index}" if part.ota_index is not None else (
        "factory" if part.is_factory else part.name)


def _depends(target: Image) -> str:
    depends = target.boot.depends if target.boot is not None else ()
    return f" ({depends[0]})" if depends else ""


def _chip(app: AppImage, target: Image, known: AppImage | None, out: Findings) -> None:
    """Same chip; chip and eFuse block revision ranges that admit the device's."""
    assert target.chip is not None
    ok = app.chip == target.chip
    out.check("chip", ok, f"built for {app.chip.title if app.chip else 'an unknown chip'}"
              + ("" if ok else f", the target is {target.chip.title}"))
    if known is None:
        out.check("chip-revision", True, "unknown: the target's running app is not in the "
                  "file, so nothing tells its chip revision")
        return
    _revision("chip-revision", "chip revision",
              (app.header.min_chip_rev_full, app.header.max_chip_rev_full),
              (known.header.min_chip_rev_full, known.header.max_chip_rev_full), out)
    # Descriptors before ESP-IDF 5.4 hold zeros there: nothing to compare.
    if app.app_desc is not None and known.app_desc is not None and (
            app.app_desc.min_efuse_blk_rev_full or app.app_desc.max_efuse_blk_rev_full):
        _revision("efuse-block-revision", "eFuse block revision",
                  (app.app_desc.min_efuse_blk_rev_full, app.app_desc.max_efuse_blk_rev_full),
                  (known.app_desc.min_efuse_blk_rev_full, known.app_desc.max_efuse_blk_rev_full),
                  out)


def _content(target: Image, part: Partition | None) -> PartitionContent | None:
    return next((c for c in target.partitions if c.partition is part), None)


def _rev(value: int) -> str:
    return f"v{value // 100}.{value % 100}"


def _span(low: int, high: int) -> str:
    return f"{_rev(low)}..{'any' if high in _REV_UNSET else _rev(high)}"


def _revision(name: str, what: str, update: tuple[int, int], device: tuple[int, int],
              out: Findings) -> None:
    """The device's revision lies in the running app's range (the bootloader checked it), so
    the update must admit some of it; admitting only part is a warning."""
    umin, umax = update
    dmin, dmax = device
    umax_set, dmax_set = umax not in _REV_UNSET, dmax not in _REV_UNSET
    apart = (umax_set and umax < dmin) or (dmax_set and umin > dmax)
    detail = (f"the update needs {what} {_span(umin, umax)}; the running app admits "
              f"{_span(dmin, dmax)}, so the device's lies there")
    out.check(name, not apart, detail + ("" if not apart else ": no device revision fits both"))
    if not apart and (umin > dmin or (umax_set and (not dmax_set or umax < dmax))):
        out.warnings.append(f"{name}: the update boots only if the device's {what} is "
                            f"{_span(umin, umax)}; the files tell only {_span(dmin, dmax)}")


def _fits(app: AppImage, written: int, slot: Slot, target: Image, out: Findings) -> None:
    """The written bytes fit the slot; the bootloader's rules for the app placed there."""
    from .app_image import AppImage, mmu_page_size
    from .recognise.esp32 import version_rule_checks, version_rule_issues

    out.check("slot-size", written <= slot.size and app.end <= slot.size,
              f"the update writes {written:#x} bytes (image {app.end:#x}) into {slot.label}'s "
              f"{slot.size:#x}" + ("" if written <= slot.size else
                                   "; esp_ota_write fails past the partition end"))
    assert target.chip is not None
    placed = AppImage.from_bytes(app.data, flash_offset=slot.offset)
    page = mmu_page_size(placed.segments, target.chip, placed.app_desc, slot.offset)
    out.check("mmu-page", page is not None,
              f"its flash-mapped segments line up with a {page:#x}-byte MMU page at "
              f"{slot.offset:#x}" if page is not None else
              f"its flash-mapped segments do not line up with any MMU page size "
              f"{target.chip.title} supports at {slot.offset:#x}")
    for check in version_rule_checks(placed, target.bootloader, 0, "update"):
        out.check("bootloader-rules", False, check.detail)
    out.warnings.extend(i.message for i in version_rule_issues(placed, target.bootloader,
                                                                "update"))


def _anti_rollback(app: AppImage, known: AppImage | None, out: Findings) -> None:
    """secure_version must not be below the running app's when anti-rollback is in use.

    CONFIG_BOOTLOADER_APP_SECURE_VERSION depends on CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
    (bootloader_support Kconfig), so a running app whose secure_version is above 0 was built
    with anti-rollback; at 0 the files cannot tell, and nothing can be below 0. otadata records
    carry no secure_version, and the eFuse counter (which may be higher still) is not in a file.
    """
    mine = app.app_desc.secure_version if app.app_desc is not None else 0
    theirs = known.app_desc.secure_version if known is not None and known.app_desc else None
    if theirs is None:
        out.check("anti-rollback", True, f"update secure_version {mine}; unknown whether the "
                  "device uses anti-rollback (its running app is not in the file)")
        return
    if theirs == 0:
        out.check("anti-rollback", True, f"update secure_version {mine}, running app 0: "
                  "nothing to roll back (the files cannot tell whether anti-rollback is on)")
        return
    ok = mine >= theirs
    out.check("anti-rollback", ok, f"update secure_version {mine}, running app {theirs} (a "
              "secure_version above 0 exists only with CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK)"
              + ("" if ok else ": the bootloader refuses an app below the eFuse counter"))
    if ok:
        out.notes.append("anti-rollback: the device's eFuse secure version may be above the "
                         f"running app's {theirs}; only the device can tell")


def _secure_boot(app: AppImage, bootloader: AppImage | None, out: Findings) -> None:
    """Under Secure Boot v2 the update must carry a block signed by a key the device trusts.

    The device trusts the keys whose digests are burnt in eFuse; the files hold the signed
    bootloader, whose blocks name those keys (``key_digest``; revocation is not in a file).
    """
    signature = bootloader.signature if bootloader is not None else None
    if signature is None:
        out.check("secure-boot", True, "the bootloader is not signed: no Secure Boot "
                  "signature is required" + (" (the update's is ignored)" if app.is_signed
                                             else ""))
        return
    if signature.scheme == "sbv1":
        ok = app.signature is not None and app.signature.scheme == "sbv1"
        out.check("secure-boot", ok, "the bootloader uses Secure Boot v1: "
                  + ("the update carries a v1 signature (its key cannot be compared from "
                     "files)" if ok else "the update carries no v1 signature block"))
        return
    trusted = {b.key_digest for b in signature.blocks}
    mine = [b.key_digest for b in app.signature.blocks] if app.signature is not None else []
    accepted = [d for d in mine if d in trusted]
    if not mine:
        detail = f"the bootloader uses Secure Boot v2 ({signature.scheme}); the update is unsigned"
    elif not accepted:
        detail = (f"no key of the update's signature ({', '.join(d.hex()[:16] for d in mine)}) "
                  "is one the bootloader was signed with "
                  f"({', '.join(d.hex()[:16] for d in sorted(trusted))})")
    else:
        detail = f"signed with key {accepted[0].hex()[:16]}..., one the device trusts"
    out.check("secure-boot", bool(accepted), detail)


def _flash_params(app: AppImage, bootloader: AppImage | None, known: AppImage | None,
                  out: Findings) -> None:
    """Flash mode and size: the bootloader configures both from its own header, so the app's
    bytes break nothing by default (esp32-image.md §7.3). Two build options read them: an
    ESP32 app re-applies its header's mode and clock (configure_flash), and
    CONFIG_SPI_FLASH_SIZE_OVERRIDE takes its size, aborting on a smaller chip."""
    if bootloader is None:
        out.check("flash-params", True, "unknown: the target's bootloader is not in the file")
        return
    mode, size = app.header.flash_mode, app.header.flash_size
    boot_mode, boot_size = bootloader.header.flash_mode, bootloader.header.flash_size
    out.check("flash-params", True, f"update {mode} {app.flash_size_name}, bootloader "
              f"{boot_mode} {bootloader.flash_size_name}: the bootloader's are used")
    quad = ("qio", "qout")
    if mode != boot_mode and app.chip is not None and app.chip.name == "esp32" \
            and mode in quad and boot_mode not in quad:
        out.warnings.append(f"flash mode: an ESP32 app re-applies its header's mode; the update "
                            f"says {mode} where the bootloader uses {boot_mode}, which fails "
                            "on a board wired for dual I/O")
    elif mode != boot_mode:
        out.notes.append(f"flash mode: the update says {mode}, the bootloader {boot_mode}; the "
                         "bootloader's is used")
    if size is not None and boot_size is not None and size > boot_size:
        out.warnings.append(f"flash size: the update's header says {app.flash_size_name}, the "
                            f"bootloader's {bootloader.flash_size_name}; an app built with "
                            "CONFIG_SPI_FLASH_SIZE_OVERRIDE aborts on the smaller chip")
    _mmu_warning(app, known, out)


def _mmu_warning(app: AppImage, known: AppImage | None, out: Findings) -> None:
    """A different MMU page size than the running app's needs a bootloader that sets the page
    from the app descriptor (ESP-IDF 5.4+, where ``mmu_page_size`` appeared)."""
    mine = app.app_desc.mmu_page_size if app.app_desc is not None else 0
    theirs = known.app_desc.mmu_page_size if known is not None and known.app_desc else 0
    if mine and theirs and mine != theirs:
        out.warnings.append(f"MMU page: the update is laid out for {1 << mine:#x}-byte pages, "
                            f"the running app for {1 << theirs:#x}; the bootloader must set the "
                            "page size from the app descriptor")


def _identity(app: AppImage, known: AppImage | None, out: Findings) -> None:
    """Another project is a warning (the wrong firmware, most likely); another IDF a note."""
    if app.app_desc is None or known is None or known.app_desc is None:
        return
    mine, theirs = app.app_desc, known.app_desc
    if mine.project_name != theirs.project_name:
        out.warnings.append(f"project: the update is {mine.project_name!r}, the device runs "
                            f"{theirs.project_name!r}")
    if mine.idf_ver != theirs.idf_ver:
        out.notes.append(f"ESP-IDF: the update was built with {mine.idf_ver}, the running app "
                         f"with {theirs.idf_ver}")
