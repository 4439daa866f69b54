"""The distribution: ``python -m build`` makes a wheel and an sdist that pass ``twine check``,
the wheel installs into a fresh virtual environment and its ``esp-image --version`` is the
version in ``esp_image/__init__.py`` (the one source of the version), and the extras exist.

Needs the ``build`` module (skipped without it; ``twine`` likewise for its test) and, unless
hatchling is installed here, network access for build's isolated environment. About 10 s.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from ..conftest import ROOT

pytestmark = pytest.mark.slow

PYPROJECT = ROOT / "pyproject.toml"


def source_version() -> str:
    """``__version__`` as written in esp_image/__init__.py (not imported)."""
    found = re.findall(r'^__version__ = "([^"]+)"$', (ROOT / "esp_image" / "__init__.py")
                       .read_text(), re.MULTILINE)
    assert len(found) == 1, "esp_image/__init__.py must assign __version__ exactly once"
    return str(found[0])


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=300)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel and the sdist, built once (the wheel from the sdist, as build does)."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' module is not installed (pip install build)")
    out = tmp_path_factory.mktemp("dist")
    # With hatchling importable here, build offline and fast; else build's isolated
    # environment fetches hatchling.
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-isolation"]
    result = run(sys.executable, "-m", "build", *isolation, "--outdir", out, ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list(out.glob("*.whl"))
    sdists = list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def test_file_names_carry_the_source_version(dist: dict[str, Path]) -> None:
    version = source_version()
    assert dist["wheel"].name == f"esp_image-{version}-py3-none-any.whl"
    assert dist["sdist"].name == f"esp_image-{version}.tar.gz"


def test_twine_check_passes(dist: dict[str, Path]) -> None:
    if importlib.util.find_spec("twine") is None:
        pytest.skip("twine is not installed (pip install twine)")
    result = run(sys.executable, "-m", "twine", "check", "--strict", dist["wheel"], dist["sdist"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_wheel_contents(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as whl:
        names = set(whl.namelist())
        info = f"esp_image-{source_version()}.dist-info"
        metadata = whl.read(f"{info}/METADATA").decode()
        entry_points = whl.read(f"{info}/entry_points.txt").decode()
    assert {"esp_image/__init__.py", "esp_image/py.typed", "esp_image/cli/app.py",
            "esp_image/cli/_fast.py",
            "esp_image/formats/_compiled.py", "esp_image/transforms/retable.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "fixtures/", "examples/"))]
    assert re.search(rf"^Version: {re.escape(source_version())}$", metadata, re.MULTILINE)
    assert "Description-Content-Type: text/markdown" in metadata
    for extra in ("yaota", "test", "dev", "bench"):
        assert re.search(rf"^Provides-Extra: {extra}$", metadata, re.MULTILINE), extra
    assert re.search(r"^esp-image = esp_image\.entry:main$", entry_points, re.MULTILINE)


def test_sdist_contents(dist: dict[str, Path]) -> None:
    with tarfile.open(dist["sdist"]) as tar:
        top = f"esp_image-{source_version()}/"
        names = {n.removeprefix(top) for n in tar.getnames()}
    assert {"pyproject.toml", "README.md", "GUARANTEES.md", "JSON.md", "LICENSE", "PKG-INFO",
            "esp_image/__init__.py",
            "tests/conftest.py", "fixtures/firmware-esp32-4MB.bin",
            "examples/batch_report.py"} <= names


def test_wheel_installs_in_a_fresh_venv(dist: dict[str, Path], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    result = run(sys.executable, "-m", "venv", venv)
    assert result.returncode == 0, result.stderr
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = next(p for p in (bindir / "python", bindir / "python.exe") if p.exists())
    result = run(python, "-m", "pip", "install", "--no-deps", "--no-index",
                 "--disable-pip-version-check", dist["wheel"])
    assert result.returncode == 0, result.stdout + result.stderr
    script = shutil.which("esp-image", path=str(bindir))
    assert script is not None, "the wheel installed no esp-image script"
    # run outside the repository so that nothing can import esp_image from the source tree
    result = run(script, "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"esp-image {source_version()}"
    result = run(python, "-c", "import esp_image, sys; print(esp_image.__version__); "
                 "print(esp_image.__file__)", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    version, location = result.stdout.split()
    assert version == source_version()
    assert Path(location).resolve().is_relative_to(venv.resolve())


def test_version_has_one_source() -> None:
    text = PYPROJECT.read_text()
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^dynamic = \["version"\]$', project, re.MULTILINE)
    assert not re.search(r"^version\s*=", project, re.MULTILINE)
    assert re.search(r'^\[tool\.hatch\.version\]\npath = "esp_image/__init__\.py"$', text,
                     re.MULTILINE)
    version = source_version()
    others = [p.relative_to(ROOT).as_posix() for p in (ROOT / "esp_image").rglob("*.py")
              if p.name != "__init__.py" or p.parent.name != "esp_image"
              if re.search(rf'^\s*__version__\s*=|"{re.escape(version)}"', p.read_text(),
                           re.MULTILINE)]
    assert others == [], f"a second version source: {others}"


def optional_dependencies() -> dict[str, list[str]]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: the table is simple enough to read by hand
        section = PYPROJECT.read_text().split("[project.optional-dependencies]", 1)[1]
        section = section.split("\n[", 1)[0]
        extras: dict[str, list[str]] = {}
        for name, body in re.findall(r"^([\w-]+) = \[(.*?)\]\s*$", section,
                                     re.MULTILINE | re.DOTALL):
            extras[name] = re.findall(r'"([^"]+)"', body)
        return extras
    with PYPROJECT.open("rb") as fh:
        return dict(tomllib.load(fh)["project"]["optional-dependencies"])


def test_extras_are_declared() -> None:
    extras = optional_dependencies()
    assert {"yaota", "test", "dev", "bench"} <= set(extras)
    assert any(d.startswith("cryptography") for d in extras["yaota"])
    assert any(d.startswith("pytest") for d in extras["test"])
    # dev is everything a contributor needs: the other extras plus the linters
    dev = " ".join(extras["dev"])
    for extra in ("test", "bench", "yaota"):
        assert extra in dev
    assert "ruff" in dev and "mypy" in dev
