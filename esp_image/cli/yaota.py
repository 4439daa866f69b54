"""``esp-image yaota ...`` and ``esp-image layout yaota8266``: the yaota8266 toolkit's commands.

Argument parsing and reporting only; the work happens in :mod:`esp_image.transforms.yaota`.
Exit codes as everywhere: 0 success, 1 a refusal or a failed verification, 2 unusable input.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from ..errors import UsageError
from .runner import (
    EXIT_DAMAGED,
    EXIT_OK,
    emit_write,
    error_line,
    parse_int,
    run_guarded,
    write_json,
)

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Annotated

    from ..transforms.yaota import OtaVerification
    from ..yaota8266_send import SendResult
    from .options import (
        AckTimeout,
        Debug,
        DryRun,
        Force,
        Json,
        OtaHost,
        Port,
        Quiet,
        Retries,
        UdpPort,
        argument,
        force_option,
        option,
        output_option,
    )


def _read(path: str, what: str, max_size: int | None = None) -> bytes:
    """The whole file, or one line and exit 2 for anything that cannot be one (io.read_input)."""
    from ..io import MAX_FILE_SIZE, read_input

    return read_input(path, what, max_size=MAX_FILE_SIZE if max_size is None else max_size)


KEY_MAX = 64 * 1024
"""Keys and config.h files are a few hundred bytes; anything far larger is not one."""


def _write(path: str, data: bytes, verify: Callable[[bytes], None] | None = None,
           mode: int = 0o644) -> None:
    from ..io import write_atomic

    write_atomic(path, data, verify=verify, mode=mode)


def _report(doc: dict[str, object], lines: list[str], as_json: bool) -> None:
    if as_json:
        write_json(doc)
    else:
        from ..terminal import shown_lines

        sys.stdout.write(shown_lines("\n".join(lines)) + "\n")


# ---------------------------------------------------------------------- keygen
def keygen(
    output: Annotated[str, output_option("The private key file.")] = "priv.key",
    pub: Annotated[str | None, option(
        "--pub", metavar="FILE",
        help="Also write the public key (pub.key of gen_keys.sh).")] = None,
    force: Annotated[bool, force_option("Overwrite an existing key file.")] = False,
    json: Json = False, debug: Debug = False,
) -> int:
    """Create the RSA-512 (e=3) signing key yaota8266 expects, and the config.h MODULUS line.

    The key is PEM, as openssl genrsa writes it, so ota_client.py and rsa_sign.py read it too.
    An existing key is never overwritten without --force: devices built with its modulus
    accept only updates signed by it.

    Example: [bold]esp-image yaota keygen -o priv.key[/bold]
    """
    def body() -> int:
        from ..transforms.yaota import RSA_WARNING, generate_key, modulus_line

        targets = _key_targets(output, pub, force)
        pem = generate_key()
        _write_keys(pem, output, pub)
        line = modulus_line(pem)
        _report({"output": output, "pub": pub, "bits": 512, "exponent": 3,
                 "modulus_line": line, "warning": RSA_WARNING},
                [f"wrote {', '.join(targets)} (RSA-512, e=3, PEM)",
                 f"warning: {RSA_WARNING}",
                 "Put this line into yaota8266's config.h and rebuild yaota8266.bin:",
                 line], json)
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=output)


def _key_targets(output: str, pub: str | None, force: bool) -> list[str]:
    """The key files to write; an existing one only with ``force``, never the same twice."""
    from ..io import same_file

    targets = [output, *([pub] if pub else [])]
    if pub and (os.path.abspath(pub) == os.path.abspath(output) or same_file(pub, output)):
        raise UsageError(f"--pub {pub} names the private key file too; give "
                         "the public key another name")
    existing = [t for t in targets if os.path.exists(t)]
    if existing and not force:
        raise UsageError(
            f"{', '.join(existing)} already exists; a new key cannot sign updates for "
            "devices built with the old one (use --force to replace it anyway)")
    return targets


def _write_keys(pem: bytes, output: str, pub: str | None) -> None:
    """The private key (mode 0600) and the public one, each read back as the key generated."""
    from ..errors import VerificationFailed
    from ..transforms.yaota import key_modulus, public_key_pem

    def same_key(written: bytes) -> None:
        if key_modulus(written) != key_modulus(pem):
            raise VerificationFailed("refusing to write the key: it does not read back "
                                     "as the key generated")

    _write(output, pem, same_key, mode=0o600)
    if pub:
        _write(pub, public_key_pem(pem), same_key)


# ---------------------------------------------------------------------- mkapp
def mkapp(
    image: Annotated[str, argument("The v1 image, firmware.elf-0x00000.bin.",
                                   "IMAGE-0x00000.bin")],
    irom: Annotated[str, argument("The irom, firmware.elf-0x45000.bin.", "IROM.bin")],
    output: Annotated[str | None, output_option(
        "The main-app file (default: firmware-ota.bin next to IMAGE; firmware-combined.bin "
        "with --offset 0).")] = None,
    offset: Annotated[str, option("--offset", metavar="ADDR",
                                  help="MAIN_APP_OFFSET the app is built for (0 = a normal, "
                                       "non-OTA build).")] = "0x3c000",
    dry_run: DryRun = False, force: Force = False, json: Json = False, debug: Debug = False,
) -> int:
    """Build firmware-ota.bin from its two parts, exactly as MicroPython's makeimg.py does.

    Refuses an irom linked for another address (judged from its code pointers, else from
    esptool's -0xNNNNN.bin file name) and an app above boot8266's 800000-byte limit.

    Example: [bold]esp-image yaota mkapp firmware.elf-0x00000.bin firmware.elf-0x45000.bin
    -o firmware-ota.bin[/bold]
    """
    def body() -> int:
        from ..io import check_output
        from ..transforms.yaota import make_main_app

        app_offset = parse_int(offset, "--offset", "0x3c000")
        data = make_main_app(_read(image, "v1 image"), _read(irom, "irom file"),
                             main_app_offset=app_offset, irom_name=os.path.basename(irom))
        default = "firmware-ota.bin" if app_offset else "firmware-combined.bin"
        target = output or os.path.join(os.path.dirname(image), default)
        check_output(target, [image, irom], default=not output, force=force)
        total = len(data) - 16
        return emit_write(
            source=image, output=target, data=data, dry_run=dry_run, as_json=json,
            actions=[f"v1 image {image} + 0xFF padding to 0x8ffc",
                     f"size word {total:#x} (0x9000 + irom {total - 0x9000:#x})",
                     f"irom {irom} at 0x9000", f"MD5 at {total:#x}"],
            notes=[f"flash at {app_offset:#x} behind yaota8266.bin, or sign it for OTA"
                   if app_offset else "a normal MicroPython firmware: flash it at 0x0"],
            extra={"main_app_offset": app_offset, "size_word": total})
    return run_guarded(body, debug=debug, as_json=json, path=image)


# ---------------------------------------------------------------------- sign
def sign(
    file: Annotated[str, argument("The main app, firmware-ota.bin.", "FILE")],
    key: Annotated[str, option("--key", metavar="FILE", help="The private key (priv.key).")],
    output: Annotated[str | None, output_option("The .ota file (default: FILE.ota).")] = None,
    force: Annotated[bool, force_option("Do it anyway: sign a FILE that is not a main app "
                                        "boot8266 would boot, and replace an existing "
                                        "FILE.ota.")] = False,
    json: Json = False, debug: Debug = False,
) -> int:
    """Make the signed .ota update, byte for byte as yaota8266's ota_client.py sign.

    Refuses a file that is not a bootable main app (e.g. the initial image, which would be
    written over the app) unless --force. Send it with: ota_client.py ota FILE.ota -a IP.

    Example: [bold]esp-image yaota sign firmware-ota.bin --key priv.key[/bold]
    (writes firmware-ota.bin.ota)
    """
    def body() -> int:
        from ..io import check_output
        from ..transforms.yaota import RSA_WARNING, key_modulus, sign_ota, verify_ota

        target = output or file + ".ota"
        check_output(target, [file, key], default=not output, force=force)
        modulus = key_modulus(pem := _read(key, "key", KEY_MAX))
        data = sign_ota(_read(file, "main app"), pem, check_app=not force)
        _write(target, data, _ota_check(target, modulus, force))
        ota = verify_ota(data, modulus=modulus).ota
        grams, data_grams = len(ota.datagrams), len(ota.data_datagrams)
        sha1 = ota.computed_sha1.hex()
        _report({"input": file, "output": target, "written": True, "size": len(data),
                 "datagrams": grams, "data_datagrams": data_grams, "sha1": sha1,
                 "warning": RSA_WARNING},
                [f"wrote {target} ({len(data)} bytes)",
                 f"  - {data_grams} data datagrams of up to 256 bytes and "
                 f"3 end markers, each signed (all {grams} verified)",
                 f"  - file SHA-1 {sha1}",
                 f"  note: send it with: python3 ota_client.py ota {target} -a DEVICE_IP",
                 f"  note: {RSA_WARNING}"], json)
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=file)


def _ota_check(target: str, modulus: int, force: bool) -> Callable[[bytes], None]:
    """A signed .ota must verify before it is written (with --force: be intact)."""
    from ..errors import VerificationFailed
    from ..transforms.yaota import verify_ota

    def check(written: bytes) -> None:
        result = verify_ota(written, modulus=modulus)
        if not (result.intact if force else result.ok):
            raise VerificationFailed(f"refusing to write {target}: it does not verify")
    return check


# ---------------------------------------------------------------------- verify
def verify(
    file: Annotated[str, argument("The .ota file.", "FILE.ota")],
    key: Annotated[str | None, option("--key", metavar="FILE",
                                      help="priv.key or pub.key (PEM).")] = None,
    modulus: Annotated[str | None, option(
        "--modulus", metavar="MODULUS",
        help="The public modulus: hex, the config.h MODULUS string, or a config.h file.")
                       ] = None,
    json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> int:
    """Check a .ota file: its SHA-1, its datagrams, the app it carries and every signature.

    Exit 0 when everything passes, 1 when something fails (the failing datagram is named),
    2 when the file or key cannot be used. Without --key/--modulus signatures are not
    checked.

    Example: [bold]esp-image yaota verify firmware-ota.bin.ota --key priv.key[/bold]
    """
    def body() -> int:
        from ..transforms.yaota import verify_ota

        key_pem, n = _verification_key(key, modulus)
        result = verify_ota(_read(file, ".ota file"), key_pem=key_pem, modulus=n)
        if json:
            _report({"path": file, **result.to_dict()}, [], True)
        else:
            _report({}, _verify_lines(file, result, quiet), False)
        return EXIT_OK if result.ok else EXIT_DAMAGED
    return run_guarded(body, debug=debug, as_json=json, path=file)


def _verification_key(key: str | None, modulus: str | None) -> tuple[bytes | None, int | None]:
    """The PEM key or the modulus to check signatures with (--modulus: a value or a file)."""
    from ..transforms.yaota import parse_modulus

    if key and modulus:
        raise UsageError("give --key or --modulus, not both")
    if modulus is None:
        return (_read(key, "key", KEY_MAX) if key else None), None
    if not os.path.isfile(modulus):
        return None, parse_modulus(modulus)
    text = _read(modulus, "modulus file", KEY_MAX)
    if b"-----BEGIN" in text:
        return text, None
    return None, parse_modulus(text.decode("utf-8", "replace"))


def _verify_lines(path: str, result: OtaVerification, quiet: bool) -> list[str]:
    sigs = result.signature_checks
    bad = [c for c in result.checks if not c.valid]
    grams = len(result.ota.datagrams)
    summary = (f"{sum(c.valid for c in sigs)} of {grams} signatures valid"
               if result.signatures_verified else
               "signatures NOT checked (give --key or --modulus)")
    if result.ok:
        if quiet and result.signatures_verified:
            return []
        return [f"OK   {path}: yaota8266 .ota, {len(result.ota.data_datagrams)} data datagrams "
                f"+ {grams - len(result.ota.data_datagrams)} end markers, SHA-1 ok, {summary}"]
    lines = [f"FAIL {path}: {len(bad)} of {len(result.checks)} checks failed; {summary}"]
    if result.failed_datagram is not None:
        lines.append(f"     first failing datagram: {result.failed_datagram}")
    shown = bad[:20]
    lines += [f"     {c.name} at {c.offset:#x}: {c.detail}" for c in shown]
    if len(bad) > len(shown):
        lines.append(f"     ... and {len(bad) - len(shown)} more")
    return lines


# ---------------------------------------------------------------------- bundle
def bundle(
    yaota8266: Annotated[str, argument("yaota8266.bin (boot8266 + ota-server).",
                                       "YAOTA8266.bin")],
    main_app: Annotated[str, argument("The main app, firmware-ota.bin.", "FIRMWARE-OTA.bin")],
    output: Annotated[str | None, output_option(
        "The initial image (default: <main app>-initial.bin).")] = None,
    port: Port = "PORT",
    dry_run: DryRun = False, force: Force = False, json: Json = False, debug: Debug = False,
) -> int:
    """Build the initial full image (yaota8266.bin, then the main app at MAIN_APP_OFFSET).

    Checks the yaota8266 layout rules (bundle length equals MAIN_APP_OFFSET, ota-server irom
    at 0x9000, boot8266's check of the app, the app's link address) and prints the esptool
    command that flashes the result at 0x0.

    Example: [bold]esp-image yaota bundle yaota8266.bin firmware-ota.bin -o initial.bin[/bold]
    """
    def body() -> int:
        from ..io import check_output, output_name
        from ..transforms.yaota import initial_image_notes, make_initial_image, yaota_plan

        raw_bundle = _read(yaota8266, "yaota8266.bin")
        data = make_initial_image(raw_bundle, _read(main_app, "main app"))
        target = output or output_name(main_app, "initial")
        check_output(target, [yaota8266, main_app], default=not output, force=force)
        plan = yaota_plan(raw_bundle)
        command = plan.write_flash_command(port, {"initial": target})
        notes = initial_image_notes(raw_bundle, data)
        return emit_write(
            source=main_app, output=target, data=data, dry_run=dry_run, as_json=json,
            actions=[f"0x0: {yaota8266}", f"{plan.main_app_offset:#x}: {main_app}"],
            notes=notes, extra={"main_app_offset": plan.main_app_offset},
            flash_command=command)
    return run_guarded(body, debug=debug, as_json=json, path=main_app)


# ---------------------------------------------------------------------- layout yaota8266
def layout_yaota8266(
    bundle: Annotated[str | None, option(
        "--bundle", metavar="FILE",
        help="yaota8266.bin: use its real sizes and check it.")] = None,
    app: Annotated[str | None, option(
        "--app", metavar="FILE", help="firmware-ota.bin: show its size and boot8266 verdict.")
                   ] = None,
    port: Port = "PORT", json: Json = False, debug: Debug = False,
) -> int:
    """The yaota8266 flash plan, the esptool command and the steps of the OTA workflow.

    Example: [bold]esp-image layout yaota8266 --bundle yaota8266.bin --app
    firmware-ota.bin[/bold]
    """
    def body() -> int:
        from ..transforms.yaota import yaota_plan

        bundle_data = _read_bundle(bundle) if bundle else None
        app_data = _read_main_app(app) if app else None
        plan = yaota_plan(bundle_data, app_data)
        files = {k: v for k, v in (("yaota8266", bundle), ("main_app", app)) if v}
        if json:
            write_json(plan.to_dict(port, files))
        else:
            from .render import plain, plan_blocks

            blocks = plan_blocks("yaota8266 flash plan", plan, files, plan.notes,
                                 plan.write_flash_command(port, files))
            blocks += ["", "steps:"]
            blocks += [f"  {i}. {s}" for i, s in enumerate(plan.steps_for(port, files), 1)]
            sys.stdout.write(plain(blocks))
        errors = [i.message for i in plan.issues if i.is_error]
        if errors:
            error_line("refused: " + "; ".join(errors))
            return EXIT_DAMAGED
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=bundle)


def _read_bundle(path: str) -> bytes:
    from ..errors import InputError
    from ..yaota8266 import check_bundle

    data = _read(path, "yaota8266.bin")
    if check_bundle(data) is None:
        raise InputError(f"{path}: not yaota8266.bin (a bundle of boot8266 at 0x0 and "
                         "the ota-server at 0x1000)")
    return data


def _read_main_app(path: str) -> bytes:
    from ..errors import FormatError, InputError
    from ..yaota8266 import MainApp

    data = _read(path, "main app")
    try:
        MainApp.from_bytes(data)
    except FormatError as exc:
        raise InputError(f"{path}: not a yaota8266 main app (firmware-ota.bin): "
                         f"{exc.reason}") from None
    return data


# ---------------------------------------------------------------------- send
def send(
    file: Annotated[str, argument("The .ota update, or a main app (firmware-ota.bin) to "
                                  "sign with --key.", "FILE")],
    to: OtaHost,
    port: UdpPort = "8266",
    key: Annotated[str | None, option(
        "--key", metavar="FILE",
        help="priv.key: signs FILE when it is a main app; for a .ota file, every signature is "
             "checked with it first (pub.key works too).")] = None,
    timeout: AckTimeout = "0.3", retries: Retries = "30",
    force: Annotated[bool, force_option("Send an update whose payload is not a main app "
                                        "boot8266 boots.")] = False,
    json: Json = False, debug: Debug = False,
) -> int:
    """Send a yaota8266 update over the network to a device in OTA mode (ota_client.py ota).

    A .ota FILE is checked first (SHA-1, datagrams, the app it carries, and with --key every
    signature); any other FILE is signed with --key. Each datagram is resent until the device
    acknowledges it. A device that stays silent (not in OTA mode, another address, or
    rejecting the signatures) ends it with one line and exit 2.

    Example: [bold]esp-image yaota send firmware-ota.bin.ota --to 192.168.4.1[/bold]
    """
    def body() -> int:
        from ..yaota8266_send import prepare_update, send_update

        pem = _read(key, "key", KEY_MAX) if key else None
        udp_port, seconds, tries = _send_settings(port, timeout, retries)
        ota, signed = prepare_update(_read(file, "update"), pem, force=force)
        with _send_progress(json, len(ota.payload)) as progress:
            result = send_update(ota, to, udp_port, timeout=seconds, retries=tries,
                                 progress=progress)
        _report({"path": file, "signed": signed, **result.to_dict()},
                _send_lines(file, key if signed else None, result), json)
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=file)


def _send_settings(port: str, timeout: str, retries: str) -> tuple[int, float, int]:
    """--port, --timeout and --retries, checked."""
    import math

    udp_port = parse_int(port, "--port", "8266")
    tries = parse_int(retries, "--retries", "30")
    try:
        seconds = float(timeout)
    except ValueError:
        seconds = math.nan
    if not 0 < udp_port < 65536:
        raise UsageError(f"--port: {port} is not a UDP port (1 to 65535)")
    if not 0 < seconds <= 60:  # also refuses nan and inf
        raise UsageError(f"--timeout: {timeout!r} is not a number of seconds (0 < s <= 60)")
    if tries < 0:
        raise UsageError(f"--retries: {retries} is negative")
    return udp_port, seconds, tries


@contextmanager
def _send_progress(as_json: bool, total: int) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr when it is a terminal (and not --json), else nothing."""
    from .render import use_rich

    if as_json or not use_rich(sys.stderr):
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("sending", total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def _send_lines(path: str, key: str | None, result: SendResult) -> list[str]:
    lines = [f"sent {path} to {result.host}:{result.port}: {result.datagrams} datagrams "
             f"({result.payload_length} bytes) acknowledged, {result.end_markers} end "
             f"markers sent, in {result.seconds:.1f} s"]
    if key:
        lines.append(f"  - signed here with {key}")
    lines.append(f"  - {result.retransmits} datagrams resent after no answer, "
                 f"{result.stale_answers} late answers skipped")
    lines.append("  note: the device writes its last sector and reboots on the end marker, "
                 "without answering it: check that the new app is up")
    return lines
