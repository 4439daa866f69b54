"""yaota8266 (boot8266 + ota-server) and MicroPython's OTA main app: the typed model.

- :class:`Boot8266Params`: recognise boot8266 and decode its patchable parameters (§2.3);
- :class:`MainApp`: ``firmware-ota.bin`` (§3), verified exactly as boot8266's
  ``check_main_app`` does (§2.2);
- :func:`check_bundle` / :func:`check_initial_image`: ``yaota8266.bin`` and the initial
  ``yaota8266.bin + firmware-ota.bin`` image, with the consistency checks of §1.1;
- :class:`OtaFile`: the signed ``.ota`` update file (§4.5); signatures are located, not
  verified. It lives in :mod:`esp_image.yaota8266_ota` and is re-exported here.

Section numbers refer to shared/docs/formats/yaota8266.md.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from dataclasses import dataclass, field

from .checks import Check, Issue, compare_digest
from .errors import FormatError, TruncatedError
from .formats.compiled import esp8266 as image_fmt
from .formats.compiled import yaota8266 as fmt
from .rboot import _V1Image, _walk_v1
from .units import align_up
from .yaota8266_ota import OtaDatagram, OtaFile

# ---------------------------------------------------------------------- boot8266 (§2)


def _words(data: bytes | memoryview) -> array[int]:
    """The little-endian u32 words of ``data`` (trailing bytes ignored)."""
    view = memoryview(data)
    words = array("I")  # 4 bytes on every platform CPython supports in practice
    words.frombytes(bytes(view[:len(view) - len(view) % words.itemsize]))
    if sys.byteorder == "big":  # pragma: no cover - ESP data is little-endian
        words.byteswap()
    return words


def _main_app_offset_literal(words: array[int]) -> int | None:
    """MAIN_APP_OFFSET from check_main_app's literal pool: a sector-aligned word A with
    A + 0x8FFC also present (``SPIRead(MAIN_APP_OFFSET + 0x8ffc, ...)``); adjacent pairs win."""
    present = set(words)
    found: list[int] = []
    for i, word in enumerate(words):
        if (word % fmt.MERGE_ALIGN == 0 and 0x1000 < word < 0x1000000
                and word + fmt.SIZE_WORD_OFFSET in present):
            if i + 1 < len(words) and words[i + 1] == word + fmt.SIZE_WORD_OFFSET:
                return word
            found.append(word)
    return found[0] if len(set(found)) == 1 else None


@dataclass(frozen=True)
class Boot8266Params:
    """boot8266's ``CONFIG_PARAM`` values and what else its image tells (§2.3).

    Attributes:
        gpio_mask: GPIOs watched at boot; 0 means "always enter OTA mode".
        gpio_wait_ms: how long boot8266 watches them.
        param_offset: file offset of ``gpio_mask`` (0xF00 for the standard build).
        main_app_offset: ``MAIN_APP_OFFSET`` found in check_main_app's literal pool (a
            compile-time constant), or None when it cannot be found.
        rtc_request: whether this is ulno's fork, which also enters OTA mode on a
            ``"yaotaota"`` RTC-memory request (§5).
        image_length: length of the boot8266 v1 image (4096 for the standard build).
        checksum_valid: whether its XOR checksum is right (the ROM checks it).
    """

    gpio_mask: int
    gpio_wait_ms: int
    param_offset: int
    main_app_offset: int | None
    rtc_request: bool
    image_length: int
    checksum_valid: bool

    @classmethod
    def from_image(cls, data: bytes | memoryview) -> Boot8266Params | None:
        """Decode boot8266 at ``data[0:]`` (boot8266.bin, or yaota8266.bin / a flash dump).

        Recognition: a complete v1 image with one IRAM segment holding the ``.param`` slot
        (at ``(segment end & ~0xFFF) + 0xEF0``, per boot8266.ld), and either the banner
        ``"boot8266"`` or check_main_app's literals (800000 and the pair MAIN_APP_OFFSET /
        MAIN_APP_OFFSET + 0x8FFC) in its data. Returns None for anything else.
        """
        try:
            v1 = _walk_v1(data)
        except FormatError:
            return None
        if v1.truncated or not v1.segments:
            return None
        view = memoryview(data)
        iram = [s for s in v1.segments if fmt.IRAM_START <= s[0] < fmt.IRAM_END]
        if not iram:
            return None
        addr, size, data_off = iram[-1]
        param_addr = ((addr + size) & ~0xFFF) + fmt.PARAM_PAGE_OFFSET
        if not addr <= param_addr <= addr + size - 8:
            return None
        param_offset = data_off + (param_addr - addr)
        text = bytes(view[data_off:data_off + size])
        words = _words(view[data_off:data_off + size])
        app_offset = _main_app_offset_literal(words)
        literals = fmt.MAX_APP_SIZE in words and app_offset is not None
        if b"boot8266" not in text and not literals:
            return None
        c = fmt.Boot8266Param.parse(view, param_offset, "boot8266 .param")
        rtc = all(w in words for w in fmt.RTC_REQUEST_WORDS)
        return cls(c.gpio_mask, c.gpio_wait_ms, param_offset, app_offset, rtc, v1.length,
                   v1.checksum_valid)

    def issues(self) -> list[Issue]:
        """Sanity findings about the parameters (§1.1 last row)."""
        out: list[Issue] = []
        if self.gpio_mask == 0:
            out.append(Issue("warning", "gpio-mask-zero",
                             "boot8266 gpio_mask is 0: it always enters OTA mode and never "
                             "boots the main app"))
        elif self.gpio_wait_ms == 0:
            out.append(Issue("warning", "gpio-wait-zero",
                             "boot8266 gpio_wait_ms is 0: the GPIOs are never sampled, so OTA "
                             "mode can only be entered when the main app fails its check"))
        elif self.gpio_wait_ms > 60000:
            out.append(Issue("warning", "gpio-wait-long",
                             f"boot8266 gpio_wait_ms is {self.gpio_wait_ms}: every boot waits "
                             "more than a minute"))
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"gpio_mask": self.gpio_mask, "gpio_wait_ms": self.gpio_wait_ms,
                "param_offset": self.param_offset, "main_app_offset": self.main_app_offset,
                "rtc_request": self.rtc_request, "image_length": self.image_length,
                "checksum_valid": self.checksum_valid}


def patch_boot8266(data: bytes | memoryview, *, gpio_mask: int | None = None,
                   gpio_wait_ms: int | None = None) -> bytes:
    """Return ``data`` (starting with boot8266) with new parameters and the XOR checksum fixed.

    Raises:
        FormatError: ``data`` does not start with boot8266, or a value is not a u32.
    """
    params = Boot8266Params.from_image(data)
    if params is None:
        raise FormatError("not a boot8266 image", 0, "boot8266")
    mask = params.gpio_mask if gpio_mask is None else gpio_mask
    wait = params.gpio_wait_ms if gpio_wait_ms is None else gpio_wait_ms
    if not (0 <= mask <= 0xFFFFFFFF and 0 <= wait <= 0xFFFFFFFF):
        raise FormatError("gpio_mask and gpio_wait_ms must be u32 values", None, "boot8266")
    out = bytearray(data)
    at = params.param_offset
    out[at:at + fmt.Boot8266Param.SIZE] = fmt.Boot8266Param(mask, wait).build()
    v1 = _walk_v1(memoryview(out))
    out[v1.checksum_offset] = v1.computed_checksum
    return bytes(out)


# ---------------------------------------------------------------------- main app (§2.2, §3)


@dataclass(frozen=True)
class MainApp:
    """A MicroPython ``firmware-ota.bin`` main app, as stored (offsets relative to its start).

    Attributes:
        image: the v1 image at +0 (its layout and XOR checksum).
        padding: bytes between the v1 image and the size word (makeimg writes 0xFF).
        size_word: the u32 at +0x8FFC (``0x9000 + irom length``), as stored.
        irom_end: where the irom was taken to end (``size_word`` when it is plausible, else
            16 bytes before the end of the data).
        stored_md5: the 16 bytes at ``irom_end`` (None when the data is too short).
        trailing: bytes after the MD5 in the data parsed (none in a makeimg output).
    """

    image: _V1Image
    padding: bytes
    size_word: int
    irom_end: int
    stored_md5: bytes | None
    trailing: int
    data: memoryview = field(repr=False, compare=False, default=memoryview(b""))

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0) -> MainApp:
        """Parse the main app at ``data[offset:]`` (e.g. 0x3C000 in an initial image).

        Raises:
            FormatError: no v1 image at ``offset``, or it reaches past +0x8FFC (not a
                makeimg main app).
            TruncatedError: the data ends before the size word.
        """
        view = memoryview(data)[offset:]
        try:
            v1 = _walk_v1(view)
        except TruncatedError:
            raise
        except FormatError as exc:
            raise FormatError(f"not a yaota8266 main app: {exc.reason}", offset,
                              "main app") from None
        if len(view) < fmt.SEGS_MAX_SIZE:
            raise TruncatedError(f"a main app holds at least {fmt.SEGS_MAX_SIZE:#x} bytes "
                                 f"(size word at {fmt.SIZE_WORD_OFFSET:#x}); only "
                                 f"{len(view):#x} available", offset, "main app")
        if v1.truncated or v1.length > fmt.SIZE_WORD_OFFSET:
            raise FormatError(f"the v1 image ({v1.length:#x} bytes) does not end before the "
                              f"size word at {fmt.SIZE_WORD_OFFSET:#x}: not a makeimg main app",
                              offset, "main app")
        size_word = fmt.SizeWord.parse(view, fmt.SIZE_WORD_OFFSET, "size word").total
        if fmt.SEGS_MAX_SIZE <= size_word <= len(view) - fmt.MD5_SIZE:
            irom_end = size_word
        else:
            irom_end = max(fmt.SEGS_MAX_SIZE, len(view) - fmt.MD5_SIZE)
        stored = bytes(view[irom_end:irom_end + fmt.MD5_SIZE])
        md5 = stored if len(stored) == fmt.MD5_SIZE else None
        end = irom_end + (fmt.MD5_SIZE if md5 is not None else len(stored))
        return cls(v1, bytes(view[v1.length:fmt.SIZE_WORD_OFFSET]), size_word, irom_end, md5,
                   len(view) - end, view)

    # ------------------------------------------------------------------ derived facts
    @property
    def irom_length(self) -> int:
        """Length of the raw irom at +0x9000."""
        return self.irom_end - fmt.SEGS_MAX_SIZE

    @property
    def length(self) -> int:
        """Length of the main app proper (up to and including the MD5)."""
        return self.irom_end + (fmt.MD5_SIZE if self.stored_md5 is not None else 0)

    def _boot8266(self) -> tuple[bool, str, bytes | None]:
        """check_main_app on these bytes: (passes, verdict, computed MD5 if computed)."""
        sz = self.size_word
        view = self.data
        if sz > fmt.MAX_APP_SIZE:
            return False, f"Invalid main app size: {sz}; falls back to OTA mode", None
        if 0 < sz < fmt.MD5_SKIP:
            return False, (f"main app size {sz} is below 4: check_main_app's MD5Update length "
                           "underflows (undefined behaviour, likely a crash)"), None
        if sz + fmt.MD5_SIZE > len(view):
            return False, (f"the MD5 at {sz:#x} lies past the end of the data "
                           f"({len(view):#x}): boot8266 compares flash beyond this file "
                           "(erased flash: falls back to OTA mode)"), None
        computed = hashlib.md5(view[fmt.MD5_SKIP:sz] if sz else b"").digest()
        if bytes(view[sz:sz + fmt.MD5_SIZE]) == computed:
            return True, "boots the main app", computed
        return False, "MD5 mismatch; falls back to OTA mode", computed

    @property
    def boots(self) -> bool:
        """Whether boot8266 (not in OTA mode) would boot this app."""
        return self._boot8266()[0]

    @property
    def verdict(self) -> str:
        """What boot8266 does with this app: ``"boots the main app"`` or why it falls back
        (its own message, e.g. ``"Invalid main app size: 4294967295; falls back to OTA
        mode"``)."""
        return self._boot8266()[1]

    @property
    def computed_md5(self) -> bytes:
        """MD5 over ``[4:irom_end]``, the digest makeimg would store."""
        return hashlib.md5(self.data[fmt.MD5_SKIP:self.irom_end]).digest()

    def problems(self) -> list[str]:
        """Structural problems (makeimg layout), not the boot8266 verdict."""
        out = list(self.image.problems)
        if self.size_word > fmt.MAX_APP_SIZE:
            out.append(f"size word {self.size_word:#x} exceeds boot8266's limit of "
                       f"{fmt.MAX_APP_SIZE} bytes")
        elif self.size_word != self.irom_end:
            out.append(f"size word {self.size_word:#x} is not a plausible end of the irom "
                       f"(needs {fmt.SEGS_MAX_SIZE:#x}..{len(self.data) - fmt.MD5_SIZE:#x})")
        if self.stored_md5 is None:
            out.append(f"truncated: no room for the MD5 at {self.irom_end:#x}")
        if self.padding.strip(b"\xff"):
            out.append("padding before the size word is not all 0xFF (makeimg writes 0xFF)")
        return out

    def checks(self, base: int = 0) -> list[Check]:
        """``structure``, ``checksum`` (the inner v1 image) and ``yaota-md5`` (boot8266's
        check_main_app), offsets shifted by ``base``."""
        problems = self.problems()
        if problems:
            out = [Check("structure", False, base, "; ".join(problems))]
        else:
            trailing = f", {self.trailing:#x} bytes after it" if self.trailing else ""
            out = [Check("structure", True, base,
                         f"main app: v1 image {self.image.length:#x} bytes, irom "
                         f"{self.irom_length:#x} bytes at +0x9000, MD5 at {self.irom_end:#x}"
                         f"{trailing}")]
        for c in self.image.checks(base, "main app v1 image")[1:]:
            out.append(Check(c.name, c.valid, c.offset,
                             c.detail + " (boot8266 does not check it)"))
        ok, verdict, computed = self._boot8266()
        sz = self.size_word
        if computed is not None:
            c = compare_digest("yaota-md5", base + sz, bytes(self.data[sz:sz + fmt.MD5_SIZE]),
                               computed)
            out.append(Check(c.name, ok, c.offset, f"{c.detail}: {verdict}"))
        else:
            out.append(Check("yaota-md5", False, base + fmt.SIZE_WORD_OFFSET, verdict))
        return out

    def to_bytes(self) -> bytes:
        """Rebuild the file: v1 image, padding, size word and MD5 recomputed, kept trailing
        bytes. Equal to the input for a valid main app.

        Raises:
            FormatError: the data was too short to hold the MD5.
        """
        if self.stored_md5 is None:
            raise FormatError("cannot rebuild a truncated main app", 0, "main app")
        view = self.data
        v1 = bytearray(view[:self.image.length])
        v1[self.image.checksum_offset] = self.image.computed_checksum
        size = fmt.SizeWord(self.irom_end).build("size word")
        body = b"".join((bytes(v1), self.padding, size,
                         bytes(view[fmt.SEGS_MAX_SIZE:self.irom_end])))
        md5 = hashlib.md5(memoryview(body)[fmt.MD5_SKIP:]).digest()
        return body + md5 + bytes(view[self.length:])

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "format": "yaota8266-main-app",
            "image": self.image.to_dict(),
            "size_word": self.size_word,
            "irom": {"offset": fmt.SEGS_MAX_SIZE, "length": self.irom_length},
            "md5": {"offset": self.irom_end,
                    "stored": self.stored_md5.hex() if self.stored_md5 else None,
                    "computed": self.computed_md5.hex()},
            "boots": self.boots,
            "verdict": self.verdict,
            "length": self.length,
            "trailing": self.trailing,
        }


