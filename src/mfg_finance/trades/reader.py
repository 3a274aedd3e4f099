"""Reading B3 trade-by-trade files into a typed DataFrame: :func:`parse_session`, :func:`read_trades`.

One file (one session) is read in five vectorized steps: the bytes (a ``.TXT`` or a ZIP holding one
file, :mod:`mfg_finance.cotahist.source`), the line ends (NumPy), the layout (recognised by the
first line: ``RH NEG`` header or the NEGOCIOS column names), every trade line validated and
converted in one compiled pass (:mod:`.kernels`), and the instrument codes factorized
(:mod:`.tickers`). Each problem is a :class:`~.rejects.Reject`; with ``strict=True`` the first
in line order is raised as :class:`~mfg_finance.errors.TradesError`, with ``strict=False`` the bad
lines are left out and listed (quarantine).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from mfg_finance.cotahist.source import read_source
from mfg_finance.errors import CotahistError, TradesError
from mfg_finance.trades import kernels
from mfg_finance.trades.fields import FieldValueError, decode_date
from mfg_finance.trades.layout import (COLUMNS, KIND_CODES, NEG_FIELDS, NEG_HEADER, NEG_HEADER_BYTES,
                                       NEG_LINE_BYTES, NEG_OFFSETS, NEG_TRAILER, NEGOCIOS_FIELDS,
                                       NEGOCIOS_HEADER, NEGOCIOS_MAX_DECIMALS)
from mfg_finance.trades.rejects import Reject, neg_rejects, negocios_rejects
from mfg_finance.trades.tickers import factorize_symbols, union_categoricals

PathLike = str | os.PathLike

NEG = "neg"
NEGOCIOS = "negocios"
_OUT_COLUMNS = ("date", "trade_id", "price", "price_decimals", "quantity", "time", "cancelled", "buy_condition",
                "sell_condition", "buyer", "seller")
_ROW = {c: i for i, c in enumerate(_OUT_COLUMNS)}
_EXACT_INT = 2 ** 53
_NS_PER_DAY = 86_400_000_000_000
_BOM = b"\xef\xbb\xbf"


def _spec(fields):
    kinds = np.array([KIND_CODES[f.kind] for f in fields], dtype=np.int64)
    rows = np.array([_ROW.get(f.column, -1) if f.column else -1 for f in fields], dtype=np.int64)
    return kinds, rows


_NEG_KINDS, _NEG_ROWS = _spec(NEG_FIELDS)
_NEG_OFFS = np.array(NEG_OFFSETS, dtype=np.int64)
_NEG_WIDTHS = np.array([f.width for f in NEG_FIELDS], dtype=np.int64)
_NEGOCIOS_KINDS, _NEGOCIOS_ROWS = _spec(NEGOCIOS_FIELDS)


@dataclass
class TradeSession:
    """One session file, read.

    Attributes
    ----------
    trades : pandas.DataFrame
        Columns as in :func:`read_trades`, sorted by (ticker, time, trade_id).
    summary : dict
        JSON-able: name, path, size_bytes, sha256, zip_member, layout (``neg`` | ``negocios``),
        session_date (ISO), lines, trades, cancelled, rejected, n_tickers, has_side, and for NEG
        files header_lines (the count the header/trailer carry).
    rejects : list of Reject
        Every problem found (empty with ``strict=True``).
    """

    trades: pd.DataFrame
    summary: dict
    rejects: list[Reject]


def _lines(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of every line (end excludes the LF and a CR before it)."""
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [buf.size])).astype(np.int64)
    if starts[-1] == buf.size:  # the file ends with a line end
        starts, ends = starts[:-1], ends[:-1]
    if ends.size:
        cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        ends = ends - cr
    return starts, ends


def _layout(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, path: str) -> str:
    if starts.size == 0:
        raise TradesError("empty file: expected a header line ('RH NEG ...' or the NEGOCIOS column names)",
                          path=path, line=1)
    first = bytes(buf[starts[0]:ends[0]])
    if first[:2] == NEG_HEADER:
        return NEG
    if first.removeprefix(_BOM).decode("latin-1") == NEGOCIOS_HEADER:
        return NEGOCIOS
    raise TradesError(f"unknown layout: line 1 is {first[:120].decode('latin-1')!r}; expected a NEG header "
                      f"('RH NEG ...') or the NEGOCIOS header {NEGOCIOS_HEADER!r}", path=path, line=1)


