"""ESP-IDF NVS partitions: read, verify and edit key-value data like ``nvs_flash`` does.

``NvsPartition.from_bytes(data, keys=None)`` parses a partition (``keys`` from
``NvsKeys.from_bytes`` for encrypted NVS); ``entries()``, ``get()``, ``set()``, ``remove()``,
``to_bytes()``, ``checks`` and ``to_dict()`` work on it; ``NvsPartition.mkfs(size)`` makes an
empty one and :mod:`esp_image.nvs.csv_io` reads and writes the CSV of ESP-IDF's generator.

In whole files (merged firmware, flash dumps, bare NVS images): ``find_nvs(image)`` lists the
NVS partitions, ``select_nvs(image, name)`` parses the one a command works on,
``replace_nvs(image, name, new_bytes)`` puts a changed one back, and
``carry_nvs(old_image, new_table)`` gives the contents of those a new table moves or resizes.
"""

from __future__ import annotations

from .keys import NvsKeys
from .locate import FoundNvs, NvsCarry, carry_nvs, find_nvs, replace_nvs, select_nvs
from .partition import NvsEntry, NvsNamespace, NvsPartition

__all__ = ["FoundNvs", "NvsCarry", "NvsEntry", "NvsKeys", "NvsNamespace", "NvsPartition",
           "carry_nvs", "find_nvs", "replace_nvs", "select_nvs"]
