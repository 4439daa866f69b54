"""ESP-IDF NVS partitions: read, verify and edit key-value data like ``nvs_flash`` does.

``NvsPartition.from_bytes(data, keys=None)`` parses a partition (``keys`` from
``NvsKeys.from_bytes`` for encrypted NVS); ``entries()``, ``get()``, ``set()``, ``remove()``,
``to_bytes()``, ``checks`` and ``to_dict()`` work on it; ``NvsPartition.mkfs(size)`` makes an
empty one and :mod:`esp_image.nvs.csv_io` reads and writes the CSV of ESP-IDF's generator.
"""

from __future__ import annotations

from .keys import NvsKeys
from .partition import NvsEntry, NvsNamespace, NvsPartition

__all__ = ["NvsEntry", "NvsKeys", "NvsNamespace", "NvsPartition"]
