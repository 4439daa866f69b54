"""Pure construct declarations of the wire formats: no I/O, logging or policy.

One module per format; field names follow the ESP-IDF / SDK C headers. Run-time code never
imports these modules (construct is slow to import): it uses what
``python -m esp_image.formats._compile`` generates from them in :mod:`.compiled`
(``from .formats.compiled import esp32_image as fmt``): the constants, the pure helpers and one
typed record class per declaration.
"""
