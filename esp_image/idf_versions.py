"""Image rules that only some ESP-IDF bootloaders enforce, and the versions that do.

An image that every released bootloader accepts is valid: a rule that only newer bootloaders
apply is a warning naming the version, unless the file's own bootloader (in a merged file or a
dump) is that version or newer, where it is a failed check. The bootloader states its version in
``esp_bootloader_desc_t`` (ESP-IDF >= 5.2); a bootloader without one is older than 5.2.

Rules of ``esp_image_format.c`` that every bootloader since ESP-IDF v3.3 applies (segment length a
multiple of 4 and below 16 MiB, flash-mapped segments agreeing with their flash offset modulo the
MMU page) are not listed: they always fail. Sources: ESP-IDF git history of
``components/bootloader_support/src/esp_image_format.c``, checked at every release tag v3.3 to
v6.0.2 and v6.1-beta1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (major, minor, dev build number): a release is (X, Y, None); a master build between the
# vX.Y-dev tag and the next one is (X, Y, N) with N commits since the tag ("v6.1-dev-5820-g...").
IdfVersion = tuple[int, int, int | None]


@dataclass(frozen=True)
class VersionRule:
    """A verifier rule and the first bootloader that enforces it.

    Attributes:
        code: the issue code (``app-desc-segment``).
        since: the first version that enforces it (see :data:`IdfVersion`).
        since_text: that version as people write it.
    """

    code: str
    since: IdfVersion
    since_text: str


# esp_image_format.c, process_segment: "Segment %d: length 0x%x is too short for app description"
# for segment 0 of every image that is not the bootloader. Added by commit d06a91db188
# ("fix(esp_image_format): verify length of segment #0 for app description", 2026-06-15) on
# master, i.e. v6.1-dev-5820; not in any release tag up to v6.0.2 / v6.1-beta1.
APP_DESC_SEGMENT = VersionRule("app-desc-segment", (6, 1, 5820),
                               "v6.1-dev-5820 on (master commit d06a91db188, in no release yet)")

RULES = (APP_DESC_SEGMENT,)

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:-dev-(\d+))?")


def parse_idf_version(text: str) -> IdfVersion | None:
    """The version of an ``idf_ver`` string (``v5.2.2-dirty``, ``v6.1-dev-5820-gd06a91db``),
    or None when it names none."""
    found = _VERSION.match(text.strip())
    if found is None:
        return None
    dev = found.group(3)
    return int(found.group(1)), int(found.group(2)), int(dev) if dev is not None else None


def enforces(bootloader_idf: str | None, rule: VersionRule) -> bool:
    """Whether a bootloader of ``bootloader_idf`` (None: no descriptor, older than 5.2) applies
    ``rule``. A release X.Y contains every master commit before the vX.(Y+1)-dev tag."""
    if bootloader_idf is None:
        return False
    version = parse_idf_version(bootloader_idf)
    if version is None:
        return False
    major, minor, dev = version
    s_major, s_minor, s_dev = rule.since
    if (major, minor) != (s_major, s_minor):
        # a release X.Y or a master build of X.Y-dev: later than the rule when X.Y is later
        return (major, minor) > (s_major, s_minor)
    if s_dev is None:
        return True
    # the rule appeared on master during X.Y-dev: builds from that point on, not the X.Y-beta/
    # release branch cut before it (a backport would be listed here with its release)
    return dev is not None and dev >= s_dev