def _neg_frame_line(raw: bytes, tag: bytes, line: int, path: str, rejects: list[Reject]) -> dict | None:
    """Decode a NEG header/trailer line (``RH``/``RT``): dates and the line count it carries."""
    where = "header" if tag == NEG_HEADER else "trailer"
    if len(raw) != NEG_HEADER_BYTES or raw[:2] != tag or raw[2:7] != b" NEG ":
        rejects.append(Reject(line, path, where, f"{raw[:60].decode('latin-1')!r} is not a NEG {where} "
                              f"({tag.decode()} NEG ..., {NEG_HEADER_BYTES} bytes)", False))
        return None
    try:
        first, last = decode_date(raw[23:33]), decode_date(raw[34:44])
    except FieldValueError as exc:
        rejects.append(Reject(line, path, where, str(exc), False))
        return None
    count = raw[45:54]
    if not count.isdigit():
        rejects.append(Reject(line, path, where, f"line count {count.decode('latin-1')!r} is not 9 digits", False))
        return None
    return {"first_date": first, "last_date": last, "lines": int(count)}


def _check_dates(dates: np.ndarray, session: int, ok: np.ndarray, line_numbers: np.ndarray, path: str,
                 field: str, source: str, rejects: list[Reject], limit: int | None) -> None:
    bad = np.flatnonzero(ok & (dates != session))
    for i in bad[:limit]:
        rejects.append(Reject(int(line_numbers[i]), path, field, f"date {int(dates[i])}, expected the session "
                              f"date {session} ({source})"))
    ok[bad] = False


def _allocate(n: int):
    return (np.zeros((len(_OUT_COLUMNS), n), dtype=np.int64), np.zeros(n, dtype=np.float64),
            np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
            np.empty(n, dtype=np.int16), np.empty(n, dtype=np.int8))


def _parse_neg(buf, starts, ends, path, rejects, limit):
    n_lines = starts.size
    header = _neg_frame_line(bytes(buf[starts[0]:ends[0]]), NEG_HEADER, 1, path, rejects)
    trailer, body_end = None, n_lines
    last = bytes(buf[starts[-1]:ends[-1]])
    if n_lines < 2:
        rejects.append(Reject(1, path, "trailer", "missing trailer: the file has only a header", False))
    elif last[:2] == NEG_TRAILER:
        trailer = _neg_frame_line(last, NEG_TRAILER, n_lines, path, rejects)
        body_end = n_lines - 1
    else:  # the last line is read as a trade line
        rejects.append(Reject(n_lines, path, "trailer", f"missing trailer: the last line starts with "
                              f"{last[:2].decode('latin-1')!r}, expected 'RT NEG ...'", False))
    for frame_line, where, line in ((header, "header", 1), (trailer, "trailer", n_lines)):
        if frame_line and frame_line["lines"] != n_lines:
            rejects.append(Reject(line, path, where, f"{where} counts {frame_line['lines']} lines but the file "
                                  f"has {n_lines}", False))
    body = slice(1, max(body_end, 1))
    starts, ends = starts[body], ends[body]
    line_numbers = np.arange(2, 2 + starts.size, dtype=np.int64)
    good = (ends - starts) == NEG_LINE_BYTES
    for i in np.flatnonzero(~good)[:limit]:
        rejects.append(Reject(int(line_numbers[i]), path, "line", f"{int(ends[i] - starts[i])} bytes, expected "
                              f"{NEG_LINE_BYTES} (fixed-width NEG trade line)"))
    starts, line_numbers = starts[good], line_numbers[good]
    out, prices, keys, sym_start, sym_len, err_field, err_reason = _allocate(starts.size)
    kernels.parse_fixed(buf, starts, _NEG_OFFS, _NEG_WIDTHS, _NEG_KINDS, _NEG_ROWS, out, prices, keys,
                        sym_start, sym_len, err_field, err_reason)
    rejects.extend(neg_rejects(buf, starts, line_numbers, err_field, err_reason, path, limit))
    ok = err_field < 0
    session = None
    if header:
        session = int(header["first_date"].strftime("%Y%m%d"))
        source = "header"
    elif ok.any():
        session = int(out[_ROW["date"], np.argmax(ok)])
        source = "first trade line"
    if session is not None:
        _check_dates(out[_ROW["date"]], session, ok, line_numbers, path, NEG_FIELDS[0].name, source, rejects, limit)
    side = np.zeros(starts.size, dtype=np.int8)
    buy, sell = out[_ROW["buy_condition"]], out[_ROW["sell_condition"]]
    side[(buy == 1) & (sell != 1)] = 1
    side[(sell == 1) & (buy != 1)] = -1
    extra = {"header_lines": header["lines"] if header else None}
    return ok, out, prices, side, keys, sym_start, sym_len, session, extra, line_numbers


