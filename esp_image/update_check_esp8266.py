"""ESP8266 devices for :func:`esp_image.update_check.check_update`: NONOS FOTA and yaota8266.

NONOS SDK FOTA (esp8266.md §6, §7): boot_v1.x runs user1 (flash 0x1000) or user2 (half the
flash map + 0x1000), and the SDK's upgrade code writes the other slot. gen_appbin links each
user bin for its own slot (its irom is mapped at that slot's address), except on the 1024+1024
maps where both slots map to the same window. yaota8266 (yaota8266.md §1.1): its ota-server
writes the MicroPython main app at boot8266's MAIN_APP_OFFSET, and the main app is linked for
0x3C000.
"""

from __future__ import annotations

from .update_check import Findings, Slot, UpdateCheck, describe

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from .esp8266 import Esp8266Image, FlashMap
    from .image import Image

def check_esp8266(update: Image, inner: Image, target: Image, out: Findings) -> UpdateCheck:
    """Judge an update for an ESP8266 device (``target.esp8266`` is set)."""
    from .errors import UsageError
    from .update_check import _intact

    if target.shape == "nonos-flash":
        app = _user_bin(inner, out)
        slot = None
        if app is not None:
            _intact(update, out)
            slot = _nonos(app, len(inner.data), target, out)
        return out.result(update, target, describe(inner), slot)
    if target.shape in ("yaota8266-bundle", "yaota8266-initial"):
        slot = None
        if _main_app_kind(inner, out):
            _intact(update, out)
            slot = _yaota(inner, target, out)
        return out.result(update, target, describe(inner), slot)
    raise UsageError(f"{target.path or 'target'}: an ESP8266 {target.shape} layout; "
                     "check-update knows the NONOS SDK's user1/user2 FOTA and yaota8266")


def _user_bin(inner: Image, out: Findings) -> Esp8266Image | None:
    """The update's ESP8266 app image, or None with the ``update-kind`` reason."""
    from .esp8266 import Esp8266Image

    firmware = inner.firmware
    if inner.kind == "image" and isinstance(firmware, Esp8266Image) and firmware.role == "app":
        out.check("update-kind", True, "a bare ESP8266 app image (user bin)")
        out.check("chip", True, "built for ESP8266")
        return firmware
    if inner.kind == "image" and firmware is not None and inner.shape is None:
        out.check("update-kind", True, "a bare app image")
        out.check("chip", False, f"built for {inner.chip.title if inner.chip else 'another chip'}"
                  ", the target is ESP8266")
        return None
    what = "a bootloader" if firmware is not None else f"{inner.kind} data"
    out.check("update-kind", False, f"the update is {what}, not a user bin the SDK's "
              "upgrade code writes")
    return None


def _nonos(app: Esp8266Image, written: int, target: Image, out: Findings) -> Slot | None:
    """The slot the SDK writes (the one not running), its size, and the link address."""
    fmap = target.flash_map
    params = target.details.get("system_params")
    if fmap is None or not fmap.slot_size:
        out.check("slot", False, "boot.bin declares a flash map without OTA slots")
        return None
    if not isinstance(params, dict):
        out.check("slot", False, "the system parameters are not in the file: which user bin "
                  "runs, and so which slot receives the update, is unknown")
        return None
    running = int(str(params["next_user_bin"])[-1])
    number = 3 - running
    where = fmap.user_slot(number)
    assert where is not None
    slot = Slot(f"user{number}", f"user{number}", where[0], where[1], f"user{running}",
                f"boot_v1.x runs user{running} (system parameters, inferred), so the SDK's "
                f"upgrade writes user{number}")
    out.check("slot", True, slot.rule + f" at {slot.offset:#x}")
    limit = min(fmap.max_user_bin or where[1], where[1])
    out.check("slot-size", written <= limit,
              f"the update is {written:#x} bytes; the SDK's upgrade accepts at most "
              f"{limit:#x} for the {fmap.title} map")
    _link(app, number, fmap, out)
    if app.flash_map is not None and app.flash_map.code != fmap.code:
        out.notes.append(f"the update's byte 3 declares {app.flash_map.title}; boot.bin's "
                         f"{fmap.title} is what the bootloader uses")
    return slot


def _link(app: Esp8266Image, number: int, fmap: FlashMap, out: Findings) -> None:
    """A user bin runs only from the slot it was linked for (gen_appbin's marker tells)."""
    shared = fmap.shared_link
    if app.user is None:
        out.check("link-address", True, "unknown: the update carries no gen_appbin user1/user2 "
                  "marker")
        if not shared:
            out.warnings.append(f"link address: the update must be linked for user{number}; "
                                "nothing in it says which slot it was linked for")
        return
    ok = app.user == number or shared
    out.check("link-address", ok,
              f"the update is gen_appbin user{app.user}.bin and goes to user{number}"
              + ("; 1024+1024 maps use one link for both slots" if shared and app.user != number
                 else "" if ok else f": it is linked for user{app.user} and cannot run there"))


def _main_app_kind(inner: Image, out: Findings) -> bool:
    """Whether the update is a MicroPython main app for yaota8266 (``update-kind``)."""
    ok = inner.shape == "yaota8266-main-app"
    out.check("update-kind", ok, "a MicroPython main app for yaota8266 (firmware-ota.bin)" if ok
              else f"the update is {describe(inner)}, not the MicroPython main app "
              "(firmware-ota.bin) yaota8266's ota-server writes")
    return ok


def _yaota(inner: Image, target: Image, out: Findings) -> Slot | None:
    """The main app is linked for 0x3C000; the bundle's boot8266 must look for it there."""
    from .recognise.esp8266 import YAOTA_MAIN_APP_OFFSET

    bundle = target.details.get("yaota8266")
    offset = bundle.get("main_app_offset") if isinstance(bundle, dict) else None
    if not isinstance(offset, int):
        out.check("slot", False, "boot8266's MAIN_APP_OFFSET is unknown")
        return None
    size = (target.flash_map.size if target.flash_map else offset) - offset
    slot = Slot("main app", "main app", offset, size, "main app",
                "boot8266 checks and runs the main app at MAIN_APP_OFFSET; the ota-server "
                "writes the update there")
    out.check("slot", True, f"{slot.rule} ({offset:#x})")
    out.check("layout", offset == inner.base == YAOTA_MAIN_APP_OFFSET,
              f"the main app is linked for {YAOTA_MAIN_APP_OFFSET:#x}; the bundle's boot8266 "
              f"runs it from {offset:#x}")
    out.check("slot-size", len(inner.data) <= size,
              f"the update is {len(inner.data):#x} bytes; {size:#x} lie between "
              f"{offset:#x} and the end of the {target.flash_map.title if target.flash_map else ''}"
              " flash")
    return slot
