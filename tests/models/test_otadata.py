"""otadata: record layout, CRC, the bootloader's selection and ESP-IDF's switch.

Reference: shared/docs/formats/otadata.md (section numbers below refer to it).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zlib

import crcmod
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esp_image.errors import FormatError, LayoutError, TruncatedError
from esp_image.formats import otadata as fmt
from esp_image.otadata import (
    BootSelection,
    OtaData,
    OtaEntry,
    compute_ota_seq_for_target_slot,
    looks_like_otadata,
)

from ..conftest import ROOT, corpus_path, input_path

# Independent oracle (§3): written out here, not taken from fmt.CRCMOD_PARAMS.
CRCMOD_OTA = crcmod.mkCrcFun(0x104C11DB7, initCrc=0xFFFFFFFF, rev=True, xorOut=0xFFFFFFFF)

FF4 = 0xFFFFFFFF
LABEL_FF = b"\xff" * 20

# §1 golden record: seq = 1, state = VALID.
GOLDEN = bytes.fromhex(
    "01 00 00 00"  # 0x00 ota_seq = 1
    " ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff"  # 0x04 seq_label[20]
    " 02 00 00 00"  # 0x18 ota_state = VALID
    " 9a 98 43 47"  # 0x1C crc = 0x4743989A
)

# §3 test vectors: ota_seq -> (crc, stored bytes).
CRC_VECTORS = [
    (0x00000000, 0xFFFFFFFF, "ff ff ff ff"),
    (0x00000001, 0x4743989A, "9a 98 43 47"),
    (0x00000002, 0x55F63774, "74 37 f6 55"),
    (0x00000003, 0xED4A5011, "11 50 4a ed"),
    (0x00000004, 0x709D68A8, "a8 68 9d 70"),
    (0x00000005, 0xC8210FCD, "cd 0f 21 c8"),
    (0x00000006, 0xDA94A023, "23 a0 94 da"),
    (0x00000010, 0xAFE6A860, "60 a8 e6 af"),
    (0x7FFFFFFF, 0xCCFC5C3C, "3c 5c fc cc"),
    (0xFFFFFFFE, 0x99F8B879, "79 b8 f8 99"),
    (0xFFFFFFFF, 0x2144DF1C, "1c df 44 21"),
]

# Espressif's "crc quick check" (esp_rom/test_apps/linux_rom_apis/main/rom_test.cpp).
ROM_KAT_INPUT = bytes(
    [0x01, 0x21, 0x09, 0xFF, 0x63, 0x65, 0x72, 0x74, 0x69, 0x66, 0x69, 0x63, 0x61, 0x74,
     0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE5, 0x00, 0xFF, 0xFF, 0x06, 0xBA, 0xE7, 0xA1]
)  # fmt: skip
ROM_KAT_CRC = 0xD4DC5010


def entry(seq: int, state: int = fmt.UNDEFINED, crc: int | None = None) -> OtaEntry:
    """A record with the correct CRC unless ``crc`` is given."""
    return OtaEntry(seq, state, fmt.ota_crc(seq) if crc is None else crc)


ERASED = OtaEntry.erased()


def od(e0: OtaEntry, e1: OtaEntry) -> OtaData:
    return OtaData((e0, e1))


def sel(data: OtaData, n: int = 2, factory: bool = False) -> BootSelection:
    return data.select(ota_slot_count=n, has_factory=factory)


# --- §1 layout ----------------------------------------------------------------------------


def test_golden_record_parse() -> None:
    c = fmt.OtaSelectEntry.parse(GOLDEN)
    assert (c.ota_seq, c.seq_label, c.ota_state, c.crc) == (1, LABEL_FF, 2, 0x4743989A)


def test_golden_record_build_and_sizeof() -> None:
    built = fmt.OtaSelectEntry.build(
        {"ota_seq": 1, "seq_label": LABEL_FF, "ota_state": 2, "crc": 0x4743989A}
    )
    assert built == GOLDEN
    assert fmt.OtaSelectEntry.sizeof() == fmt.ENTRY_SIZE == 32
    assert fmt.OtaSelectSector.sizeof() == fmt.SECTOR == 0x1000
    assert fmt.OtaData.sizeof() == fmt.OTADATA_SIZE == 0x2000


def test_golden_record_model() -> None:
    e = OtaEntry.from_bytes(GOLDEN)
    assert e == OtaEntry(1, fmt.VALID, 0x4743989A, LABEL_FF)
    assert e.to_bytes() == GOLDEN
    assert OtaEntry.make(1, fmt.VALID).to_bytes() == GOLDEN
    assert (e.state_name, e.crc_ok, e.is_valid, e.is_erased) == ("valid", True, True, False)


def test_sector_builds_erased_tail_by_default() -> None:
    built = fmt.OtaSelectSector.build({"entry": fmt.OtaSelectEntry.parse(GOLDEN)})
    assert built == GOLDEN + b"\xff" * (0x1000 - 32)


def test_constants() -> None:
    assert (fmt.NEW, fmt.PENDING_VERIFY, fmt.VALID, fmt.INVALID, fmt.ABORTED) == (0, 1, 2, 3, 4)
    assert fmt.UNDEFINED == fmt.SEQ_ERASED == 0xFFFFFFFF


# --- §3 CRC -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq", "crc", "stored"), CRC_VECTORS, ids=[hex(v[0]) for v in CRC_VECTORS]
)
def test_crc_vector_zlib(seq: int, crc: int, stored: str) -> None:
    assert fmt.ota_crc(seq) == crc
    assert crc.to_bytes(4, "little") == bytes.fromhex(stored)


@pytest.mark.parametrize(
    ("seq", "crc", "stored"), CRC_VECTORS, ids=[hex(v[0]) for v in CRC_VECTORS]
)
def test_crc_vector_crcmod(seq: int, crc: int, stored: str) -> None:
    assert CRCMOD_OTA(seq.to_bytes(4, "little")) == crc


def test_espressif_rom_known_answer() -> None:
    assert len(ROM_KAT_INPUT) == 28
    assert fmt.ota_crc_bytes(ROM_KAT_INPUT) == ROM_KAT_CRC
    assert CRCMOD_OTA(ROM_KAT_INPUT) == ROM_KAT_CRC


def test_check_value_123456789() -> None:
    assert fmt.ota_crc_bytes(b"123456789") == 0xD202D277 == fmt.CRC_CHECK
    assert CRCMOD_OTA(b"123456789") == 0xD202D277
    assert zlib.crc32(b"123456789") == 0xCBF43926  # standard CRC-32 differs


def test_plain_zlib_pitfall() -> None:
    wrong = zlib.crc32((1).to_bytes(4, "little"))
    assert wrong == 0x99F8B879
    assert fmt.ota_crc(1) != wrong


def test_documented_crcmod_params_match_oracle() -> None:
    fun = crcmod.mkCrcFun(**fmt.CRCMOD_PARAMS)
    for data in (b"", b"123456789", ROM_KAT_INPUT, bytes(range(256))):
        assert fun(data) == CRCMOD_OTA(data) == fmt.ota_crc_bytes(data)


@given(st.integers(0, 0xFFFFFFFF))
def test_crc_zlib_equals_crcmod(seq: int) -> None:
    assert fmt.ota_crc(seq) == CRCMOD_OTA(seq.to_bytes(4, "little"))


def test_crcmod_not_imported_at_import_time() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'crcmod':\n"
        "            raise ImportError('crcmod imported at import time')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import esp_image.otadata, esp_image.formats.otadata\n"
        "assert 'crcmod' not in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


# --- §4 validity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "valid"),
    [
        (fmt.NEW, True),
        (fmt.PENDING_VERIFY, True),
        (fmt.VALID, True),
        (fmt.UNDEFINED, True),
        (0x1234, True),
        (fmt.INVALID, False),
        (fmt.ABORTED, False),
    ],
)
def test_validity_by_state(state: int, valid: bool) -> None:
    e = entry(5, state)
    assert e.is_valid is valid
    assert e.is_invalid is not valid


def test_invalid_predicate_ignores_crc() -> None:
    e = entry(5, fmt.VALID, crc=0)
    assert not e.is_invalid
    assert not e.is_valid
    assert not e.crc_ok


def test_erased_record_is_invalid_even_with_matching_crc() -> None:
    e = entry(FF4, fmt.VALID)  # seq 0xFFFFFFFF with its correct CRC 0x2144DF1C
    assert e.crc_ok and e.is_erased and e.is_invalid and not e.is_valid


def test_state_names() -> None:
    names = [entry(1, s).state_name for s in (0, 1, 2, 3, 4, FF4, 0x1234)]
    assert names == ["new", "pending_verify", "valid", "invalid", "aborted", "undefined", "0x1234"]
    assert entry(1, 0x1234).ota_state == 0x1234


def test_entry_rejects_unrepresentable_fields() -> None:
    with pytest.raises(FormatError):
        OtaEntry(-1, 0, 0)
    with pytest.raises(FormatError):
        OtaEntry(1, 1 << 32, 0)
    with pytest.raises(FormatError):
        OtaEntry(1, 0, 0, b"\xff" * 19)


def test_entry_to_dict_is_json() -> None:
    d = entry(1).to_dict()
    json.dumps(d)
    assert d["ota_seq"] == 1 and d["crc"] == 0x4743989A and d["state"] == "undefined"
    assert d["valid"] is True and d["seq_label"] == "ff" * 20


# --- §5.3 selection edge cases (one test per row) -----------------------------------------


def test_select_both_erased_with_factory() -> None:
    s = sel(OtaData.erased(), factory=True)
    assert (s.slot, s.copy, s.factory_fallback, s.seeding) == (None, None, True, False)
    assert s.target == "factory"


def test_select_both_erased_without_factory_boots_ota0_and_seeds() -> None:
    s = sel(OtaData.erased(), factory=False)
    assert (s.slot, s.copy, s.factory_fallback, s.seeding) == (0, None, False, True)


def test_select_copy0_seq1_undefined_copy1_erased() -> None:
    s = sel(od(entry(1, fmt.UNDEFINED), ERASED))
    assert (s.slot, s.copy) == (0, 0)
    assert s.reason.startswith("copy 0 valid, seq 1 → (1−1) mod 2 = slot 0")


def test_select_seq0_record_with_erased_looking_crc_is_valid() -> None:
    seq0 = OtaEntry(0, FF4, 0xFFFFFFFF)
    assert seq0.is_valid
    s = sel(od(entry(1, fmt.UNDEFINED), seq0))
    assert (s.slot, s.copy) == (0, 0)


@pytest.mark.parametrize(("n", "slot"), [(2, 1), (3, 0), (4, 3)])
def test_select_only_seq0_valid_wraps_u32(n: int, slot: int) -> None:
    s = sel(od(ERASED, OtaEntry(0, FF4, 0xFFFFFFFF)), n=n)
    assert (s.slot, s.copy) == (slot, 1)
    assert "0xffffffff" in s.reason


@pytest.mark.parametrize("factory", [True, False])
def test_select_both_bad_crc_falls_back_to_factory(factory: bool) -> None:
    s = sel(od(entry(1, crc=0x12345678), entry(2, crc=0)), factory=factory)
    assert (s.slot, s.copy, s.factory_fallback, s.seeding) == (None, None, True, False)
    if not factory:
        assert "every OTA slot" in s.reason


@pytest.mark.parametrize("bad_state", [fmt.INVALID, fmt.ABORTED])
@pytest.mark.parametrize("bad_copy", [0, 1])
def test_select_one_invalid_or_aborted_other_valid(bad_state: int, bad_copy: int) -> None:
    bad = entry(6, bad_state)  # larger seq: would select slot 1
    good = entry(3, fmt.VALID)  # (3-1) mod 2 = slot 0
    pair = (bad, good) if bad_copy == 0 else (good, bad)
    s = sel(od(*pair))
    assert (s.slot, s.copy) == (0, 1 - bad_copy)


@pytest.mark.parametrize("factory", [True, False])
def test_select_both_invalid_or_aborted_treated_as_erased(factory: bool) -> None:
    s = sel(od(entry(1, fmt.INVALID), entry(2, fmt.ABORTED)), factory=factory)
    assert s.copy is None
    assert s.slot == (None if factory else 0)
    assert not s.seeding  # CRCs are good: not "initial contents"


def test_select_both_aborted_with_bad_crcs_seeds() -> None:
    s = sel(od(entry(1, fmt.ABORTED, crc=0), entry(2, fmt.INVALID, crc=0)))
    assert (s.slot, s.seeding) == (0, True)


def test_select_app_count_zero_with_factory() -> None:
    s = sel(od(entry(1), entry(2)), n=0, factory=True)
    assert (s.slot, s.copy, s.factory_fallback) == (None, None, True)
    assert "app_count 0" in s.reason


def test_select_app_count_zero_without_factory_tries_ota0() -> None:
    s = sel(od(entry(1), entry(2)), n=0, factory=False)
    assert (s.slot, s.copy, s.seeding) == (0, None, False)


def test_select_noncontiguous_subtypes_use_app_count_as_given() -> None:
    # ota_0 and ota_2 only: app_count = 2, seq 2 selects slot 1 (bs->ota[1], size 0). Flagging
    # the gap is the partition table's job; select() must report the bootloader's index.
    assert sel(od(entry(2), ERASED), n=2).slot == 1


def test_select_equal_seq_picks_copy0() -> None:
    s = sel(od(entry(2, fmt.VALID), entry(2, fmt.UNDEFINED)))
    assert (s.slot, s.copy) == (1, 0)
    assert "tie" in s.reason


@pytest.mark.parametrize(("seq", "n", "slot"), [(7, 2, 0), (8, 3, 1), (0xFFFFFFFE, 2, 1)])
def test_select_seq_larger_than_app_count(seq: int, n: int, slot: int) -> None:
    assert sel(od(ERASED, entry(seq)), n=n).slot == slot


def test_select_larger_seq_wins() -> None:
    s = sel(od(entry(2), entry(3)))
    assert (s.slot, s.copy) == (0, 1)
    assert s.reason.startswith("copy 1 valid, seq 3 → (3−1) mod 2 = slot 0")


def test_select_rejects_bad_slot_count() -> None:
    with pytest.raises(LayoutError):
        sel(OtaData.erased(), n=17)
    with pytest.raises(LayoutError):
        sel(OtaData.erased(), n=-1)


# ESP-IDF's rule vs the "only VALID counts" mistake (peers.md D6).


@pytest.mark.parametrize("state", [fmt.UNDEFINED, fmt.NEW, fmt.PENDING_VERIFY, 0x77])
def test_non_valid_states_count_as_valid(state: int) -> None:
    s = sel(od(entry(1, fmt.VALID), entry(2, state)))
    assert (s.slot, s.copy) == (1, 1)  # "only VALID counts" would say slot 0


def test_pending_note_for_new() -> None:
    s = sel(od(entry(1, fmt.VALID), entry(2, fmt.NEW)))
    assert s.pending_note is not None and "pending_verify" in s.pending_note
    assert s.slot == 1


def test_pending_note_for_pending_verify_names_rollback_target() -> None:
    s = sel(od(entry(1, fmt.VALID), entry(2, fmt.PENDING_VERIFY)))
    assert s.slot == 1
    assert s.pending_note is not None
    assert "aborted" in s.pending_note and "ota_0 instead" in s.pending_note


def test_no_pending_note_for_final_states() -> None:
    assert sel(od(entry(1, fmt.VALID), entry(2, fmt.UNDEFINED))).pending_note is None


def test_selection_to_dict() -> None:
    d = sel(od(entry(1), ERASED)).to_dict()
    json.dumps(d)
    assert d["slot"] == 0 and d["target"] == "ota_0" and d["copy"] == 0


def test_active_copy() -> None:
    assert od(entry(1), entry(2)).active_copy() == 1
    assert od(entry(2), entry(2)).active_copy() == 0
    assert od(entry(3), entry(2, crc=0)).active_copy() == 0
    assert OtaData.erased().active_copy() is None


# --- §6 switch ----------------------------------------------------------------------------


def test_switch_example_seq1_to_slot1() -> None:
    start = od(entry(1, fmt.VALID), ERASED)
    new = start.switch(1, ota_slot_count=2)
    assert new.entries[0] == start.entries[0]
    assert new.entries[1] == OtaEntry(2, fmt.UNDEFINED, 0x55F63774)
    assert sel(new).slot == 1


def test_switch_example_seq2_in_copy1_to_slot0() -> None:
    start = od(entry(1), entry(2))
    new = start.switch(0, ota_slot_count=2)
    assert new.entries[0] == OtaEntry.make(3, fmt.UNDEFINED)
    assert new.entries[1] == start.entries[1]
    assert sel(new).slot == 0


def test_switch_rollback_writes_new() -> None:
    new = od(entry(1), ERASED).switch(1, ota_slot_count=2, rollback=True)
    assert new.entries[1].ota_state == fmt.NEW


def test_switch_to_same_slot_updates_state_in_place() -> None:
    start = od(entry(1, fmt.VALID), entry(4, fmt.INVALID))
    new = start.switch(0, ota_slot_count=2, rollback=True)
    assert new.entries[0] == OtaEntry.make(1, fmt.NEW)
    assert new.entries[1] == start.entries[1]


@pytest.mark.parametrize(("slot", "n"), [(0, 2), (1, 2), (2, 4)])
def test_switch_from_erased_writes_copy0(slot: int, n: int) -> None:
    new = OtaData.erased().switch(slot, ota_slot_count=n)
    assert new.entries == (OtaEntry.make(slot + 1, fmt.UNDEFINED), ERASED)
    assert sel(new, n=n).slot == slot


def test_switch_keeps_label_and_erases_target_sector() -> None:
    label = bytes(range(20))
    junk = b"\x00" * fmt.TAIL_SIZE
    start = OtaData((entry(1), OtaEntry(7, fmt.ABORTED, 0, label)), (junk, junk))
    new = start.switch(1, ota_slot_count=2)
    assert new.entries[1].seq_label == label
    assert new.sectors == (junk, fmt.ERASED_TAIL)


def test_switch_never_keeps_stale_invalid_state() -> None:
    # otatool.py keeps the old state of the other copy (§7.2); we must not.
    start = od(entry(1), OtaEntry.make(2, fmt.INVALID))
    new = start.switch(1, ota_slot_count=2)
    assert new.entries[1].ota_state == fmt.UNDEFINED
    assert sel(new).slot == 1


@pytest.mark.parametrize(("slot", "n"), [(2, 2), (-1, 2), (0, 0), (0, 17)])
def test_switch_rejects_out_of_range(slot: int, n: int) -> None:
    with pytest.raises(LayoutError):
        OtaData.erased().switch(slot, ota_slot_count=n)


def test_switch_refuses_seq_overflow() -> None:
    with pytest.raises(LayoutError, match="not a valid sequence number"):
        od(entry(0xFFFFFFFE), ERASED).switch(0, ota_slot_count=2)


def test_switch_refuses_seq0_wraparound() -> None:
    # Only seq 0 valid, n = 3: selects slot 0; ESP-IDF's rule for slot 2 gives seq 0 again.
    start = od(ERASED, OtaEntry(0, FF4, 0xFFFFFFFF))
    assert sel(start, n=3).slot == 0
    with pytest.raises(LayoutError, match="would then boot ota_0"):
        start.switch(2, ota_slot_count=3)


def test_set_factory_erases_everything() -> None:
    assert od(entry(1), entry(2)).set_factory().to_bytes() == b"\xff" * 0x2000


def _esp_idf_loop(current: int, slot: int, n: int) -> int:
    """compute_ota_seq_for_target_slot as written in esp_ota_ops.c (no u32 overflow here)."""
    i = 0
    base = (slot + 1) % n
    while current > base + i * n:
        i += 1
    return base + i * n


@given(st.integers(0, 5000), st.integers(1, 16), st.data())
def test_compute_seq_matches_esp_idf_loop(current: int, n: int, data: st.DataObject) -> None:
    slot = data.draw(st.integers(0, n - 1))
    assert compute_ota_seq_for_target_slot(current, slot, n) == _esp_idf_loop(current, slot, n)


U32 = st.integers(0, 0xFFFFFFFF)
SEQS = st.one_of(st.integers(0, 64), U32, st.just(FF4), st.integers(0xFFFFFFF0, 0xFFFFFFFF))
STATES = st.one_of(st.sampled_from(sorted(fmt.STATE_NAMES)), U32)


@st.composite
def entries(draw: st.DrawFn) -> OtaEntry:
    seq = draw(SEQS)
    crc = fmt.ota_crc(seq) if draw(st.booleans()) else draw(U32)
    label = draw(st.one_of(st.just(LABEL_FF), st.binary(min_size=20, max_size=20)))
    return OtaEntry(seq, draw(STATES), crc, label)


@settings(max_examples=400)
@given(entries(), entries(), st.integers(1, 16), st.data(), st.booleans(), st.booleans())
def test_switch_then_select_boots_target(
    e0: OtaEntry, e1: OtaEntry, n: int, data: st.DataObject, rollback: bool, factory: bool
) -> None:
    slot = data.draw(st.integers(0, n - 1))
    start = od(e0, e1)
    try:
        new = start.switch(slot, ota_slot_count=n, rollback=rollback)
    except LayoutError:
        # Only the two documented impossibilities may refuse.
        active = start.active_copy()
        assert active is not None
        current = start.entries[active].ota_seq
        overflow = compute_ota_seq_for_target_slot(current, slot, n) >= FF4
        seq0_wrap = current == 0 and slot == n - 1 and (n & (n - 1)) != 0
        assert overflow or seq0_wrap
        return
    assert sel(new, n=n, factory=factory).slot == slot
    changed = [
        i
        for i in (0, 1)
        if (new.entries[i], new.sectors[i]) != (start.entries[i], start.sectors[i])
    ]
    assert len(changed) <= 1
    for i in changed:
        rec = new.entries[i]
        assert rec.ota_state == (fmt.NEW if rollback else fmt.UNDEFINED)
        assert rec.crc_ok
        assert rec.seq_label == start.entries[i].seq_label
        assert new.sectors[i] == fmt.ERASED_TAIL


# --- whole partition: bytes, checks, sniff ------------------------------------------------


@st.composite
def sectors(draw: st.DrawFn) -> bytes:
    """A 4 KiB sector: any 32-byte record, then an erased tail with random patches."""
    record = draw(st.binary(min_size=32, max_size=32))
    tail = bytearray(fmt.ERASED_TAIL)
    for pos, value in draw(
        st.lists(st.tuples(st.integers(0, fmt.TAIL_SIZE - 1), st.integers(0, 255)))
    ):
        tail[pos] = value
    return record + bytes(tail)


@given(sectors(), sectors())
def test_round_trip_any_0x2000_bytes(s0: bytes, s1: bytes) -> None:
    data = s0 + s1
    assert OtaData.from_bytes(data).to_bytes() == data


@given(st.integers(0, 2**64))
def test_round_trip_random_bytes(seed: int) -> None:
    data = random.Random(seed).randbytes(0x2000)
    assert OtaData.from_bytes(data).to_bytes() == data


def test_round_trip_keeps_wrong_crc_and_seq0() -> None:
    data = od(entry(1, crc=0xDEADBEEF), OtaEntry(0, FF4, 0xFFFFFFFF)).to_bytes()
    back = OtaData.from_bytes(data)
    assert back.entries[0].crc == 0xDEADBEEF
    assert back.to_bytes() == data


def test_from_bytes_accepts_memoryview() -> None:
    data = od(entry(1), ERASED).to_bytes()
    assert OtaData.from_bytes(memoryview(data)).to_bytes() == data


@pytest.mark.parametrize("size", [0, 31, 0x1000, 0x1FFF])
def test_truncated(size: int) -> None:
    with pytest.raises(TruncatedError):
        OtaData.from_bytes(b"\xff" * size)


def test_too_long_is_format_error_not_truncated() -> None:
    with pytest.raises(FormatError) as info:
        OtaData.from_bytes(b"\xff" * 0x2001)
    assert not isinstance(info.value, TruncatedError)


def test_erased() -> None:
    e = OtaData.erased()
    assert e.to_bytes() == b"\xff" * 0x2000
    assert e.is_erased
    assert OtaData.from_bytes(b"\xff" * 0x2000).is_erased
    assert not od(entry(1), ERASED).is_erased
    assert e.checks() == []


def test_checks_offsets_and_detail() -> None:
    checks = od(entry(1), entry(2, fmt.VALID, crc=0)).checks(offset=0xE000)
    assert [(c.name, c.valid, c.offset) for c in checks] == [
        ("otadata-crc", True, 0xE000),
        ("otadata-crc", False, 0xF000),
    ]
    assert checks[0].detail == (
        "copy 0: seq 1, state undefined, stored 0x4743989a, computed 0x4743989a"
    )
    assert checks[1].detail == "copy 1: seq 2, state valid, stored 0x00000000, computed 0x55f63774"


def test_checks_skip_erased_record() -> None:
    checks = od(ERASED, entry(1)).checks()
    assert [c.offset for c in checks] == [0x1000]


def test_otadata_to_dict() -> None:
    d = od(entry(1), ERASED).to_dict()
    json.dumps(d)
    assert d["active_copy"] == 0 and d["erased"] is False
    copies = d["copies"]
    assert isinstance(copies, list)
    assert [c["offset"] for c in copies] == [0, 0x1000]
    assert [c["ota_seq"] for c in copies] == [1, FF4]


def test_looks_like_synthetic() -> None:
    assert looks_like_otadata(od(entry(1), ERASED).to_bytes())
    assert looks_like_otadata(memoryview(od(ERASED, entry(5, crc=0)).to_bytes()))  # known state
    assert not looks_like_otadata(OtaData.erased().to_bytes())
    assert not looks_like_otadata(od(entry(1), ERASED).to_bytes() + b"\xff")
    assert not looks_like_otadata(od(entry(1), ERASED).to_bytes()[:-1])


def test_looks_like_rejects_unknown_state_with_bad_crc() -> None:
    assert not looks_like_otadata(od(entry(1, 0x1234, crc=0), ERASED).to_bytes())


def test_looks_like_erased_means_whole_record() -> None:
    # seq 0xFFFFFFFF alone does not make a garbage record "erased" for the sniff.
    garbage = OtaEntry(FF4, 0x1234, 0, bytes(20))
    assert not looks_like_otadata(od(entry(1), garbage).to_bytes())
    assert looks_like_otadata(od(entry(1), ERASED).to_bytes())


def test_looks_like_rejects_written_tail() -> None:
    tail = b"\xff" * (fmt.TAIL_SIZE - 1) + b"\x00"
    assert not looks_like_otadata(OtaData((entry(1), ERASED), (fmt.ERASED_TAIL, tail)).to_bytes())


@given(st.integers(0, 2**64))
def test_random_bytes_are_not_otadata(seed: int) -> None:
    assert not looks_like_otadata(random.Random(seed).randbytes(0x2000))


@given(sectors(), sectors())
def test_looks_like_matches_record_rule(s0: bytes, s1: bytes) -> None:
    data = s0 + s1

    def record_ok(rec: OtaEntry, raw: bytes) -> bool:
        return raw == b"\xff" * 32 or rec.crc_ok or rec.ota_state in fmt.STATE_NAMES

    ota = OtaData.from_bytes(data)
    expected = (
        ota.sectors == (fmt.ERASED_TAIL, fmt.ERASED_TAIL)
        and record_ok(ota.entries[0], s0[:32])
        and record_ok(ota.entries[1], s1[:32])
        and data != b"\xff" * 0x2000
    )
    assert looks_like_otadata(data) is expected


# --- corruption ---------------------------------------------------------------------------


def _flip(data: bytes, pos: int) -> bytes:
    out = bytearray(data)
    out[pos] ^= 0xFF
    return bytes(out)


@pytest.mark.corpus
@pytest.mark.parametrize("copy", [0, 1])
@pytest.mark.parametrize("field_byte", [0, 1, 2, 3, 28, 29, 30, 31])
def test_flipped_seq_or_crc_byte_fails_that_copy(copy: int, field_byte: int) -> None:
    data = corpus_path("ard106_boot_app0.bin").read_bytes()
    bad = _flip(data, copy * 0x1000 + field_byte)
    ota = OtaData.from_bytes(bad)
    assert ota.to_bytes() == bad
    by_offset = {c.offset: c.valid for c in ota.checks()}
    assert by_offset[copy * 0x1000] is False
    assert by_offset[(1 - copy) * 0x1000] is True
    assert not ota.entries[copy].is_valid


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["knot_otadata_boot_from_ota0.bin", "otadata-ota0.bin"])
def test_flipped_crc_in_only_copy_falls_back(name: str) -> None:
    data = input_path(name).read_bytes()
    ota = OtaData.from_bytes(_flip(data, 0x1C))
    s = sel(ota, factory=True)
    assert (s.slot, s.factory_fallback) == (None, True)


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["knot_otadata_boot_from_ota0.bin", "otadata-ota0.bin"])
def test_truncated_corpus_file(name: str) -> None:
    data = input_path(name).read_bytes()
    with pytest.raises(TruncatedError):
        OtaData.from_bytes(data[:-1])


# --- §8 corpus files ----------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_ard106_boot_app0() -> None:
    data = corpus_path("ard106_boot_app0.bin").read_bytes()
    ota = OtaData.from_bytes(data)
    assert len(data) == 0x2000
    assert ota.entries[0] == OtaEntry(1, FF4, 0x4743989A, LABEL_FF)
    assert ota.entries[1] == OtaEntry(0, FF4, 0xFFFFFFFF, LABEL_FF)
    assert ota.entries[0].is_valid and ota.entries[1].is_valid  # the seq-0 quirk
    assert ota.sectors == (fmt.ERASED_TAIL, fmt.ERASED_TAIL)
    assert [c.valid for c in ota.checks(0xE000)] == [True, True]
    s = sel(ota, n=2, factory=False)
    assert (s.slot, s.copy) == (0, 0)
    assert ota.to_bytes() == data
    assert looks_like_otadata(data)


@pytest.mark.corpus
def test_corpus_knot_boot_from_ota0() -> None:
    data = corpus_path("knot_otadata_boot_from_ota0.bin").read_bytes()
    ota = OtaData.from_bytes(data)
    assert ota.entries == (OtaEntry(1, FF4, 0x4743989A, LABEL_FF), ERASED)
    assert ota.entries[0].state_name == "undefined"
    assert [(c.offset, c.valid) for c in ota.checks()] == [(0, True)]
    # knot's table has ota_0, ota_1 and a factory app: otadata still selects ota_0.
    s = sel(ota, n=2, factory=True)
    assert (s.slot, s.copy, s.factory_fallback) == (0, 0, False)
    assert ota.to_bytes() == data
    assert looks_like_otadata(data)


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["ard106_boot_app0.bin", "knot_otadata_boot_from_ota0.bin"])
def test_corpus_undefined_state_counts(name: str) -> None:
    # The "only VALID counts" mistake would find no valid copy and boot factory / ota_0.
    ota = OtaData.from_bytes(corpus_path(name).read_bytes())
    assert ota.entries[0].ota_state == fmt.UNDEFINED
    assert ota.active_copy() == 0
    s = sel(ota, n=2, factory=True)
    assert (s.slot, s.copy) == (0, 0)


@pytest.mark.corpus
def test_corpus_switch_round_trip() -> None:
    ota = OtaData.from_bytes(corpus_path("ard106_boot_app0.bin").read_bytes())
    new = ota.switch(1, ota_slot_count=2)
    assert new.entries[0] == ota.entries[0]
    assert new.entries[1] == OtaEntry.make(2, fmt.UNDEFINED)
    assert sel(new).slot == 1
    assert looks_like_otadata(new.to_bytes())