# ---------------------------------------------------------------------- bundle (§1)


@dataclass(frozen=True)
class BundleCheck:
    """``yaota8266.bin`` (or the bundle part of an initial image) and its consistency.

    Attributes:
        boot8266: the decoded boot8266 parameters.
        boot_image: the boot8266 v1 image at 0.
        ota_server: the ota-server v1 image at 0x1000.
        ota_irom_offset: where merge.py put the ota-server irom (0x9000 when consistent).
        ota_irom_length: its length, trailing 0xFF padding excluded.
        bundle_length: bytes of the bundle (up to the main app, or the whole data).
        main_app_offset: where boot8266 looks for the main app (from its literal pool, else
            the default 0x3C000).
        main_app: the main app after the bundle (initial image only).
        issues: §1.1 findings; errors make the bundle unusable as built.
        layout: one ``layout`` check per §1.1 rule.
    """

    boot8266: Boot8266Params | None
    boot_image: _V1Image
    ota_server: _V1Image
    ota_irom_offset: int
    ota_irom_length: int
    bundle_length: int
    main_app_offset: int
    issues: tuple[Issue, ...]
    layout: tuple[Check, ...]
    main_app: MainApp | None = None

    @property
    def consistent(self) -> bool:
        """Whether no §1.1 rule is broken (warnings allowed)."""
        return not any(i.is_error for i in self.issues)

    def checks(self, base: int = 0) -> list[Check]:
        """Checks of boot8266, the ota-server image, the §1.1 layout rules and, for an initial
        image, the main app; offsets shifted by ``base``."""
        out = self.boot_image.checks(base, "boot8266")
        out += self.ota_server.checks(base + fmt.OTA_SERVER_OFFSET, "ota-server")
        out += [c.shifted(base) for c in self.layout]
        if self.main_app is not None:
            out += self.main_app.checks(base + self.main_app_offset)
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "format": "yaota8266",
            "boot8266": {"offset": 0, "length": self.boot_image.length,
                         "params": self.boot8266.to_dict() if self.boot8266 else None},
            "ota_server": {"offset": fmt.OTA_SERVER_OFFSET, "length": self.ota_server.length,
                           "image": self.ota_server.to_dict()},
            "ota_irom": {"offset": self.ota_irom_offset, "length": self.ota_irom_length},
            "bundle_length": self.bundle_length,
            "main_app_offset": self.main_app_offset,
            "main_app": self.main_app.to_dict() if self.main_app else None,
            "consistent": self.consistent,
            "issues": [i.to_dict() for i in self.issues],
        }


