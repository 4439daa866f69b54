"""Pure transforms of the immutable models: each takes a model and returns a new one.

Nothing here mutates its input or touches a file; every function raises
:class:`esp_image.errors.LayoutError` (or ``ValueError`` for unparsable command-line specs) with
the precise reason when the result would break a rule. The CLI composes these functions; so can
library users (shared/docs/style.md §4, principle 10).

- :mod:`esp_image.transforms.partitions`: resize, add, delete and rename partitions, set the app
  size, parse ``--add``/``--resize``/``--rename`` specs, and the pre-flight :func:`check_table`.
"""
