#!/usr/bin/env python3
"""Side-by-side wall-clock benchmark of esp-image against the tools it replaces.

    python tests/benchmarks/bench.py [--runs N] [--quick] [--json OUT] [--markdown]

Run it with the interpreter of the environment under test: the tools are taken from the same bin
directory. Every sample is a whole subprocess (fresh interpreter), because that is what a user or a
build pipeline pays for; start-up and imports dominate these tools' run time (peers.md §1.8,
§2.5). The exit code is 0 whatever the results: benchmarks report, they do not fail builds.
See README.md next to this file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import itertools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
MPY_NAME = "esptool_ESP32_GENERIC-20240602-v1.23.0.bin"
FALLBACK = ROOT / "fixtures" / "firmware-4MB.bin"
BIN = Path(sys.executable).parent  # console scripts of the environment under test
MIB = 1 << 20
CHUNK = 64 << 10
# A MicroPython merged image starts at flash 0x1000, so the app partition at flash 0x10000
# begins at file offset 0xF000.
APP_FILE_OFFSET = 0x10000 - 0x1000
RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
FLOOR = "import hashlib,sys; d=open(sys.argv[1],'rb').read(); hashlib.md5(d).digest(); " \
    "hashlib.sha256(d).digest()"
DEVNULL = subprocess.DEVNULL


@dataclass
class Contender:
    name: str
    commands: list[list[str]]  # run back to back; one sample is their total wall time
    skip: str | None = None  # why it cannot run at all (tool not installed)
    ok_codes: tuple[int, ...] = (0,)
    times: list[float] = field(default_factory=list)  # seconds, one per measured run
    rss: list[int] = field(default_factory=list)  # bytes, peak over the run's processes
    failed: str | None = None


@dataclass
class Target:
    refs: tuple[str, ...]  # contenders whose medians are summed into the reference time
    factor: float | None  # subject median must be <= factor * reference; None: ratio only
    slack: float = 0.0  # seconds allowed on top of factor * reference (a fixed budget)


@dataclass
class Case:
    name: str
    contenders: list[Contender]
    targets: list[Target]
    subject: str = "esp-image"
    runs: int | None = None  # cap on repetitions for cases that take seconds per sample
    scratch: tuple[str, ...] = ()  # outputs deleted before every run so each run writes anew
    rss_limit: int | None = None  # bytes; bound on the subject's peak RSS
    skip: str | None = None
    checks: list[list[str]] = field(default_factory=list)  # [what, value, bound, verdict]


def tool(name: str) -> list[str] | None:
    """The command users run: the console script next to the interpreter."""
    exe = BIN / name
    if exe.is_file() and os.access(exe, os.X_OK):
        return [str(exe)]
    if name == "esp-image" and importlib.util.find_spec("esp_image") is not None:
        return [sys.executable, "-m", "esp_image"]
    return None


def contender(name: str, prog: str | list[str], *args: str | Path) -> Contender:
    base = tool(prog) if isinstance(prog, str) else prog
    if base is None:
        return Contender(name, [], skip=f"{prog} is not installed in {BIN}")
    return Contender(name, [[*base, *map(str, args)]])


def prepare(tmp: Path) -> tuple[dict[str, Path], str | None]:
    """Write the inputs into tmp; return their paths and, if impossible, why."""
    files = {k: tmp / f"{k}.bin" for k in ("fw", "fw-4MB", "fw-16MB", "app")}
    src = CORPUS / MPY_NAME if (CORPUS / MPY_NAME).is_file() else FALLBACK
    if not src.is_file():
        return files, f"no input firmware: neither {CORPUS / MPY_NAME} nor {FALLBACK} exists"
    # Copies, not the corpus file itself: corpus files are read-only and mp-image-tool copies
    # the input's mode to its output. Padding with 0xFF is what erased flash reads back as, so
    # the padded files look like full-flash dumps.
    shutil.copyfile(src, files["fw"])  # copyfile, unlike copy, does not copy the mode
    with src.open("rb") as fin, files["app"].open("wb") as fout:
        fin.seek(APP_FILE_OFFSET)
        shutil.copyfileobj(fin, fout)
    for name, size in (("fw-4MB", 4 * MIB), ("fw-16MB", 16 * MIB)):
        shutil.copyfile(src, files[name])
        with files[name].open("ab") as fout:
            # Small chunks, never a whole image in memory: Linux carries this process's peak
            # RSS into every child it spawns (ru_maxrss survives exec), so big buffers here
            # would inflate every RSS figure.
            for done in range(src.stat().st_size, size, CHUNK):
                fout.write(b"\xff" * min(CHUNK, size - done))
    return files, None


def batch_inputs(count: int = 100) -> list[Path]:
    pool = sorted(CORPUS.glob("*.bin")) + sorted((ROOT / "fixtures").glob("*.bin"))
    pool = [p for p in pool if p.stat().st_size > 0]  # an empty file is a usage error (rc 2)
    return list(itertools.islice(itertools.cycle(pool), count)) if pool else []


def retable_skip() -> str | None:
    base = tool("esp-image")
    if base is None:
        return None  # the esp-image contender already says it is missing
    probe = subprocess.run([*base, "retable", "--help"], stdin=DEVNULL, stdout=DEVNULL,
                           stderr=DEVNULL, check=False)
    return None if probe.returncode == 0 else "esp-image has no retable command yet"


def build_cases(tmp: Path) -> list[Case]:
    f, no_input = prepare(tmp)
    py = [sys.executable]
    mp_targets = [Target(("mp-image-tool",), 0.4)]  # issue 6 (issue 2 asked for 0.5)
    many = batch_inputs()
    esp = tool("esp-image")
    each = Contender("100 processes", [[*esp, "info", "--json", str(p)] for p in many]) if esp \
        else contender("100 processes", "esp-image")
    return [
        Case("info-4MB", [
            contender("esp-image", "esp-image", "info", f["fw-4MB"]),
            contender("mp-image-tool", "mp-image-tool-esp32", f["fw-4MB"]),
            contender("esptool", "esptool", "image-info", f["app"]),
        ], [*mp_targets, Target(("esptool",), 0.6)], skip=no_input),
        Case("info-mpy", [
            contender("esp-image", "esp-image", "info", f["fw"]),
            contender("mp-image-tool", "mp-image-tool-esp32", f["fw"]),
        ], mp_targets, skip=no_input),
        # Issue 18: writing the HTML report costs at most 20 ms over plain info.
        Case("info-html-mpy", [
            contender("info --html", "esp-image", "info", f["fw"], "--html", "report.html"),
            contender("info", "esp-image", "info", f["fw"]),
        ], [Target(("info",), 1.0, slack=0.020)], subject="info --html",
            scratch=("report.html",), skip=no_input),
        # Unpadded input: mp-image-tool reads a padded file's 0xFF tail as app data and then
        # refuses --table ota ("App size exceeds 'ota_0'", peers.md §8).
        Case("retable-8MB-ota", [
            contender("esp-image", "esp-image", "retable", f["fw"], "-f", "8MB", "--table", "ota",
                      "-o", "out-esp.bin"),
            contender("mp-image-tool", "mp-image-tool-esp32", f["fw"], "-f", "8M", "--table",
                      "ota", "-o", "out-mp.bin"),
        ], mp_targets, scratch=("out-esp.bin", "out-mp.bin"),
            skip=no_input or retable_skip()),
        # The floor: read the file once and hash it twice, plus esp-image's own start-up. A
        # verify that costs much more than that is doing avoidable work.
        Case("verify-16MB", [
            contender("esp-image", "esp-image", "verify", f["fw-16MB"]),
            contender("hashlib floor", py, "-c", FLOOR, f["fw-16MB"]),
            contender("esp-image --version", "esp-image", "--version"),
        ], [Target(("hashlib floor", "esp-image --version"), 1.3)],
            rss_limit=2 * 16 * MIB + 40 * MIB, skip=no_input),
        # HEX and UF2 of MicroPython's firmware (issue 16): esp-image merge against esptool
        # merge-bin, the same one part at the same address; outputs deleted before every run.
        *(Case(f"merge-{form}", [
            contender("esp-image", "esp-image", "merge", "-o", f"out-esp.{form}",
                      f"0x1000={f['fw']}"),
            contender("esptool", "esptool", "--chip", "esp32", "merge-bin", "--format", form,
                      "-o", f"out-esptool.{form}", "0x1000", f["fw"]),
        ], [Target(("esptool",), 0.6)], scratch=(f"out-esp.{form}", f"out-esptool.{form}"),
            skip=no_input) for form in ("hex", "uf2")),
        Case("version", [
            contender("esp-image", "esp-image", "--version"),
            contender("python -c pass", py, "-c", "pass"),
        ], [Target(("python -c pass",), 5.0)]),
        Case("batch-100", [
            contender("1 process", "esp-image", "info", "--json", *many), each,
        ], [Target(("100 processes",), None)], subject="1 process", runs=5,
            skip=None if many else "no *.bin files in the corpus or fixtures/"),
        # No peer turns an image into an ELF; esptool's image-info of the same app (reading
        # every segment) is the reference time, with issue 16's 0.6x target.
        Case("elf-mpy", [
            contender("esp-image", "esp-image", "elf", f["fw"], "-o", "out.elf"),
            contender("esptool image-info", "esptool", "image-info", f["app"]),
        ], [Target(("esptool image-info",), 0.6)], scratch=("out.elf",), skip=no_input),
    ]


def run_once(c: Contender, cwd: Path, record: bool) -> None:
    peak = 0
    # stderr goes to a file, not a pipe: nothing reads a pipe while we block in wait4, and a
    # chatty tool would fill it and hang.
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        for argv in c.commands:
            err.seek(0)
            err.truncate()
            proc = subprocess.Popen(argv, cwd=cwd, stdin=DEVNULL, stdout=DEVNULL, stderr=err)
            # wait4 gives this child's own rusage; RUSAGE_CHILDREN is a running maximum over
            # every child reaped so far, so one big process would mask all later ones.
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak = max(peak, usage.ru_maxrss * RSS_UNIT)
            if proc.returncode not in c.ok_codes:
                err.seek(0)
                lines = err.read().decode(errors="replace").strip().splitlines()
                c.failed = f"exit {proc.returncode}: {lines[-1] if lines else '(no stderr)'}"
                return
        elapsed = time.perf_counter() - start
    if record:
        c.times.append(elapsed)
        c.rss.append(peak)


def run_case(case: Case, runs: int, warmups: int, cwd: Path) -> None:
    subject = next(c for c in case.contenders if c.name == case.subject)
    live = [c for c in case.contenders if c.skip is None]
    if case.skip is None and subject.skip is not None:
        case.skip = subject.skip
    elif case.skip is None and len(live) < 2:
        case.skip = "; ".join(c.skip for c in case.contenders if c.skip)
    if case.skip is not None:
        return
    if case.runs:  # long cases: fewer repetitions (2 with --quick), one warm-up fills the caches
        runs, warmups = min(runs, case.runs, max(2, runs // 3)), min(warmups, 1)
    for rep in range(warmups + runs):
        # Interleave and rotate the starting contender every repetition, so that drift
        # (thermal, other jobs, page cache) and the "first after a pause" penalty hit all
        # contenders equally instead of one contender's whole block.
        k = rep % len(live)
        for c in live[k:] + live[:k]:
            if c.failed is None:
                for name in case.scratch:
                    (cwd / name).unlink(missing_ok=True)
                run_once(c, cwd, record=rep >= warmups)
    for name in case.scratch:
        (cwd / name).unlink(missing_ok=True)
    evaluate(case)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def evaluate(case: Case) -> None:
    med = {c.name: statistics.median(c.times) for c in case.contenders if c.times and not c.failed}
    for t in case.targets:
        what = f"{case.subject} / {' + '.join(t.refs)}"
        if case.subject not in med or any(r not in med for r in t.refs):
            # A crashing esp-image misses its target; a crashing reference only voids it.
            failed = any(c.failed for c in case.contenders if c.name == case.subject)
            case.checks.append([what, "-", "-", "FAIL" if failed else "n/a"])
            continue
        ref = sum(med[r] for r in t.refs)
        ratio = med[case.subject] / ref
        if t.factor is None:
            case.checks.append([what, f"{ratio:.2f}x", "-", "info"])
            continue
        limit = t.factor * ref + t.slack
        bound = f"<= {t.factor:.2f}x{f' + {ms(t.slack)} ms' if t.slack else ''} = {ms(limit)} ms"
        ok = med[case.subject] <= limit
        verdict = "PASS" if ok else "FAIL"
        case.checks.append([what, f"{ratio:.2f}x", bound, verdict])
    subject = next(c for c in case.contenders if c.name == case.subject)
    if case.rss_limit is not None and subject.rss and not subject.failed:
        peak = max(subject.rss)
        case.checks.append([f"{case.subject} peak RSS", f"{peak / MIB:.1f} MiB",
                            f"<= {case.rss_limit / MIB:.0f} MiB",
                            "PASS" if peak <= case.rss_limit else "FAIL"])


def machine() -> dict[str, str]:
    info = Path("/proc/cpuinfo")  # Linux; platform.processor() is often empty or just "x86_64"
    lines = info.read_text().splitlines() if info.is_file() else []
    cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")),
               platform.processor() or "unknown")
    return {"platform": platform.platform(), "cpu": cpu, "cores": str(os.cpu_count()),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def versions() -> dict[str, str]:
    import importlib.metadata  # ≈ 6 MiB of RSS: imported after the runs, see prepare()

    out: dict[str, str] = {}
    esp = tool("esp-image")
    if esp is None:
        out["esp-image"] = "not installed"
    else:
        proc = subprocess.run([*esp, "--version"], capture_output=True, text=True, check=False)
        text = proc.stdout.strip().removeprefix("esp-image").strip()
        out["esp-image"] = text or f"(--version failed, exit {proc.returncode})"
    for dist in ("esptool", "mp-image-tool-esp32"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = [header, ["---"] * 2 + ["---:"] * (len(header) - 2), *rows]
        return "\n".join("| " + " | ".join(r) + " |" for r in lines)
    # Skip and failure rows hold one long message: they must not widen the columns.
    full = [header, *(r for r in rows if all(r))]
    widths = [max(len(r[i]) for r in full) for i in range(len(header))]
    widths[0] = max(len(r[0]) for r in [header, *rows])
    return "\n".join("  ".join(v.ljust(w) if i < 2 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(r, widths, strict=True))).rstrip()
                     for r in [header, *rows])


def report(cases: list[Case], info: dict[str, str], tools: dict[str, str], runs: int,
           warmups: int, markdown: bool) -> str:
    timing: list[list[str]] = []
    checks: list[list[str]] = []
    for case in cases:
        if case.skip:
            timing.append([case.name, f"skipped: {case.skip}", "", "", "", ""])
            continue
        for c in case.contenders:
            if c.skip or c.failed or not c.times:
                why = f"skipped: {c.skip}" if c.skip else f"FAILED {c.failed}"
                timing.append([case.name, c.name, why, "", "", ""])
                continue
            q = statistics.quantiles(c.times, n=4) if len(c.times) > 1 else [c.times[0]] * 3
            timing.append([case.name, c.name, ms(statistics.median(c.times)),
                           f"{ms(min(c.times))}-{ms(max(c.times))}", ms(q[2] - q[0]),
                           f"{max(c.rss) / MIB:.1f}"])
        checks += [[case.name, *check] for check in case.checks]
    intro = [f"esp-image benchmark, {info['date']}",
             f"machine: {info['platform']}; {info['cpu']}; {info['cores']} cores; {info['python']}",
             "tools: " + "; ".join(f"{k} {v}" for k, v in tools.items()),
             f"method: {runs} interleaved runs (+{warmups} warm-up) per contender, wall clock of "
             "whole processes (batch cases fewer), times in ms",
             f"RSS floor: {info['rss_floor']} MiB (this script's own peak; children inherit it)"]
    head = "\n".join(("- " + s if markdown and i else s) for i, s in enumerate(intro))
    results = table(["case", "comparison", "value", "target", "result"], checks, markdown) \
        if checks else "(no comparisons: every case was skipped or failed)"
    return "\n\n".join([
        head, table(["case", "contender", "median", "min-max", "IQR", "RSS MiB"], timing, markdown),
        results])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="measured runs per contender (default 15)")
    parser.add_argument("--quick", action="store_true", help="5 runs, 1 warm-up")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write all raw samples here")
    parser.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    parser.add_argument("--only", metavar="NAME", action="append",
                        help="run only the cases whose name contains NAME (repeatable)")
    args = parser.parse_args(argv)
    # Installed packages run from cached bytecode (pip compiles it); with PYTHONDONTWRITEBYTECODE
    # every sample would compile every module from source again (~35 ms of an esp-image info),
    # which no user pays. The warm-up runs write the cache.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.json is not None and not args.json.parent.is_dir():  # fail now, not after minutes
        parser.error(f"--json: directory {args.json.parent} does not exist")
    runs = args.runs or (5 if args.quick else 15)
    warmups = 1 if args.quick else 2
    info = machine()
    with tempfile.TemporaryDirectory(prefix="esp-image-bench-") as tmp:
        cases = [c for c in build_cases(Path(tmp))
                 if not args.only or any(name in c.name for name in args.only)]
        if not cases:
            parser.error(f"--only: no case name contains {' or '.join(args.only)}")
        for case in cases:
            print(f"running {case.name} ...", file=sys.stderr, flush=True)
            run_case(case, runs, warmups, Path(tmp))
    # A child's ru_maxrss is never below the peak of the process that spawned it.
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RSS_UNIT
    tools = versions()
    info["rss_floor"] = f"{floor / MIB:.1f}"
    print(report(cases, info, tools, runs, warmups, markdown=False))
    if args.markdown:
        print("\n" + report(cases, info, tools, runs, warmups, markdown=True))
    if args.json:
        raw = {"machine": info, "tools": tools, "runs": runs, "warmups": warmups,
               "cases": [asdict(c) for c in cases]}
        args.json.write_text(json.dumps(raw, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
