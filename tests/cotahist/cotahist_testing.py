"""Test helpers: an independent line-by-line reference parser, file builders, the real-data folder.

The reference parser below is deliberately naive (plain Python, one line at a time) and shares
only the field positions with the library (and those are checked against the issue's text in
test_cotahist_layout.py). The fast parser must agree with it on every input.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from mfg_finance.cotahist.encode import cotahist_bytes, encode_records
from mfg_finance.cotahist.layout import COLUMNS, DETAIL_FIELDS, HEADER_FIELDS, TRAILER_FIELDS

TEST_DIR = Path(__file__).resolve().parent


def shared_data_dir() -> Path:
    """Real B3 files: ``../shared/data/cotahist`` beside the checkout, or ``$MFG_SHARED_DATA``."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cotahist"
    return Path(os.environ.get("MFG_SHARED_DATA", default))


# --- the reference parser -------------------------------------------------------------------

class Invalid(Exception):
    pass


def _ref_field(f, raw: bytes):
    if f.kind == "const":
        if raw != f.record.encode():
            raise Invalid
        return None
    if f.kind == "text":
        if any(b < 0x20 or 0x7F <= b < 0xA0 for b in raw):
            raise Invalid
        return raw.decode("latin-1").rstrip(" ")
    if f.kind == "int_or_blank" and raw.strip(b" ") == b"":
        return None
    if any(b < 0x30 or b > 0x39 for b in raw):
        raise Invalid
    value = int(raw.decode("ascii"))
    if f.kind == "date_or_never" and value == 99991231:
        return None
    if f.kind in ("date", "date_or_never"):
        year, month, day = value // 10000, value // 100 % 100, value % 100
        if not 1678 <= year <= 2261:
            raise Invalid
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise Invalid from None
    if f.name == "FATCOT" and value == 0:  # prices are per FATCOT shares
        raise Invalid
    return value / 10 ** f.decimals if f.decimals else value


def ref_record(line: bytes, fields) -> dict:
    """Decode one 245-byte line; :class:`Invalid` on any rule broken."""
    if len(line) != 245:
        raise Invalid
    values = {}
    for f in fields:
        value = _ref_field(f, line[f.start - 1:f.end])
        if f.column:
            values[f.column] = value
    return values


def ref_parse(data: bytes) -> tuple[bool, list[dict]]:
    """(whole file valid?, the valid quote records kept in quarantine mode, in file order)."""
    # One framing per file, by its first line end: CRLF files split at CRLF only (a lone LF is a
    # record byte), others at every LF with a CR before it dropped; a last unterminated line loses a
    # trailing CR either way.
    first_lf = data.find(b"\n")
    if first_lf > 0 and data[first_lf - 1:first_lf] == b"\r":
        pieces = data.split(b"\r\n")
        if data.endswith(b"\r\n"):
            pieces = pieces[:-1]
        elif pieces[-1].endswith(b"\r"):
            pieces[-1] = pieces[-1][:-1]
        lines = pieces if data else []
    else:
        pieces = data.split(b"\n")
        if data.endswith(b"\n"):
            pieces = pieces[:-1]
        lines = [p[:-1] if p.endswith(b"\r") else p for p in pieces] if data else []
    if not lines:
        return False, []
    valid = True
    header_line = 0 if len(lines[0]) == 245 and lines[0][:2] == b"00" else None
    last = len(lines) - 1
    trailer_line = last if (len(lines[last]) == 245 and lines[last][:2] == b"99"
                            and header_line != last) else None
    if header_line is None or trailer_line is None:
        valid = False
    if header_line is not None:
        try:
            ref_record(lines[0], HEADER_FIELDS)
        except Invalid:
            valid = False
    if trailer_line is not None:
        try:
            if ref_record(lines[last], TRAILER_FIELDS)["trailer_count"] != len(lines):
                valid = False
        except Invalid:
            valid = False
    kept = []
    for i, line in enumerate(lines):
        if i in (header_line, trailer_line):
            continue
        try:
            kept.append(ref_record(line, DETAIL_FIELDS))
        except Invalid:
            valid = False
    return valid, kept


# --- comparing DataFrames with reference records -----------------------------------------------

def _plain(value):
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def frame_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows of a parsed frame as tuples of plain Python values (dates as datetime.date)."""
    columns = [frame[c].astype(object).tolist() for c in COLUMNS]
    return [tuple(_plain(v) for v in row) for row in zip(*columns)]


def record_rows(records: list[dict]) -> list[tuple]:
    return [tuple(_plain(r[c]) for c in COLUMNS) for r in records]


# --- building files ---------------------------------------------------------------------------

def detail_values(n: int = 3) -> dict:
    """Raw field values of ``n`` plausible quote records (file units)."""
    k = np.arange(n)
    return {"DATPRE": 20210104 + k % 3, "CODBDI": 2, "CODNEG": [f"TEST{i % 9 + 3}" for i in range(n)],
            "TPMERC": 10, "NOMRES": "TEST SA", "ESPECI": "PN      N2", "PRAZOT": np.array([None] * n, dtype=object),
            "MODREF": "R$", "PREABE": 2865 + k, "PREMAX": 2918 + k, "PREMIN": 2853 + k, "PREMED": 2882 + k,
            "PREULT": 2891 + k, "PREOFC": 2890 + k, "PREOFV": 2891 + k, "TOTNEG": 9323 + k,
            "QUATOT": 74_719_700 + 100 * k, "VOLTOT": 215_376_875_800 + k, "PREEXE": 0, "INDOPC": 0,
            "DATVEN": 99991231, "FATCOT": 1, "PTOEXE": 0, "CODISI": "BRTESTACNPR0", "DISMES": 197}


def detail_lines(n: int = 3, **overrides) -> np.ndarray:
    values = detail_values(n)
    values.update(overrides)
    return encode_records("01", values, n)


def valid_file_bytes(n: int = 3, **overrides) -> bytes:
    return cotahist_bytes(detail_lines(n, **overrides), file_name="COTAHIST.2021", generation_date=20210129)


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\r\n")[:-1]


def join_lines(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\r\n" for line in lines)

