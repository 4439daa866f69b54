"""Every exception esp_image defines lives in errors.py, under EspImageError.

The CLI maps exceptions to exit codes by class; a class declared elsewhere (or outside the
hierarchy) escapes that mapping and reaches the user as an internal error.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import esp_image.errors as errors
from esp_image.errors import EspImageError, Interrupted

PACKAGE = Path(errors.__file__).parent

# Interrupted is a SystemExit on purpose: a signal must pass every ``except Exception``.
OUTSIDE_HIERARCHY = {Interrupted}


def _exception_classes(tree: ast.Module) -> list[str]:
    """Names of classes whose bases look like exceptions (…Error, …Exception, …Exit, …Failed)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = base.id if isinstance(base, ast.Name) else \
                    base.attr if isinstance(base, ast.Attribute) else ""
                if name.endswith(("Error", "Exception", "Exit", "Failed", "Mismatch")):
                    found.append(node.name)
    return found


def test_no_exception_class_outside_errors_py() -> None:
    elsewhere = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        classes = _exception_classes(ast.parse(path.read_text(encoding="utf-8")))
        if classes:
            elsewhere[str(path.relative_to(PACKAGE))] = classes
    assert elsewhere == {}


def test_every_exception_in_errors_py_is_an_esp_image_error() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if c.__module__ == errors.__name__]
    assert len(classes) > 5
    for cls in classes:
        if cls not in OUTSIDE_HIERARCHY:
            assert issubclass(cls, EspImageError), cls


def test_verification_failed_is_still_importable_where_it_was_raised() -> None:
    from esp_image import io

    assert io.VerificationFailed is errors.VerificationFailed