def _parse_negocios(buf, starts, ends, path, rejects, limit):
    starts, ends = starts[1:], ends[1:]
    line_numbers = np.arange(2, 2 + starts.size, dtype=np.int64)
    nonblank = ends > starts
    for i in np.flatnonzero(~nonblank)[:limit]:
        rejects.append(Reject(int(line_numbers[i]), path, "line", "empty line, expected a trade"))
    starts, ends, line_numbers = starts[nonblank], ends[nonblank], line_numbers[nonblank]
    out, prices, keys, sym_start, sym_len, err_field, err_reason = _allocate(starts.size)
    kernels.parse_delimited(buf, starts, ends, _NEGOCIOS_KINDS, _NEGOCIOS_ROWS, NEGOCIOS_MAX_DECIMALS, out,
                            prices, keys, sym_start, sym_len, err_field, err_reason)
    rejects.extend(negocios_rejects(buf, starts, ends, line_numbers, err_field, err_reason, path, limit))
    ok = err_field < 0
    session = int(out[_ROW["date"], np.argmax(ok)]) if ok.any() else None
    if session is not None:
        _check_dates(out[_ROW["date"]], session, ok, line_numbers, path, "DataNegocio", "first trade line",
                     rejects, limit)
    side = np.zeros(starts.size, dtype=np.int8)  # the NEGOCIOS layout does not give the aggressor
    return ok, out, prices, side, keys, sym_start, sym_len, session, {}, line_numbers


def _exact_large_prices(prices: np.ndarray, mantissa: np.ndarray, decimals: np.ndarray) -> None:
    """Prices are mantissa / 10**decimals, divided in float64: correctly rounded while the mantissa is
    below 2**53 (both operands exact); larger ones (never seen in B3 files) use Python's exact division."""
    for i in np.flatnonzero(mantissa >= _EXACT_INT):
        prices[i] = int(mantissa[i]) / 10 ** int(decimals[i])


def _order(codes: np.ndarray, times: np.ndarray, ids: np.ndarray) -> np.ndarray:
    perm, moves = kernels.order_by_ticker_time(codes, times, ids)
    if moves > 8 * codes.size + 1000:  # far from sorted: a general sort is faster
        perm = np.lexsort((ids, times, codes))
    return perm


def _session_ns(yyyymmdd: int) -> int:
    d = dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)
    return (d - dt.date(1970, 1, 1)).days * _NS_PER_DAY


def _build_frame(ok, out, prices, side, ticker: pd.Categorical, session: int | None) -> pd.DataFrame:
    n = int(ok.sum())
    sel = None if ok.all() else ok
    take = (lambda a: a) if sel is None else (lambda a: a[sel])
    codes = ticker.codes if sel is None else ticker.codes[sel]
    times, ids = take(out[_ROW["time"]]), take(out[_ROW["trade_id"]])
    perm = _order(codes.astype(np.int64), times, ids)
    date = np.full(n, _session_ns(session) if session is not None else 0, dtype=np.int64).view("M8[ns]")
    columns = {
        "date": date,
        "ticker": pd.Categorical.from_codes(codes[perm], categories=ticker.categories),
        "time": times[perm],
        "price": take(prices)[perm],
        "quantity": take(out[_ROW["quantity"]])[perm],
        "side": take(side)[perm],
        "cancelled": take(out[_ROW["cancelled"]])[perm].astype(bool),
        "trade_id": ids[perm],
        "buyer": take(out[_ROW["buyer"]])[perm].astype(np.int32),
        "seller": take(out[_ROW["seller"]])[perm].astype(np.int32),
    }
    return pd.DataFrame({c: columns[c] for c in COLUMNS}, copy=False)


def _source(path: PathLike, checksum: bool):
    try:
        return read_source(path, checksum=checksum)
    except TradesError:
        raise
    except CotahistError as exc:
        raise TradesError(str(exc).replace("COTAHIST", "trade")) from exc