def _rule(layout: list[Check], issues: list[Issue], ok: bool, offset: int, code: str, *,
          detail: str, severity: str = "error") -> None:
    layout.append(Check("layout", ok, offset, f"{code}: {detail}"))
    if not ok:
        issues.append(Issue(severity, code, detail))


def _bundle(view: memoryview, main_app: MainApp | None) -> BundleCheck | None:
    params = Boot8266Params.from_image(view)
    if params is None or len(view) <= fmt.OTA_SERVER_OFFSET:
        return None
    if view[fmt.OTA_SERVER_OFFSET] != image_fmt.MAGIC_V1:
        return None
    boot = _walk_v1(view)
    ota = _walk_v1(view, fmt.OTA_SERVER_OFFSET)
    app_offset = params.main_app_offset or fmt.MAIN_APP_OFFSET
    has_app = len(view) > app_offset and view[app_offset] == image_fmt.MAGIC_V1
    bundle_len = app_offset if has_app else len(view)
    layout: list[Check] = []
    issues: list[Issue] = []

    boot_ok = params.checksum_valid and not boot.problems
    damage = [*boot.problems, *([] if params.checksum_valid else ["XOR checksum wrong"])]
    _rule(layout, issues, boot_ok, 0, "boot8266-image",
          detail="boot8266 is a complete v1 image with a valid checksum (the ROM checks it)"
          if boot_ok else "boot8266 image damaged: " + "; ".join(damage))
    _rule(layout, issues, boot.length <= fmt.BOOT8266_MAX_SIZE, 0, "boot8266-size",
          detail=f"boot8266 is {boot.length:#x} bytes (must be <= 0x1000, or merge.py moves "
          "the ota-server away from 0x1000)")
    irom_at = align_up(fmt.OTA_SERVER_OFFSET + ota.length, fmt.MERGE_ALIGN)
    _rule(layout, issues, not ota.problems, fmt.OTA_SERVER_OFFSET, "ota-server-image",
          detail="ota-server v1 image is complete" if not ota.problems else
          "ota-server image damaged: " + "; ".join(ota.problems))
    _rule(layout, issues, fmt.OTA_SERVER_MIN_EXCL < ota.length <= fmt.OTA_SERVER_MAX,
          fmt.OTA_SERVER_OFFSET, "ota-server-size",
          detail=f"ota-server image is {ota.length:#x} bytes, so merge.py puts its irom at "
          f"{irom_at:#x} (ota.ld links it for {fmt.OTA_IROM_OFFSET:#x}; needs 0x7000 < "
          "length <= 0x8000)")
    irom = bytes(view[irom_at:bundle_len]).rstrip(b"\xff")
    _rule(layout, issues, len(irom) <= fmt.OTA_IROM_MAX, irom_at, "ota-irom-size",
          detail=f"ota-server irom is {len(irom):#x} bytes at {irom_at:#x} (ota.ld allows "
          f"{fmt.OTA_IROM_MAX:#x})")
    gaps = [(boot.length, fmt.OTA_SERVER_OFFSET), (fmt.OTA_SERVER_OFFSET + ota.length, irom_at)]
    padded = all(not bytes(view[a:b]).strip(b"\xff") for a, b in gaps if a < b)
    _rule(layout, issues, padded, 0, "merge-padding",
          detail="gaps between the parts hold 0xFF, as merge.py writes"
          if padded else "gaps between the parts are not all 0xFF (merge.py writes 0xFF)",
          severity="warning")
    where = "boot8266's literal pool" if params.main_app_offset else "the default"
    _rule(layout, issues, bundle_len == app_offset, 0, "main-app-offset",
          detail=f"MAIN_APP_OFFSET {app_offset:#x} (from {where}) must equal the length of "
          f"yaota8266.bin ({bundle_len:#x}), or the initial image puts the main app elsewhere")
    issues.extend(params.issues())
    if main_app is not None:
        prefix = f"main app at {app_offset:#x}: "
        _rule(layout, issues, main_app.boots, app_offset, "main-app-check",
              detail=prefix + ("boot8266 " if main_app.boots else "") + main_app.verdict)
    return BundleCheck(params, boot, ota, irom_at, len(irom), bundle_len, app_offset,
                       tuple(issues), tuple(layout), main_app)


