"""Every example under examples/ runs, on the fixtures and (when present) the corpus.

Where an example needs a tool CI cannot run (PlatformIO, ESP-IDF, GitHub Actions, esptool with a
board), its testable part runs here: the PlatformIO callback with a stand-in environment, the
ESP-IDF CMake snippet under ``cmake -P`` with stand-ins for ESP-IDF's functions, the shell script
on a build directory laid out like ESP-IDF's, the workflow's verify step under bash.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image import Image

from ..conftest import FIXTURES, ROOT, corpus_path, fixture_path

EXAMPLES = ROOT / "examples"
MiB = 1024 * 1024
BIN_DIR = Path(sys.executable).parent


def run(*args: str | Path, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=120)


def path_env() -> dict[str, str]:
    """The environment with this interpreter's esp-image first on PATH."""
    if shutil.which("esp-image", path=str(BIN_DIR)) is None:
        pytest.skip(f"no esp-image script next to {sys.executable}")
    return {**os.environ, "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"}


def damage(path: Path, offset: int = 0x2000) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# ====================================================================== micropython-ota
MAKE_OTA = EXAMPLES / "micropython-ota" / "make_ota.py"


def check_ota_output(source: Path, tmp_path: Path) -> Image:
    out = tmp_path / "firmware-8MB-OTA.bin"
    result = run(sys.executable, MAKE_OTA, source, out)
    assert result.returncode == 0, result.stderr
    original = Image.open(source)
    assert original.chip is not None
    command = (f"esptool --chip {original.chip.name} --port PORT write-flash --flash-size 8MB "
               f"{original.base:#x} {out}")
    assert command in result.stdout
    assert "verified: valid, flash 8MB, boots ota_0" in result.stdout

    image = Image.open(out)
    assert image.valid and image.kind == "flash"
    assert image.chip == original.chip and image.base == original.base
    assert image.bootloader is not None and image.bootloader.flash_size == 8 * MiB
    assert image.table is not None
    assert [p.name for p in image.table.partitions] == ["nvs", "otadata", "ota_0", "ota_1", "vfs"]
    assert image.boot is not None and image.boot.target == "ota_0"
    ota_0 = next(c for c in image.apps if c.partition.name == "ota_0")
    assert ota_0.state == "image" and ota_0.image is not None
    # the app moved unchanged apart from its header's flash size (and so its SHA-256)
    old_app = original.apps[0].image
    assert old_app is not None and ota_0.image.end == old_app.end
    return image


def test_make_ota_on_fixture(tmp_path: Path) -> None:
    check_ota_output(fixture_path("firmware-esp32-4MB.bin"), tmp_path)


@pytest.mark.corpus
def test_make_ota_on_micropython_release(tmp_path: Path) -> None:
    check_ota_output(corpus_path("esptool_ESP32_GENERIC-20240602-v1.23.0.bin"), tmp_path)