def parse_session(path: PathLike, *, strict: bool = True, checksum: bool = True) -> TradeSession:
    """Read one B3 trade file (NEG or NEGOCIOS layout; ``.TXT`` or a ZIP holding one file).

    Raises
    ------
    TradesError
        Naming the file, line and field: with ``strict=True`` at the first problem in line order;
        with ``strict=False`` only when the file cannot be read or its layout is not recognised.
    """
    src = _source(path, checksum)
    name, buf = str(path), src.data
    starts, ends = _lines(buf)
    layout = _layout(buf, starts, ends, name)
    limit = 1 if strict else None
    rejects: list[Reject] = []
    parse = _parse_neg if layout == NEG else _parse_negocios
    ok, out, prices, side, keys, sym_start, sym_len, session, extra, _ = parse(
        buf, starts, ends, name, rejects, limit)
    if strict and rejects:
        raise min(rejects).error()
    _exact_large_prices(prices, out[_ROW["price"]], out[_ROW["price_decimals"]])
    ticker = factorize_symbols(buf, keys[ok], sym_start[ok], sym_len[ok])
    codes_all = np.zeros(ok.size, dtype=np.int32)
    codes_all[ok] = ticker.codes
    ticker_all = pd.Categorical.from_codes(codes_all, categories=ticker.categories) if ok.size else ticker
    trades = _build_frame(ok, out, prices, side, ticker_all, session)
    summary = {
        "name": src.path.name, "path": str(src.path), "size_bytes": src.size_bytes, "sha256": src.sha256,
        "zip_member": src.member, "layout": layout,
        "session_date": (_session_date_iso(session) if session is not None else None),
        "lines": int(starts.size), "trades": int(len(trades)), "cancelled": int(trades["cancelled"].sum()),
        "rejected": len({r.line for r in rejects if r.line_dropped}), "n_tickers": int(trades["ticker"].nunique()),
        "has_side": layout == NEG, **extra,
    }
    return TradeSession(trades, summary, sorted(rejects))


def _session_date_iso(yyyymmdd: int) -> str:
    return dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100).isoformat()


def _as_paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise TradesError("no trade file given")
    return out


def iter_sessions(paths: PathLike | Iterable[PathLike], *, strict: bool = True) -> Iterator[TradeSession]:
    """Read session files one at a time, in the order given (memory of one session at a time)."""
    for p in _as_paths(paths):
        yield parse_session(p, strict=strict)


def read_trades(paths: PathLike | Iterable[PathLike], *, strict: bool = True,
                drop_cancelled: bool = False) -> pd.DataFrame:
    """Read B3 trade-by-trade files into one typed DataFrame.

    Parameters
    ----------
    paths : path or iterable of paths
        Session files, NEG (``NEG_*``) or NEGOCIOS (``*_NEGOCIOSAVISTA``, ``TradeIntraday_*``)
        layout, plain text or a ZIP holding one file; sessions concatenated in the order given.
    strict : bool
        Raise :class:`~mfg_finance.errors.TradesError` at the first bad line (default), or leave bad
        lines out (:func:`parse_session` lists them).
    drop_cancelled : bool
        Leave out trades the exchange cancelled.

    Returns
    -------
    pandas.DataFrame
        One row per trade, sorted by (ticker, time, trade_id) within each session. Columns:
        ``date`` (datetime64[ns], session date), ``ticker`` (category, sorted categories),
        ``time`` (int64, ns since midnight, São Paulo local time), ``price`` (float64, BRL per
        share or per option contract unit), ``quantity`` (int64, shares), ``side`` (int8: +1 the
        buyer was the aggressor, -1 the seller, 0 not given by the file), ``cancelled`` (bool),
        ``trade_id`` (int64, the exchange's trade number, unique per instrument and session),
        ``buyer``, ``seller`` (int32, broker / participant codes; -1 where the file leaves it empty).
    """
    frames = [s.trades for s in iter_sessions(paths, strict=strict)]
    if drop_cancelled:
        frames = [f[~f["cancelled"].to_numpy()] for f in frames]
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    ticker = union_categoricals([pd.Categorical(f["ticker"]) for f in frames])
    out = pd.concat([f.drop(columns="ticker") for f in frames], ignore_index=True)
    out.insert(1, "ticker", ticker)
    return out
