"""Reading B3 trade-by-trade files into a typed DataFrame: :func:`parse_session`, :func:`read_trades`.

One file (one session) is read in five vectorized steps: the bytes (a ``.TXT`` or a ZIP holding one
file, :mod:`mfg_finance.cotahist.source`; a plain ZIP is framed and parsed while it is inflated, :mod:`.streaming`,
with the same outputs), the line ends (NumPy), the layout (recognised by the
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
from typing import Iterable, Iterator, NamedTuple

import numpy as np
import pandas as pd

from mfg_finance.cotahist.source import read_source
from mfg_finance.errors import CotahistError, TradesError
from mfg_finance.job_threads import parallel_kernels
from mfg_finance.trades import fast_kernels, kernels, streaming
from mfg_finance.trades.fields import FieldValueError, decode_date
from mfg_finance.trades.layout import (COLUMNS, NEG_FIELDS, NEG_HEADER, NEG_HEADER_BYTES, NEG_LINE_BYTES,
                                       NEG_TRAILER, NEGOCIOS_HEADER, NEGOCIOS_MAX_DECIMALS)
from mfg_finance.trades.rejects import Reject, neg_rejects, negocios_rejects
from mfg_finance.trades.tickers import factorize_symbols, union_categoricals

PathLike = str | os.PathLike

NEG = "neg"
NEGOCIOS = "negocios"

#: Files of at least this many bytes are read with :mod:`.fast_kernels`, smaller ones with the exact
#: kernels of :mod:`.kernels` alone and NumPy line ends (:func:`_kernels_for`). The outputs are the same
#: bytes either way (``tests/trades/test_fast_kernels.py``); only the cost differs. On an empty numba cache
#: the fast kernels take about 12 CPU-seconds to compile, and save about 0.2-0.5 microseconds a line
#: (10-20 ms on the pipeline's 46,000-line synthetic sessions): below 32 MiB (about 140,000 NEG or
#: 500,000 NEGOCIOS lines) the exact kernels finish before the fast ones would have compiled.
FAST_KERNELS_MIN_BYTES = 32 * 2 ** 20
_EXACT_INT = 2 ** 53
_NS_PER_DAY = 86_400_000_000_000
_BOM = b"\xef\xbb\xbf"


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


def _regular_neg_lines(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Line offsets of a well-formed NEG file (54-byte header and trailer, 237-byte lines, LF), else None.

    The common case, recognised with one strided check instead of a scan of every byte.
    """
    head, line = NEG_HEADER_BYTES + 1, NEG_LINE_BYTES + 1
    body = buf.size - 2 * head
    if (body < 0 or body % line or buf[:2].tobytes() != NEG_HEADER or buf[head - 1] != 10
            or buf[-1] != 10 or buf[buf.size - head:buf.size - head + 2].tobytes() != NEG_TRAILER):
        return None
    if not (buf[head:buf.size - head].reshape(-1, line)[:, -1] == 10).all():
        return None
    n = body // line
    starts = np.concatenate(([0], head + line * np.arange(n, dtype=np.int64), [buf.size - head]))
    ends = starts + np.concatenate(([head - 1], np.full(n, line - 1, dtype=np.int64), [head - 1]))
    return starts, ends


