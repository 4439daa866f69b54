"""``python -m esp_image`` behaves exactly like the ``esp-image`` command."""

from __future__ import annotations

from .entry import main

if __name__ == "__main__":
    main()
