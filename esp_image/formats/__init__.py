"""Pure construct declarations of the wire formats: no I/O, logging or policy.

One module per format; field names follow the ESP-IDF / SDK C headers. Models in the parent
package refer to them through the module namespace (``from .formats import esp32_image as fmt``).
"""