def check_bundle(data: bytes | memoryview) -> BundleCheck | None:
    """Check ``yaota8266.bin`` (boot8266 at 0, ota-server at 0x1000, its irom at 0x9000).

    When ``data`` continues with a v1 image at ``MAIN_APP_OFFSET`` (an initial image or a
    flash dump), only the part before it is checked as the bundle; use
    :func:`check_initial_image` to check the main app too.

    Returns:
        None when ``data`` does not start with boot8266 followed by an image at 0x1000.
    """
    return _bundle(memoryview(data), None)


def check_initial_image(data: bytes | memoryview) -> tuple[BundleCheck, MainApp] | None:
    """Check an initial image (``yaota8266.bin + firmware-ota.bin``) or a flash dump.

    Returns:
        the bundle check (including the ``main-app-check`` rule) and the main app, or None
        when ``data`` is not a bundle followed by a main app at ``MAIN_APP_OFFSET``.
    """
    view = memoryview(data)
    bundle = _bundle(view, None)
    if bundle is None or bundle.bundle_length != bundle.main_app_offset:
        return None
    if len(view) <= bundle.main_app_offset:
        return None
    try:
        app = MainApp.from_bytes(view, bundle.main_app_offset)
    except FormatError:
        return None
    full = _bundle(view, app)
    if full is None:  # pragma: no cover - same data as above
        return None
    return full, app


__all__ = [
    "Boot8266Params",
    "BundleCheck",
    "MainApp",
    "OtaDatagram",
    "OtaFile",
    "check_bundle",
    "check_initial_image",
    "patch_boot8266",
]
