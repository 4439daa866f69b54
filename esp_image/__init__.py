"""esp_image: inspect, verify and rewrite ESP8266 and ESP32-family firmware images."""

from __future__ import annotations

__version__ = "0.1.0"
