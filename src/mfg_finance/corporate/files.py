"""Authoritative corporate events from files: B3's listed-company JSON responses and a plain CSV.

Formats (recognised by content; see ``docs/cotahist.md``):

* ``GetListedCashDividends`` (a JSON object with ``results``): one issuer's cash history. Records
  name the share class (``typeStock``: ON, PN, PNA, UNT ...), not the ticker: the ticker is the one
  of the data whose issuer code (config ``issuer``, e.g. ``ABEV``) and ESPECI class match. The
  amount is ``valueCash / quotedPerShares`` (BRL per share); the ex-date is the first session of the
  data after ``lastDatePriorEx`` (the last session *with* the right).
* ``GetListedSupplementCompany`` (a JSON array of one object): ``cashDividends`` (recent ones only)
  and ``stockDividends``, mapped to tickers by ISIN. ``stockDividends`` factors are read as other
  projects read them (not verified against a real B3 response with events): ``DESDOBRAMENTO`` and
  ``BONIFICACAO`` give the percentage of new shares (``300`` -> factor 4), ``GRUPAMENTO`` the
  multiplier itself (``0,05`` -> factor 0.05, twenty shares become one).
* CSV with the header ``ticker,ex_date,kind,factor,amount``: ``ex_date`` ISO ``YYYY-MM-DD``,
  ``kind`` one of :data:`~mfg_finance.corporate.KINDS`, ``factor`` new shares per old share (empty =
  1), ``amount`` BRL per share (empty = unknown).

B3 writes numbers as text with a decimal comma and dots for thousands (``"58.130.517,22"``) and dates
as ``DD/MM/YYYY``.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from mfg_finance.corporate.events import EVENT_COLUMNS, KINDS, empty_events, validate_events
from mfg_finance.errors import DataError

CASH_LABELS = {"DIVIDENDO": "dividend", "JRS CAP PROPRIO": "jcp", "RENDIMENTO": "income"}
STOCK_LABELS = {"DESDOBRAMENTO": "split", "BONIFICACAO": "bonus", "GRUPAMENTO": "reverse_split"}


def b3_number(text: Any, *, where: str) -> float:
    """``"1.234,5"`` -> 1234.5 (B3's text numbers)."""
    try:
        return float(str(text).strip().replace(".", "").replace(",", "."))
    except ValueError as exc:
        raise DataError(f"{where}: {text!r} is not a B3 number (expected digits with a decimal comma)") from exc


def b3_date(text: Any, *, where: str) -> pd.Timestamp:
    """``"13/01/2021"`` -> Timestamp('2021-01-13')."""
    try:
        return pd.Timestamp(pd.to_datetime(str(text).strip(), format="%d/%m/%Y"))
    except ValueError as exc:
        raise DataError(f"{where}: {text!r} is not a date DD/MM/YYYY") from exc


def last_records(equities: pd.DataFrame) -> pd.DataFrame:
    """Per ticker (index, sorted text): ESPECI and ISIN of its last session (last non-missing value)."""
    return (equities.loc[:, ["ticker", "date", "spec", "isin"]].assign(ticker=equities["ticker"].astype(str))
            .sort_values(["ticker", "date"], kind="stable").groupby("ticker").last()[["spec", "isin"]])


class Listing:
    """What the files are matched against: the tickers of the data, their ESPECI class and ISIN, and
    the session calendar."""

    def __init__(self, equities: pd.DataFrame | None = None, *, last: pd.DataFrame | None = None,
                 calendar: pd.DatetimeIndex | None = None):
        """From the equities, or (a batch of tickers at a time) from the :func:`last_records` of every
        batch put together and the sorted distinct session dates."""
        if equities is not None:
            last = last_records(equities)
            calendar = pd.DatetimeIndex(np.unique(pd.to_datetime(equities["date"]).to_numpy()))
        self.tickers = last.index.to_numpy(dtype=str)
        self.spec_class = np.array([(str(s).split() or [""])[0] for s in last["spec"]])
        self.isin = last["isin"].astype(str).to_numpy()
        self.calendar = calendar

    def by_class(self, issuer: str, spec_class: str) -> list[str]:
        return [t for t, c in zip(self.tickers, self.spec_class) if t.startswith(issuer) and c == spec_class]

    def by_isin(self, isin: str) -> list[str]:
        return [t for t, i in zip(self.tickers, self.isin) if i == isin]

    def ex_date(self, last_with: pd.Timestamp) -> pd.Timestamp | None:
        """First session after ``last_with``; None when it is outside the data's sessions."""
        pos = int(self.calendar.searchsorted(last_with, side="right"))
        if pos >= len(self.calendar) or pos == 0:
            return None
        return self.calendar[pos]


def _rows_to_frame(rows: list[tuple]) -> pd.DataFrame:
    if not rows:
        return empty_events()
    return validate_events(pd.DataFrame(rows, columns=list(EVENT_COLUMNS)))


def read_cash_dividends(path, document: dict, listing: Listing, *, issuer: str | None, notes: list[str]):
    """Rows of a ``GetListedCashDividends`` response (see the module docstring)."""
    name = Path(path).name
    if not issuer:
        raise DataError(f"corporate_actions.files: {path} is a GetListedCashDividends response, which names no "
                        "ticker: give its issuer code, e.g. {path: ..., issuer: ABEV}")
    results = document.get("results")
    if not isinstance(results, list):
        raise DataError(f"{path}: 'results' must be a list of records")
    rows, outside, unmapped = [], 0, set()
    for i, record in enumerate(results):
        where = f"{path}, results[{i}]"
        try:
            type_stock, action = str(record["typeStock"]).strip(), str(record["corporateAction"]).strip()
            value, per = record["valueCash"], record.get("quotedPerShares", "1")
            last_with = record["lastDatePriorEx"]
        except KeyError as exc:
            raise DataError(f"{where}: missing key {exc}") from exc
        tickers = listing.by_class(issuer, type_stock)
        if len(tickers) != 1:
            unmapped.add(type_stock)
            continue
        ex = listing.ex_date(b3_date(last_with, where=f"{where}.lastDatePriorEx"))
        if ex is None:
            outside += 1
            continue
        amount = b3_number(value, where=f"{where}.valueCash") / b3_number(per, where=f"{where}.quotedPerShares")
        rows.append((tickers[0], ex, CASH_LABELS.get(action, "cash_other"), 1.0, amount, "file",
                     f"{name} results[{i}]: {action} {value} per {per} share(s), last day with the right {last_with}"))
    if outside:
        notes.append(f"{name}: {outside} of {len(results)} record(s) have their ex-date outside the data's sessions")
    if unmapped:
        notes.append(f"{name}: no single ticker of issuer {issuer} with ESPECI class {sorted(unmapped)} in the data")
    return rows


def read_supplement(path, document: list, listing: Listing, *, notes: list[str]):
    """Rows of a ``GetListedSupplementCompany`` response (see the module docstring)."""
    name = Path(path).name
    rows, outside, unmapped = [], 0, set()
    for k, company in enumerate(document):
        if not isinstance(company, dict):
            raise DataError(f"{path}[{k}]: expected an object")
        for section in ("cashDividends", "stockDividends"):
            for i, record in enumerate(company.get(section) or []):
                where = f"{path}[{k}].{section}[{i}]"
                try:
                    isin, label = str(record["isinCode"]).strip(), str(record["label"]).strip()
                    last_with = record["lastDatePrior"]
                except KeyError as exc:
                    raise DataError(f"{where}: missing key {exc}") from exc
                tickers = listing.by_isin(isin)
                if len(tickers) != 1:
                    unmapped.add(isin)
                    continue
                ex = listing.ex_date(b3_date(last_with, where=f"{where}.lastDatePrior"))
                if ex is None:
                    outside += 1
                    continue
                if section == "cashDividends":
                    amount = b3_number(record.get("rate"), where=f"{where}.rate")
                    rows.append((tickers[0], ex, CASH_LABELS.get(label, "cash_other"), 1.0, amount, "file",
                                 f"{name} {section}[{i}]: {label} {record.get('rate')} per share, last day with "
                                 f"the right {last_with}"))
                    continue
                if label not in STOCK_LABELS:
                    raise DataError(f"{where}.label: {label!r}; expected one of {sorted(STOCK_LABELS)}")
                value = b3_number(record.get("factor"), where=f"{where}.factor")
                factor = value if label == "GRUPAMENTO" else 1.0 + value / 100.0
                rows.append((tickers[0], ex, STOCK_LABELS[label], factor, math.nan, "file",
                             f"{name} {section}[{i}]: {label} factor {record.get('factor')} (read as "
                             f"{factor:g} new shares per old share), last day with the right {last_with}"))
    if outside:
        notes.append(f"{name}: {outside} record(s) have their ex-date outside the data's sessions")
    if unmapped:
        notes.append(f"{name}: ISIN(s) {sorted(unmapped)} match no single ticker of the data")
    return rows


def read_csv_events(path) -> list[tuple]:
    """Rows of a plain CSV ``ticker,ex_date,kind,factor,amount`` (checked line by line)."""
    name = Path(path).name
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = ["ticker", "ex_date", "kind", "factor", "amount"]
        if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != expected:
            raise DataError(f"{path}, line 1: header {reader.fieldnames}; expected {','.join(expected)}")
        rows = []
        for line, record in enumerate(reader, start=2):
            where = f"{path}, line {line}"
            try:
                ex = pd.Timestamp(pd.to_datetime(record["ex_date"].strip(), format="%Y-%m-%d"))
            except (ValueError, AttributeError) as exc:
                raise DataError(f"{where}, ex_date: {record['ex_date']!r}; expected YYYY-MM-DD") from exc
            try:
                factor = float(record["factor"]) if (record["factor"] or "").strip() else 1.0
                amount = float(record["amount"]) if (record["amount"] or "").strip() else math.nan
            except ValueError as exc:
                raise DataError(f"{where}: factor/amount {record['factor']!r}/{record['amount']!r}; expected "
                                "numbers (decimal point) or empty") from exc
            ticker, kind = (record["ticker"] or "").strip(), (record["kind"] or "").strip()
            if not ticker:
                raise DataError(f"{where}, ticker: empty")
            if kind not in KINDS:
                raise DataError(f"{where}, kind: {kind!r}; expected one of {list(KINDS)}")
            if not (math.isfinite(factor) and factor > 0):
                raise DataError(f"{where}, factor: {factor!r}; expected new shares per old share > 0")
            if not (math.isnan(amount) or amount >= 0):
                raise DataError(f"{where}, amount: {amount!r}; expected BRL per share >= 0 or empty")
            rows.append((ticker, ex, kind, factor, amount, "file", f"{name} line {line}"))
    return rows


def read_event_files(entries: Iterable[dict | str],
                     equities: pd.DataFrame | Listing) -> tuple[pd.DataFrame, list[str]]:
    """Events of every file of config ``corporate_actions.files``, and notes about what was left out.

    Each entry is a path or ``{path: ..., issuer: ...}``; the files are matched against ``equities``
    (or its :class:`Listing`). Identical rows given by two files (B3's supplement repeats the latest
    cash events) are kept once.
    """
    listing = equities if isinstance(equities, Listing) else Listing(equities)
    rows: list[tuple] = []
    notes: list[str] = []
    for entry in entries:
        entry = {"path": entry} if isinstance(entry, (str, os.PathLike)) else dict(entry)
        path, issuer = entry.get("path"), entry.get("issuer")
        if not path or not os.path.exists(path):
            raise DataError(f"corporate_actions.files: {path!r} does not exist")
        if str(path).lower().endswith(".csv"):
            rows.extend(read_csv_events(path))
            continue
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not JSON ({exc}); expected a B3 listed-company response or a .csv") from exc
        if isinstance(document, dict) and "results" in document:
            rows.extend(read_cash_dividends(path, document, listing, issuer=issuer, notes=notes))
        elif isinstance(document, list):
            rows.extend(read_supplement(path, document, listing, notes=notes))
        else:
            raise DataError(f"{path}: neither a GetListedCashDividends object (with 'results') nor a "
                            "GetListedSupplementCompany array")
    events = _rows_to_frame(rows)
    key = ["ticker", "ex_date", "kind", "factor", "amount"]
    duplicated = events.duplicated(key, keep="first")
    if duplicated.any():
        notes.append(f"{int(duplicated.sum())} event(s) given by two files kept once")
    return events.loc[~duplicated].reset_index(drop=True), notes
