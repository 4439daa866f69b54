"""The yaota8266 flash plan (§1): where each part goes, the esptool command and the OTA
workflow. Importable from :mod:`esp_image.transforms.yaota`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..checks import Issue
from ..errors import FormatError, LayoutError
from ..formats.compiled import esp8266 as image_fmt
from ..formats.compiled import yaota8266 as fmt
from ..units import format_size
from ..yaota8266 import Boot8266Params, BundleCheck, check_bundle
from .yaota_keys import RSA_WARNING

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class PlanEntry:
    """One area of the yaota8266 flash plan.

    Attributes:
        name: ``boot8266``, ``ota-server``, ``ota-server irom``, ``main app``,
            ``main app irom``.
        address: flash address.
        size: bytes reserved for it (the area up to the next one; for the main app, the
            boot8266 limit).
        file: the file that carries it.
        length: bytes actually used, when the file was given.
        detail: one line for a person.
    """

    name: str
    address: int
    size: int
    file: str
    length: int | None
    detail: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"name": self.name, "address": self.address, "size": self.size,
                "file": self.file, "length": self.length, "detail": self.detail}


DEFAULT_FILES = {"yaota8266": "yaota8266.bin", "main_app": "firmware-ota.bin",
                 "initial": "initial.bin", "ota": "firmware-ota.bin.ota", "key": "priv.key"}
"""File names the plan uses unless told otherwise."""


@dataclass(frozen=True)
class YaotaPlan:
    """The yaota8266 flash plan (§1) and the OTA workflow.

    Attributes:
        main_app_offset: where boot8266 loads the main app.
        entries: the areas, in address order.
        issues: findings about the given bundle / main app (§1.1).
        notes: plain facts worth printing.
        boot8266: the bundle's boot8266 parameters, when a bundle was given.
    """

    ROW_HEADERS = ("Address", "Size", "Part", "File", "Contents")

    main_app_offset: int
    entries: tuple[PlanEntry, ...]
    issues: tuple[Issue, ...] = ()
    notes: tuple[str, ...] = ()
    boot8266: Boot8266Params | None = None

    @property
    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """The human table (headers in :attr:`ROW_HEADERS`)."""
        return self.rows_for()

    def rows_for(self, files: Mapping[str, str] | None = None
                 ) -> list[tuple[str, str, str, str, str]]:
        """:attr:`rows` naming the files given by role (``files``) instead of the defaults."""
        given = {DEFAULT_FILES[k]: v for k, v in (files or {}).items() if k in DEFAULT_FILES}
        out = []
        for e in self.entries:
            used = f" ({format_size(e.length)} used)" if e.length is not None else ""
            out.append((f"{e.address:#07x}", format_size(e.size), e.name,
                        given.get(e.file, e.file) + used, e.detail))
        return out

    def write_flash_command(self, port: str = "PORT",
                            files: Mapping[str, str] | None = None) -> str:
        """The esptool 5 command that flashes the initial image.

        With ``files["initial"]`` (the output of ``esp-image yaota bundle``): ``... 0x0
        initial.bin``; otherwise the two parts: ``0x0 yaota8266.bin 0x3c000 firmware-ota.bin``
        (the same bytes on flash). ``--flash-size detect`` lets esptool set boot8266's header
        to the chip's flash size, as MicroPython's instructions do (only header bytes 2-3 at
        0x0 change; neither boot8266's checksum nor the main app's MD5 covers them).
        """
        given = dict(files or {})
        words = ["esptool", "--chip", "esp8266", "--port", port, "write-flash",
                 "--flash-size", "detect"]
        if "initial" in given:
            words += ["0x0", given["initial"]]
        else:
            names = {**DEFAULT_FILES, **given}
            words += ["0x0", names["yaota8266"], f"{self.main_app_offset:#x}",
                      names["main_app"]]
        return " ".join(shlex.quote(w) for w in words)

    @property
    def steps(self) -> list[str]:
        """What a user does, in order (default file names and port): see :meth:`steps_for`."""
        return self.steps_for()

    def steps_for(self, port: str = "PORT", files: Mapping[str, str] | None = None
                  ) -> list[str]:
        """What a user does, in order: keys, builds, the initial flash, then each update.

        ``files`` overrides :data:`DEFAULT_FILES` by role (``yaota8266``, ``main_app``,
        ``initial``, ``ota``, ``key``)."""
        names = {**DEFAULT_FILES, **(files or {})}
        p = self.boot8266
        mask = p.gpio_mask if p else fmt.GPIO_MASK_DEFAULT
        wait = p.gpio_wait_ms if p else fmt.GPIO_WAIT_MS_DEFAULT
        off = self.main_app_offset
        ota_mode = (f"reset the device and change one of the GPIOs in gpio_mask {mask:#x} "
                    f"within {wait} ms" if mask else
                    "reset it (gpio_mask is 0: boot8266 always enters OTA mode)")
        if p is None or p.rtc_request:
            ota_mode += ("; with ulno's fork, from MicroPython: "
                         'machine.RTC().memory(b"yaotaota"); machine.reset()')
        return [
            f"Create the signing key once: esp-image yaota keygen -o {names['key']} (keep it "
            "secret and backed up: only it can sign updates for devices built with it).",
            "Copy config.h.example to config.h in yaota8266, replace its MODULUS line with the "
            f"one keygen printed, keep MAIN_APP_OFFSET {off:#x}, and build (make) to get "
            f"{names['yaota8266']}.",
            f"Build MicroPython's OTA variant (esp8266 'make ota', later BOARD_VARIANT=OTA) to "
            f"get {names['main_app']}, or assemble it from its parts: esp-image yaota mkapp "
            "firmware.elf-0x00000.bin "
            f"firmware.elf-0x{off + fmt.SEGS_MAX_SIZE:05x}.bin -o {names['main_app']}.",
            f"Build the initial image: esp-image yaota bundle {names['yaota8266']} "
            f"{names['main_app']} -o {names['initial']}.",
            "Flash it once over serial: "
            + self.write_flash_command(port, {"initial": names["initial"]}) + ".",
            f"For every update, build a new {names['main_app']} and sign it: esp-image yaota "
            f"sign {names['main_app']} --key {names['key']} -o {names['ota']}; check it with "
            f"esp-image yaota verify {names['ota']} --key {names['key']}.",
            f"Put the device into OTA mode: {ota_mode}. The ota-server then listens on UDP "
            f"port {fmt.UDP_PORT} (and reboots after 60 s without a session).",
            f"Send the update from yaota8266's ota-client directory: python3 ota_client.py ota "
            f"{names['ota']} -a DEVICE_IP. The server writes the app at {off:#x} sector by "
            "sector and reboots after the end marker.",
            "boot8266 then checks the app's size word and MD5 and boots it; if the check "
            "fails it stays in OTA mode, so the update can simply be sent again.",
        ]

    def to_dict(self, port: str = "PORT", files: Mapping[str, str] | None = None
                ) -> dict[str, object]:
        """JSON form."""
        return {
            "main_app_offset": self.main_app_offset,
            "entries": [e.to_dict() for e in self.entries],
            "boot8266": self.boot8266.to_dict() if self.boot8266 else None,
            "issues": [i.to_dict() for i in self.issues],
            "notes": list(self.notes),
            "write_flash": self.write_flash_command(port, files),
            "steps": self.steps_for(port, files),
        }


def yaota_plan(bundle: bytes | None = None, main_app: bytes | None = None) -> YaotaPlan:
    """The yaota8266 flash plan: the defaults of config.h.example, or the given files' facts.

    Args:
        bundle: ``yaota8266.bin`` (its real part sizes, MAIN_APP_OFFSET and boot8266
            parameters are used, and its §1.1 rules checked).
        main_app: ``firmware-ota.bin`` (its length and boot8266 verdict are shown).

    Raises:
        FormatError: ``bundle`` is not yaota8266.bin.
    """
    issues: list[Issue] = []
    notes: list[str] = []
    check: BundleCheck | None = None
    if bundle is not None:
        check = check_bundle(bytes(bundle))
        if check is None:
            raise FormatError("not yaota8266.bin: expected boot8266 at 0x0 and the ota-server "
                              "v1 image at 0x1000", 0, "yaota8266.bin")
        issues += list(check.issues)
    offset = check.main_app_offset if check else fmt.MAIN_APP_OFFSET
    params = check.boot8266 if check else None
    mask = params.gpio_mask if params else fmt.GPIO_MASK_DEFAULT
    wait = params.gpio_wait_ms if params else fmt.GPIO_WAIT_MS_DEFAULT
    irom_at = check.ota_irom_offset if check else fmt.OTA_IROM_OFFSET
    app_length: int | None = None
    if main_app is not None:
        from .yaota import _require_main_app

        try:
            app = _require_main_app(bytes(main_app), "firmware-ota.bin")
            app_length = app.length
            notes.append(f"main app: {app.length:#x} bytes, boot8266 {app.verdict}")
        except LayoutError as exc:
            issues.append(Issue("error", "main-app-check", str(exc)))
            app_length = len(main_app)
    bundle_name = DEFAULT_FILES["yaota8266"]
    entries = (
        PlanEntry("boot8266", 0, fmt.OTA_SERVER_OFFSET, bundle_name,
                  check.boot_image.length if check else None,
                  f"first-stage loader (v1 image, checksum checked by the ROM); gpio_mask "
                  f"{mask:#x} and gpio_wait_ms {wait} at 0xF00"),
        PlanEntry("ota-server", fmt.OTA_SERVER_OFFSET, irom_at - fmt.OTA_SERVER_OFFSET,
                  bundle_name, check.ota_server.length if check else None,
                  "UDP OTA server (v1 image), booted by boot8266 in OTA mode"),
        PlanEntry("ota-server irom", irom_at, offset - irom_at, bundle_name,
                  check.ota_irom_length if check else None,
                  "the ota-server's raw .irom0.text (linked at 0x40209000)"),
        PlanEntry("main app", offset, fmt.MAX_APP_SIZE + fmt.MD5_SIZE, DEFAULT_FILES["main_app"],
                  app_length,
                  "MicroPython firmware-ota.bin: v1 image, 0xFF to +0x8FFC, size word, irom at "
                  f"+0x9000, MD5; boot8266 accepts at most {fmt.MAX_APP_SIZE} bytes; replaced "
                  "by every OTA update"),
        PlanEntry("main app irom", offset + fmt.SEGS_MAX_SIZE,
                  fmt.MAX_APP_SIZE - fmt.SEGS_MAX_SIZE, DEFAULT_FILES["main_app"],
                  app_length - fmt.SEGS_MAX_SIZE - fmt.MD5_SIZE if app_length else None,
                  f"inside firmware-ota.bin; linked at "
                  f"{image_fmt.IROM_MAP_START + offset + fmt.SEGS_MAX_SIZE:#x}"),
    )
    notes.append(f"yaota8266.bin must be exactly MAIN_APP_OFFSET ({offset:#x}) bytes long; "
                 "the initial image is yaota8266.bin followed by firmware-ota.bin, flashed "
                 "at 0x0")
    notes.append(RSA_WARNING)
    return YaotaPlan(offset, entries, tuple(issues), tuple(notes), params)