def _lines(buf: np.ndarray, *, fast: bool = True, compiled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of every line (end excludes the LF and a CR before it).

    ``fast``: try :func:`_regular_neg_lines` first. It does not look for an LF inside a line; the
    kernel rejects such a line (no field admits an LF), and the caller then re-frames the file
    with ``fast=False`` so that line numbers in messages are those of a text editor.
    ``compiled``: find the line ends with :func:`.fast_kernels.line_bounds` (else NumPy).
    """
    regular = _regular_neg_lines(buf) if fast else None
    if regular is not None:
        return regular
    return fast_kernels.line_bounds(buf) if compiled else line_bounds(buf)


def line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`.fast_kernels.line_bounds` in NumPy (the same offsets; nothing to compile, slower on large text)."""
    lf = np.flatnonzero(buf == 10)
    n_lines = lf.size + (1 if buf.size and buf[-1] != 10 else 0)
    starts = np.zeros(n_lines, dtype=np.int64)
    ends = np.empty(n_lines, dtype=np.int64)
    starts[1:] = lf[:n_lines - 1] + 1
    ends[:lf.size] = lf - ((lf > 0) & (buf[np.maximum(lf - 1, 0)] == 13))   # a CR before the LF is outside
    if n_lines > lf.size:                                                   # a last line without a line end
        ends[-1] = buf.size - 1 if buf[-1] == 13 else buf.size
    return starts, ends


class _Kernels(NamedTuple):
    """The line parsers and the line-end search of one read (:func:`_kernels_for`)."""

    parse_fixed: object
    parse_delimited: object
    compiled_line_bounds: bool


def _kernels_for(size_bytes: int, fast: bool | None) -> _Kernels:
    """The exact kernels and NumPy line ends for small files (below :data:`FAST_KERNELS_MIN_BYTES`) or when
    ``fast`` is False, else the fast kernels: the parallel ones with more than one numba thread, else their
    one-block body and NumPy line ends (the same outputs: each block starts its caches afresh, and a cache
    only skips re-checking equal bytes; numba then compiles no parallel variant)."""
    if not (fast if fast is not None else size_bytes >= FAST_KERNELS_MIN_BYTES):
        return _Kernels(kernels.parse_fixed, kernels.parse_delimited, False)
    if parallel_kernels(size_bytes):
        return _Kernels(fast_kernels.parse_fixed, fast_kernels.parse_delimited, True)

    def parse_fixed(buf, starts, o, err_field, err_reason):
        fast_kernels.parse_fixed_block(buf, starts, 0, starts.shape[0], o, err_field, err_reason)

    def parse_delimited(buf, starts, ends, max_decimals, o, err_field, err_reason):
        fast_kernels.parse_delimited_block(buf, starts, ends, 0, starts.shape[0], max_decimals, o, err_field,
                                           err_reason)

    return _Kernels(parse_fixed, parse_delimited, False)


def _layout(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, path: str) -> str:
    if starts.size == 0:
        raise TradesError("empty file: expected a header line ('RH NEG ...' or the NEGOCIOS column names)",
                          path=path, line=1)
    first = bytes(buf[starts[0]:ends[0]])
    if first[:2] == NEG_HEADER:
        return NEG
    if first.removeprefix(_BOM).decode("latin-1") == NEGOCIOS_HEADER:
        return NEGOCIOS
    _unknown_layout(first, path)


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


class _Outputs(NamedTuple):
    """The kernels' output arrays (names and dtypes: :data:`.kernels.OUTPUTS`)."""

    date: np.ndarray
    trade_id: np.ndarray
    mantissa: np.ndarray
    decimals: np.ndarray
    quantity: np.ndarray
    time: np.ndarray
    cancelled: np.ndarray
    buyer: np.ndarray
    seller: np.ndarray
    buy_condition: np.ndarray
    sell_condition: np.ndarray
    prices: np.ndarray
    keys: np.ndarray
    sym_start: np.ndarray
    sym_len: np.ndarray


def _allocate(n: int, *, conditions: bool, zeroed: bool = True) -> tuple[_Outputs, np.ndarray, np.ndarray]:
    """Output arrays for n lines (the NEG order conditions only when asked), and the error arrays.

    ``zeroed=False``: left uninitialised, for a caller that zeroes the part it uses (an over-sized array whose
    tail is never touched then costs no memory; ``np.zeros`` may write every page of it)."""
    new = np.zeros if zeroed else np.empty
    arrays = {name: new(n if conditions or "condition" not in name else 0, dtype=dtype)
              for name, dtype in kernels.OUTPUTS}
    return _Outputs(**arrays), np.empty(n, dtype=np.int16), np.empty(n, dtype=np.int8)


def _kernel_outputs(parsed, layout: str, n: int):
    """The streamed kernel outputs when they are those of the ``n`` lines to parse (same layout and count: the
    streamed lines are a superset of these, so the same set), else None."""
    if parsed is not None and parsed.layout == layout and parsed.count == n:
        return parsed.o, parsed.err_field, parsed.err_reason
    return None


def _parse_neg(buf, starts, ends, path, rejects, limit, parsers, parsed=None):
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
    streamed = _kernel_outputs(parsed, NEG, starts.size)
    if streamed is not None:
        o, err_field, err_reason = streamed
    else:
        o, err_field, err_reason = _allocate(starts.size, conditions=True)
        parsers.parse_fixed(buf, starts, o, err_field, err_reason)
    rejects.extend(neg_rejects(buf, starts, line_numbers, err_field, err_reason, path, limit))
    ok = err_field < 0
    session = None
    if header:
        session = int(header["first_date"].strftime("%Y%m%d"))
        source = "header"
    elif ok.any():
        session = int(o.date[np.argmax(ok)])
        source = "first trade line"
    if session is not None:
        _check_dates(o.date, session, ok, line_numbers, path, NEG_FIELDS[0].name, source, rejects, limit)
    side = np.zeros(starts.size, dtype=np.int8)
    buy, sell = o.buy_condition, o.sell_condition
    side[(buy == 1) & (sell != 1)] = 1
    side[(sell == 1) & (buy != 1)] = -1
    extra = {"header_lines": header["lines"] if header else None}
    return ok, o, side, session, extra


def _parse_negocios(buf, starts, ends, path, rejects, limit, parsers, parsed=None):
    starts, ends = starts[1:], ends[1:]
    line_numbers = np.arange(2, 2 + starts.size, dtype=np.int64)
    nonblank = ends > starts
    for i in np.flatnonzero(~nonblank)[:limit]:
        rejects.append(Reject(int(line_numbers[i]), path, "line", "empty line, expected a trade"))
    if not nonblank.all():
        starts, ends, line_numbers = starts[nonblank], ends[nonblank], line_numbers[nonblank]
    streamed = _kernel_outputs(parsed, NEGOCIOS, starts.size)
    if streamed is not None:
        o, err_field, err_reason = streamed
    else:
        o, err_field, err_reason = _allocate(starts.size, conditions=False)
        parsers.parse_delimited(buf, starts, ends, NEGOCIOS_MAX_DECIMALS, o, err_field, err_reason)
    rejects.extend(negocios_rejects(buf, starts, ends, line_numbers, err_field, err_reason, path, limit))
    ok = err_field < 0
    session = int(o.date[np.argmax(ok)]) if ok.any() else None
    if session is not None:
        _check_dates(o.date, session, ok, line_numbers, path, "DataNegocio", "first trade line",
                     rejects, limit)
    side = np.zeros(starts.size, dtype=np.int8)  # the NEGOCIOS layout does not give the aggressor
    return ok, o, side, session, {}


def _exact_large_prices(prices: np.ndarray, mantissa: np.ndarray, decimals: np.ndarray) -> None:
    """Prices are mantissa / 10**decimals, divided in float64: correctly rounded while the mantissa is
    below 2**53 (both operands exact); larger ones (never seen in B3 files) use Python's exact division."""
    for i in np.flatnonzero(mantissa >= _EXACT_INT):
        prices[i] = int(mantissa[i]) / 10 ** int(decimals[i])


def _order(codes: np.ndarray, n_codes: int, times: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Permutation sorting lines by (ticker, time, trade number).

    A stable counting sort by ticker first (files are sorted by ticker, NEG, or by time, NEGOCIOS,
    so each ticker's lines are then nearly in time order), then an insertion sort that finishes the
    job in about one pass; far from sorted input falls back to ``np.lexsort``.
    """
    by_code = kernels.counting_order(codes, n_codes)
    rest, moves = kernels.order_by_ticker_time(codes[by_code], times[by_code], ids[by_code])
    if moves > 8 * codes.size + 1000:
        return np.lexsort((ids, times, codes))
    return by_code[rest]


def _session_ns(yyyymmdd: int) -> int:
    d = dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)
    return (d - dt.date(1970, 1, 1)).days * _NS_PER_DAY


def _build_frame(ok: np.ndarray, o: _Outputs, side: np.ndarray, ticker: pd.Categorical,
                 session: int | None) -> pd.DataFrame:
    """The frame of the valid lines, sorted by (ticker, time, trade_id)."""
    keep = (lambda a: a) if ok.all() else (lambda a: a[ok])
    codes = keep(ticker.codes)
    times, ids = keep(o.time), keep(o.trade_id)
    perm = _order(codes, len(ticker.categories), times, ids)
    if kernels.is_identity(perm):  # already in order (NEG files are): no gather, no copy
        def order(a): return a
    else:
        def order(a): return a[perm]
    date = np.full(perm.size, _session_ns(session) if session is not None else 0, dtype=np.int64).view("M8[ns]")
    columns = {
        "date": date,
        "ticker": pd.Categorical.from_codes(order(codes), categories=ticker.categories),
        "time": order(times),
        "price": order(keep(o.prices)),
        "quantity": order(keep(o.quantity)),
        "side": order(keep(side)),
        "cancelled": order(keep(o.cancelled)),
        "trade_id": order(ids),
        "buyer": order(keep(o.buyer)),
        "seller": order(keep(o.seller)),
    }
    return pd.DataFrame({c: columns[c] for c in COLUMNS}, copy=False)


def _sniff(head: bytes, *, whole: bool, path) -> None:
    """Refuse, before reading the whole file, a first line that is neither layout's header."""
    first = head.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(_BOM)
    if not head or (not whole and b"\n" not in head):
        return  # empty, or a first line longer than the sniffed bytes: the full checks report it
    if first[:2] != NEG_HEADER and first.decode("latin-1") != NEGOCIOS_HEADER:
        _unknown_layout(first, str(path))


def _unknown_layout(first: bytes, path: str):
    raise TradesError(f"unknown layout: line 1 is {first[:120].decode('latin-1')!r}; expected a NEG header "
                      f"('RH NEG ...') or the NEGOCIOS header {NEGOCIOS_HEADER!r}", path=path, line=1)


def _source(path: PathLike, checksum: bool):
    try:
        return read_source(path, checksum=checksum, sniff=_sniff)
    except TradesError:
        raise
    except CotahistError as exc:
        raise TradesError(str(exc).replace("COTAHIST", "trade")) from exc


def _read(path: PathLike, checksum: bool):
    """``(source, line starts, line ends, streamed kernel outputs)``: a plain ZIP is parsed while it is inflated
    (:mod:`.streaming`; starts/ends None when it was inflated first), anything else read whole by the
    reference reader (``None, None, None``)."""
    streamed = streaming.read_zip(path, checksum=checksum, sniff=_sniff, allocate=_allocate)
    if streamed is None:
        return _source(path, checksum), None, None, None
    return streamed


def parse_session(path: PathLike, *, strict: bool = True, checksum: bool = True,
                  fast: bool | None = None) -> TradeSession:
    """Read one B3 trade file (NEG or NEGOCIOS layout; ``.TXT`` or a ZIP holding one file).

    ``fast``: read the lines with the fast kernels (True) or the exact ones (False); None chooses by the
    text's size (:data:`FAST_KERNELS_MIN_BYTES`). The result is the same either way.

    Raises
    ------
    TradesError
        Naming the file, line and field: with ``strict=True`` at the first problem in line order;
        with ``strict=False`` only when the file cannot be read or its layout is not recognised.
    """
    src, starts, ends, parsed = _read(path, checksum)
    name, buf = str(path), src.data
    parsers = _kernels_for(buf.size, fast)
    if starts is None:
        starts, ends = _lines(buf, compiled=parsers.compiled_line_bounds)
    layout = _layout(buf, starts, ends, name)
    limit = 1 if strict else None
    rejects: list[Reject] = []
    parse = _parse_neg if layout == NEG else _parse_negocios
    ok, o, side, session, extra = parse(buf, starts, ends, name, rejects, limit, parsers, parsed)
    del parsed
    if rejects and layout == NEG:  # number the lines as an editor would (see _lines)
        starts, ends = _lines(buf, fast=False, compiled=parsers.compiled_line_bounds)
        rejects = []
        ok, o, side, session, extra = parse(buf, starts, ends, name, rejects, limit, parsers)
    if strict and rejects:
        raise min(rejects).error()
    _exact_large_prices(o.prices, o.mantissa, o.decimals)
    if ok.all():
        ticker_all = factorize_symbols(buf, o.keys, o.sym_start, o.sym_len)
    else:
        ticker = factorize_symbols(buf, o.keys[ok], o.sym_start[ok], o.sym_len[ok])
        codes_all = np.zeros(ok.size, dtype=np.int32)
        codes_all[ok] = ticker.codes
        ticker_all = pd.Categorical.from_codes(codes_all, categories=ticker.categories)
    n_lines = int(starts.size)
    file_info = {"name": src.path.name, "path": str(src.path), "size_bytes": src.size_bytes, "sha256": src.sha256,
                 "zip_member": src.member}
    del src, buf, starts, ends  # the text is no longer needed: free it first
    o = o._replace(keys=None, sym_start=None, sym_len=None, mantissa=None)
    trades = _build_frame(ok, o, side, ticker_all, session)
    summary = {
        **file_info, "layout": layout,
        "session_date": (_session_date_iso(session) if session is not None else None),
        "lines": n_lines, "trades": int(len(trades)), "cancelled": int(trades["cancelled"].sum()),
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


def iter_sessions(paths: PathLike | Iterable[PathLike], *, strict: bool = True,
                  checksum: bool = True) -> Iterator[TradeSession]:
    """Read session files one at a time, in the order given (memory of one session at a time).

    ``checksum``: put each file's SHA-256 in its summary (costs about a third of the read).
    """
    for p in _as_paths(paths):
        yield parse_session(p, strict=strict, checksum=checksum)


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
    frames = [s.trades for s in iter_sessions(paths, strict=strict, checksum=False)]
    if drop_cancelled:
        frames = [f[~f["cancelled"].to_numpy()] for f in frames]
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    ticker = union_categoricals([pd.Categorical(f["ticker"]) for f in frames])
    out = pd.concat([f.drop(columns="ticker") for f in frames], ignore_index=True)
    out.insert(1, "ticker", ticker)
    return out