def test_make_ota_refuses_a_bare_app(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    result = run(sys.executable, MAKE_OTA, fixture_path("esp32-app.bin"), out)
    assert result.returncode == 2
    assert "not a merged ESP32-family firmware" in result.stderr
    assert not out.exists()


# ====================================================================== platformio
class StandInEnv:
    """The three SCons environment methods extra_script.py uses."""

    def __init__(self, **variables: str) -> None:
        self.variables = variables
        self.post_actions: list[tuple[str, object]] = []
        self.exit_code: int | None = None

    def subst(self, text: str) -> str:
        # SCons expands $VAR and ${VAR}; an undefined variable becomes "".
        return re.sub(r"\$\{(\w+)\}|\$(\w+)",
                      lambda m: self.variables.get(m[1] or m[2], ""), text)

    def Exit(self, code: int = 0) -> None:  # SCons' name
        self.exit_code = code
        raise SystemExit(code)  # as SCons' Exit does

    def AddPostAction(self, target: str, action: object) -> None:  # SCons' name
        self.post_actions.append((target, action))


PIO_SCRIPT = EXAMPLES / "platformio" / "extra_script.py"


def load_pio_script(env: StandInEnv | None = None) -> dict[str, object]:
    """Run extra_script.py as PlatformIO does (with Import("env") when ``env`` is given)."""
    if env is None:
        spec = importlib.util.spec_from_file_location("pio_extra_script", PIO_SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return vars(module)
    scope: dict[str, object] = {"__name__": "SCons.Script"}

    def scons_import(name: str) -> None:  # SCons puts the exported variable into the script
        assert name == "env"
        scope[name] = env

    scope["Import"] = scons_import
    exec(compile(PIO_SCRIPT.read_text(), str(PIO_SCRIPT), "exec"), scope)
    return scope


def pio_build_dir(tmp_path: Path) -> Path:
    build = tmp_path / ".pio" / "build" / "esp32dev"
    build.mkdir(parents=True)
    shutil.copy(fixture_path("esp32-bootloader.bin"), build / "bootloader.bin")
    shutil.copy(fixture_path("partitions-4MiB.bin"), build / "partitions.bin")
    shutil.copy(fixture_path("esp32-app.bin"), build / "firmware.bin")
    return build


def test_platformio_script_imports_outside_platformio() -> None:
    scope = load_pio_script()
    assert callable(scope["esp_image_post_build"])


def test_platformio_script_registers_the_post_action() -> None:
    env = StandInEnv()
    scope = load_pio_script(env)
    assert env.post_actions == [("$BUILD_DIR/${PROGNAME}.bin", scope["esp_image_post_build"])]


def test_platformio_callback_verifies_and_merges(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    build = pio_build_dir(tmp_path)
    env = StandInEnv(BUILD_DIR=str(build), PROGNAME="firmware")
    callback = load_pio_script()["esp_image_post_build"]
    assert callable(callback)
    assert callback([], [], env) == 0
    assert env.exit_code is None
    merged = build / "firmware-merged.bin"
    data = merged.read_bytes()
    # esptool merge-bin from 0x0: 0x1000 erased bytes, then exactly the merged fixture
    assert data[:0x1000] == b"\xff" * 0x1000
    assert data[0x1000:] == fixture_path("firmware-esp32-4MB.bin").read_bytes()
    image = Image.open(merged)
    assert image.valid and image.kind == "flash" and image.base == 0
    assert image.chip is not None and image.chip.name == "esp32"
    assert f"wrote {merged}" in capsys.readouterr().out


def test_platformio_callback_fails_the_build_on_damage(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    build = pio_build_dir(tmp_path)
    damage(build / "firmware.bin")
    env = StandInEnv(BUILD_DIR=str(build), PROGNAME="firmware")
    callback = load_pio_script()["esp_image_post_build"]
    assert callable(callback)
    with pytest.raises(SystemExit) as exc:
        callback([], [], env)
    assert exc.value.code == 1 and env.exit_code == 1
    out = capsys.readouterr().out
    assert "firmware is damaged, failing the build" in out
    assert "checksum at 0x2402f" in out
    assert not (build / "firmware-merged.bin").exists()


def test_platformio_callback_without_bootloader_only_verifies(tmp_path: Path) -> None:
    build = pio_build_dir(tmp_path)
    (build / "bootloader.bin").unlink()
    env = StandInEnv(BUILD_DIR=str(build), PROGNAME="firmware")
    callback = load_pio_script()["esp_image_post_build"]
    assert callable(callback)
    assert callback([], [], env) == 0
    assert not (build / "firmware-merged.bin").exists()


# ====================================================================== esp-idf
POSTBUILD = EXAMPLES / "esp-idf" / "postbuild.sh"
CMAKE_SNIPPET = EXAMPLES / "esp-idf" / "esp_image_postbuild.cmake"


def idf_build_dir(tmp_path: Path, options: str = "--flash_mode dio --flash_freq 40m "
                  "--flash_size 4MB", otadata: bool = False) -> Path:
    """A build directory as ``idf.py build`` leaves it, from the fixtures."""
    build = tmp_path / "build"
    (build / "bootloader").mkdir(parents=True)
    (build / "partition_table").mkdir()
    shutil.copy(fixture_path("esp32-bootloader.bin"), build / "bootloader" / "bootloader.bin")
    shutil.copy(fixture_path("partitions-4MiB.bin"),
                build / "partition_table" / "partition-table.bin")
    shutil.copy(fixture_path("esp32-app.bin"), build / "fixture_app.bin")
    lines = [options, "0x1000 bootloader/bootloader.bin", "0x10000 fixture_app.bin",
             "0x8000 partition_table/partition-table.bin"]
    if otadata:
        (build / "ota_data_initial.bin").write_bytes(b"\xff" * 0x2000)
        lines.append("0xd000 ota_data_initial.bin")
    (build / "flash_args").write_text("\n".join(lines) + "\n")
    return build


def run_postbuild(*args: str | Path) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    return run(bash, POSTBUILD, *args, env=path_env())


def test_postbuild_sh_merges_and_verifies(tmp_path: Path) -> None:
    build = idf_build_dir(tmp_path)
    result = run_postbuild(build)
    assert result.returncode == 0, result.stdout + result.stderr
    merged = build / "fixture_app-merged.bin"
    data = merged.read_bytes()
    assert data[:0x1000] == b"\xff" * 0x1000
    assert data[0x1000:] == fixture_path("firmware-esp32-4MB.bin").read_bytes()
    assert Image.open(merged).valid
    assert f"OK   {merged}: flash esp32, " in result.stdout
    assert f"write-flash 0x0 {merged}" in result.stdout


def test_postbuild_sh_applies_flash_args_options(tmp_path: Path) -> None:
    build = idf_build_dir(tmp_path, "--flash_mode dio --flash_freq 80m --flash_size 8MB",
                          otadata=True)
    out = tmp_path / "out.bin"
    result = run_postbuild(build, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verifying 4 build outputs" in result.stdout
    image = Image.open(out)
    assert image.valid and image.bootloader is not None
    assert image.bootloader.flash_size == 8 * MiB and image.bootloader.flash_freq == "80m"


def test_postbuild_sh_fails_on_a_damaged_app(tmp_path: Path) -> None:
    build = idf_build_dir(tmp_path)
    damage(build / "fixture_app.bin")
    result = run_postbuild(build)
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "not merging" in result.stderr
    assert not (build / "fixture_app-merged.bin").exists()


def test_postbuild_sh_needs_flash_args(tmp_path: Path) -> None:
    result = run_postbuild(tmp_path)
    assert result.returncode == 2
    assert "flash_args not found" in result.stderr


CMAKE_STANDINS = """
# Stand-ins for what ESP-IDF defines before a project's CMakeLists.txt continues after project().
function(idf_build_get_property var property)
    if(property STREQUAL "BUILD_DIR")
        set(${var} "@BUILD@" PARENT_SCOPE)
    elseif(property STREQUAL "PROJECT_BIN")
        set(${var} "fixture_app.bin" PARENT_SCOPE)
    else()
        message(FATAL_ERROR "unexpected property ${property}")
    endif()
endfunction()
function(partition_table_get_partition_info var args info)
    if(NOT args STREQUAL "--partition-boot-default" OR NOT info STREQUAL "offset")
        message(FATAL_ERROR "unexpected query ${args} ${info}")
    endif()
    set(${var} "0x10000" PARENT_SCOPE)
endfunction()
function(add_custom_command)
    file(WRITE "@RECORD@" "${ARGN}")
endfunction()
function(add_dependencies)
endfunction()
set(CONFIG_BOOTLOADER_OFFSET_IN_FLASH 0x1000)
set(CONFIG_PARTITION_TABLE_OFFSET 0x8000)
include("@SNIPPET@")
"""


def test_cmake_snippet_registers_working_commands(tmp_path: Path) -> None:
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed")
    build = idf_build_dir(tmp_path)
    record = tmp_path / "record.txt"
    script = tmp_path / "project.cmake"
    script.write_text(CMAKE_STANDINS.replace("@BUILD@", build.as_posix())
                      .replace("@RECORD@", record.as_posix())
                      .replace("@SNIPPET@", CMAKE_SNIPPET.as_posix()))
    result = run(cmake, "-P", script, env=path_env())
    assert result.returncode == 0, result.stdout + result.stderr

    words = record.read_text().split(";")
    assert words[:3] == ["TARGET", "app", "POST_BUILD"]
    commands: list[list[str]] = []
    keyword = None
    for word in words[3:]:
        if word in ("COMMAND", "COMMENT", "VERBATIM"):
            keyword = word
            if word == "COMMAND":
                commands.append([])
        elif keyword == "COMMAND":
            commands[-1].append(word)
    assert [c[1] for c in commands] == ["verify", "merge", "verify"]
    assert Path(commands[0][0]).name.startswith("esp-image")
    for command in commands:  # as the build would run them after app is linked
        done = run(*command)
        assert done.returncode == 0, " ".join(command) + "\n" + done.stdout + done.stderr
    merged = build / "fixture_app-merged.bin"
    assert merged.read_bytes()[0x1000:] == fixture_path("firmware-esp32-4MB.bin").read_bytes()


# ====================================================================== github-actions
WORKFLOW = EXAMPLES / "github-actions" / "verify.yml"


def workflow_steps() -> list[dict[str, object]]:
    """The job's steps, parsed with PyYAML when installed, else from the text."""
    text = WORKFLOW.read_text()
    try:
        import yaml
    except ImportError:
        steps: list[dict[str, object]] = []
        for line in text.splitlines():
            item = re.match(r"\s+- (name|uses): (.+)", line)
            if item:
                steps.append({item[1]: item[2]})
            elif steps and (m := re.match(r"\s+(uses|run|if|name): (.+)", line)):
                steps[-1][m[1]] = m[2]
            elif steps and "esp-image verify --json" in line:
                steps[-1]["run"] = line.strip()
            elif steps and (m := re.match(r"\s+path: (.+)", line)):
                steps[-1]["with"] = {"path": m[1]}
        return steps
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict) and "jobs" in doc
    (job,) = doc["jobs"].values()
    assert job["runs-on"].startswith("ubuntu")
    return list(job["steps"])


@pytest.mark.parametrize("parser", ["yaml", "text"])
def test_workflow_has_the_verify_and_upload_steps(parser: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if parser == "yaml":
        pytest.importorskip("yaml")
    else:
        monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml raises ImportError
    steps = workflow_steps()
    uses = [str(s.get("uses", "")) for s in steps]
    runs = [str(s.get("run", "")) for s in steps]
    checkout = next(i for i, u in enumerate(uses) if u.startswith("actions/checkout@"))
    python = next(i for i, u in enumerate(uses) if u.startswith("actions/setup-python@"))
    install = next(i for i, r in enumerate(runs) if "pip install esp-image" in r)
    verify = next(i for i, r in enumerate(runs) if "esp-image verify --json" in r)
    upload = next(i for i, u in enumerate(uses) if u.startswith("actions/upload-artifact@"))
    assert checkout < python < install < verify < upload
    assert "> report.json" in runs[verify]
    assert steps[upload].get("if") == "always()"  # the report is kept when verify fails
    with_ = steps[upload].get("with")
    assert isinstance(with_, dict) and with_.get("path") == "report.json"


def run_verify_step(workdir: Path) -> subprocess.CompletedProcess[str]:
    """The verify step's script, run the way GitHub runs a bash step."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    (script,) = [str(s["run"]) for s in workflow_steps()
                 if "esp-image verify --json" in str(s.get("run", ""))]
    step = workdir / "step.sh"
    step.write_text(script)
    return run(bash, "--noprofile", "--norc", "-eo", "pipefail", step, cwd=workdir,
               env=path_env())


def test_workflow_verify_step_runs(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    for f in FIXTURES.glob("*.bin"):
        shutil.copy(f, build / f.name)
    result = run_verify_step(tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert isinstance(report, list) and len(report) == len(list(build.glob("*.bin")))
    assert all(doc["valid"] for doc in report)

    damage(build / "esp32-app.bin")
    result = run_verify_step(tmp_path)
    assert result.returncode == 1  # fails the job
    report = json.loads((tmp_path / "report.json").read_text())
    assert [doc["path"] for doc in report if not doc["valid"]] == ["build/esp32-app.bin"]


# ====================================================================== batch_report.py
BATCH = EXAMPLES / "batch_report.py"
FIRMWARE_ROW = {"file": "firmware-esp32-4MB.bin", "chip": "esp32", "kind": "flash",
                "flash_size": "4MB", "partitions": "nvs, phy_init, factory, vfs",
                "app_fill": "factory 7.3%", "verdict": "valid"}


def test_batch_report_csv(tmp_path: Path) -> None:
    out = tmp_path / "report.csv"
    result = run(sys.executable, BATCH, FIXTURES, "--format", "csv", "-o", out)
    assert result.returncode == 0, result.stderr
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert set(rows) == {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.bin")}
    assert rows["firmware-esp32-4MB.bin"] == FIRMWARE_ROW
    assert rows["esp32-app.bin"] == {
        "file": "esp32-app.bin", "chip": "esp32", "kind": "app image", "flash_size": "4MB",
        "partitions": "-", "app_fill": "-", "verdict": "valid"}
    assert rows["esp32-bootloader.bin"]["kind"] == "bootloader image"
    assert rows["partitions-4MiB-ota.bin"]["partitions"] == (
        "nvs, otadata, phy_init, ota_0, ota_1, vfs")
    assert rows["otadata-ota0.bin"]["kind"] == "otadata"
    assert all(r["verdict"] == "valid" for r in rows.values())


def test_batch_report_markdown(tmp_path: Path) -> None:
    result = run(sys.executable, BATCH, FIXTURES)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "| File | Chip | Kind | Flash size | Partitions | App fill | Verdict |"
    assert lines[1] == "| --- | --- | --- | --- | --- | --- | --- |"
    assert ("| firmware-esp32-4MB.bin | esp32 | flash | 4MB | nvs, phy_init, factory, vfs | "
            "factory 7.3% | valid |") in lines
    count = len(list(FIXTURES.rglob("*.bin")))
    assert lines[-1] == f"{count} files: {count} valid, 0 not"


def test_batch_report_flags_damage(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(fixture_path("esp32-app.bin"), folder / "app.bin")
    shutil.copy(fixture_path("firmware-esp32-4MB.bin"), folder / "firmware.bin")
    (folder / "empty.bin").write_bytes(b"")
    damage(folder / "app.bin")
    result = run(sys.executable, BATCH, folder, "--format", "csv")
    assert result.returncode == 1
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["app.bin"]["verdict"] == "INVALID: checksum, sha256"
    assert rows["empty.bin"]["verdict"].startswith("unreadable: ")
    assert rows["firmware.bin"]["verdict"] == "valid"


# ====================================================================== esp8266-nonos
BUILD_FLASH = EXAMPLES / "esp8266-nonos" / "build_flash.py"


@pytest.mark.corpus
def test_build_flash_nonos_1mb(tmp_path: Path) -> None:
    boot = corpus_path("nonos_boot_v1.7.bin")
    user1 = corpus_path("nonos306_at_user1.1024.new.2.bin")
    user2 = corpus_path("nonos306_at_user2.1024.new.2.bin")
    init = corpus_path("nonos_esp_init_data_default_v08.bin")
    out = tmp_path / "full.bin"
    result = run(sys.executable, BUILD_FLASH, "--map", "1MB", "--boot", boot, "--user1", user1,
                 "--user2", user2, "--init-data", init, "-o", out)
    assert result.returncode == 0, result.stderr
    assert f"esptool --chip esp8266 --port PORT write-flash --flash-size 1MB 0x0 {out}" \
        in result.stdout
    assert (f"write-flash --flash-size 1MB 0x0 {boot} 0x1000 {user1} 0x81000 {user2} "
            f"0xfc000 {init} 0xfd000 blank.bin") in result.stdout

    image = Image.open(out)
    assert image.kind == "flash" and image.valid and image.base == 0
    assert image.chip is not None and image.chip.name == "esp8266"
    assert image.esp8266 is not None and image.esp8266.shape == "nonos-flash"
    assert image.esp8266.flash_map is not None and image.esp8266.flash_map.name == "1MB"
    data = out.read_bytes()
    assert len(data) == MiB
    assert data[0x1000:0x1000 + user1.stat().st_size] == user1.read_bytes()
    assert data[0x81000:0x81000 + user2.stat().st_size] == user2.read_bytes()
    assert data[0xFC000:0xFC000 + 128] == init.read_bytes()


@pytest.mark.corpus
def test_build_flash_refuses_user2_as_user1(tmp_path: Path) -> None:
    out = tmp_path / "full.bin"
    result = run(sys.executable, BUILD_FLASH, "--map", "1MB",
                 "--boot", corpus_path("nonos_boot_v1.7.bin"),
                 "--user1", corpus_path("nonos306_at_user2.1024.new.2.bin"), "-o", out)
    assert result.returncode == 1
    assert "refused: user1.bin is linked for 0x40281010" in result.stderr
    assert not out.exists()
