"""What every recogniser builds with: regions with their models, checks, issues, notes."""

from __future__ import annotations

from ..checks import Check, Issue
from ..image import Image
from ..spans import Region, fill_gaps, is_erased

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from ..app_image import AppImage
    from ..chips import Chip
    from ..esp8266 import Esp8266Image
    from ..image import ImageKind, RegionKind


def prefixed(checks: Iterable[Check], label: str) -> list[Check]:
    """``checks`` with ``label: `` before each detail, once (a detail that already starts with
    it is kept)."""
    return [Check(c.name, c.valid, c.offset,
                  c.detail if c.detail.startswith(f"{label}:") else f"{label}: {c.detail}")
            for c in checks]


def image_summary(img: AppImage | Esp8266Image) -> str:
    """One line for a person naming an image of either family (a region's detail)."""
    from ..app_image import AppImage

    if isinstance(img, AppImage):
        desc = ""
        if img.app_desc is not None:
            desc = " ".join(x for x in (img.app_desc.project_name, img.app_desc.version,
                                        f"IDF {img.app_desc.idf_ver}") if x)
        elif img.bootloader_desc is not None:
            desc = f"IDF {img.bootloader_desc.idf_ver}"
        return f"{img.role} image, {img.end:#x} bytes" + (f", {desc}" if desc else "")
    what = img.bootloader_name or img.role
    extra = ""
    if img.variant == "gen_appbin":
        extra = f", gen_appbin user{img.user}.bin"
    elif img.variant == "esptool":
        extra = ", esptool v2"
    if img.crc32_status == "absent":
        extra += ", no CRC32 trailer"
    return f"{img.format} {what} image, {img.end:#x} bytes{extra}"


def layout_check(issues: Iterable[Issue], offset: int, what: str) -> Check:
    """The ``layout`` check: fails with the error issues' messages, else passes with ``what``."""
    errors = [i.message for i in issues if i.is_error]
    if errors:
        return Check("layout", False, offset, "; ".join(errors))
    return Check("layout", True, offset, what)


def single_image(view: memoryview, img: AppImage | Esp8266Image, chip: Chip | None,
                 notes: list[str], issues: list[Issue], *, erased_tail: str, data_tail: str,
                 **fields: Any) -> Image:
    """The Image of one image at 0: ``notes`` follow the one on what comes after the image
    (``erased_tail`` / ``data_tail`` say what that usually is for the family)."""
    if img.trailing:
        if is_erased(view[img.end:]):
            notes.insert(0, f"{img.trailing:#x} bytes of erased flash (0xFF) follow the image"
                         + erased_tail)
        else:
            notes.insert(0, f"{img.trailing:#x} bytes of non-erased data follow the image"
                         + data_tail)
    return Image(None, len(view), "image", chip=chip, firmware=img, checks=tuple(img.checks(0)),
                 issues=tuple(issues), notes=tuple(notes), data=view, **fields)


class Builder:
    """Collects the regions, checks, issues and notes of one file, then makes its Image."""

    def __init__(self, view: memoryview, base: int = 0) -> None:
        self.view = view
        self.base = base
        self.regions: list[Region] = []
        self.checks: list[Check] = []
        self.issues: list[Issue] = []
        self.notes: list[str] = []
        self.details: dict[str, object] = {}

    def region(self, offset: int, size: int, kind: RegionKind, name: str, detail: str = "", *,
               model: Any = None) -> None:
        """Add a region, clipped to the file (nothing when none of it is in the file)."""
        size = max(0, min(size, len(self.view) - offset))
        if size:
            self.regions.append(Region(offset, size, offset + self.base, kind, name, detail,
                                       model))

    def image(self, img: AppImage | Esp8266Image, offset: int, name: str,
              model: Any = None) -> None:
        """Add an image's region and its checks (prefixed with ``name``)."""
        self.checks.extend(prefixed(img.checks(offset), name))
        self.region(offset, img.end, "image", name, image_summary(img), model=model or img)
        # ESP8266 images report oddities a bootloader tolerates; ESP32 images have none.
        for warning in getattr(img, "warnings", ()):
            self.issues.append(Issue("warning", "image", f"{name}: {warning}"))

    def layout(self, what: str, offset: int = 0) -> None:
        """Add the ``layout`` check over the issues found so far."""
        self.checks.append(layout_check(self.issues, offset, what))

    def finish(self, kind: ImageKind, chip: Chip | None, **fields: Any) -> Image:
        """The Image: regions with the unclaimed stretches filled in, checks in file order."""
        regions = fill_gaps(self.regions, self.view, self.base, Region)
        return Image(None, len(self.view), kind, chip=chip,
                     base=self.base if kind == "flash" else None, regions=tuple(regions),
                     checks=tuple(sorted(self.checks, key=lambda c: c.offset)),
                     issues=tuple(self.issues), notes=tuple(self.notes),
                     details=self.details, data=self.view, **fields)
