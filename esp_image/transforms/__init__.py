"""Pure transforms of the immutable models: each takes a model or an ``Image`` and returns a
new model, or a :class:`TransformResult` (the new bytes with what was done).

Nothing here mutates its input or touches a file; every function raises an
:class:`esp_image.errors.EspImageError` with the precise reason when the result would break a
rule (:class:`~esp_image.errors.UsageError` for a request that cannot be carried out, such as
a flash size no header can hold; ``ValueError`` for an unparsable ``--add``/``--resize``/
``--rename`` spec). Command-line text is parsed by library functions (``FlashParams.parse``,
``RetableOptions.parse``, :func:`~esp_image.transforms.ota.slot_number`), never by the
transforms themselves. The CLI composes these functions; so can library users
(shared/docs/style.md §4, principle 10).

- :mod:`esp_image.transforms.partitions`: resize, add, delete and rename partitions, set the app
  size, parse ``--add``/``--resize``/``--rename`` specs, and the pre-flight :func:`check_table`.
- :mod:`esp_image.transforms.flash`: flash size, mode and clock in any chip's headers.
- :mod:`esp_image.transforms.retable`, :mod:`~esp_image.transforms.merge`,
  :mod:`~esp_image.transforms.ota`, :mod:`~esp_image.transforms.extract`,
  :mod:`~esp_image.transforms.esp8266` (with ``esp8266_layout``),
  :mod:`~esp_image.transforms.yaota` (with ``yaota_keys`` and ``yaota_plan``): whole-file
  rewrites.
- :mod:`esp_image.transforms.plan`: the fewest flash writes (and the erases a used board needs)
  that bring a board to a merged file or dump.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TransformResult:
    """What a transform that writes a file returns.

    Attributes:
        data: the complete new file.
        actions: one line per change made.
        notes: facts worth knowing that are not changes (one line each).
    """

    data: bytes
    actions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
