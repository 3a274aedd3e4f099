"""Instrument classes of COTAHIST records: stock, unit, BDR, ETF, real-estate fund, fund, right, ...

B3 moved instruments between BDI codes over the years: until 2022 BDRs were listed under CODBDI 02
(the "standard lot" code shared with shares), from 2023 under 34 (non-sponsored, ``DRN``), 35
(sponsored levels, ``DR1``-``DR3``) and 36 (BDRs of ETFs, ``DRE``); ETFs and other funds share
CODBDI 14; agribusiness funds (Fiagro) appeared under 13. The BDI code alone therefore does not say
what an instrument is. The class is decided from four fields that are stable across eras, checked
on B3's own files of 2016, 2021 and 2023:

* the first word of ESPECI (``ON``, ``PN``, ``PNA`` ... share classes; ``UNT``/``CDA`` units;
  ``DR1``/``DR2``/``DR3``/``DRN``/``DRE`` BDRs; ``CI``/``FIDC...`` funds; ``DIR``/``BNS``/``REC``
  rights, warrants and receipts),
* the ISIN's security type (characters 7-9: ``ACN`` shares, ``CDA``/``UNT`` units, ``BDR``,
  ``CTF`` fund shares, ``D01``... rights, ``R01``... receipts, ``N01``... subscription warrants),
* the BDI code (10 rights and receipts, 12 real-estate funds, 14 funds/ETFs, 22 warrants,
  34-36 BDRs, option codes), and TPMERC for option records,
* the issuer short name, only to tell an ETF from another fund under CODBDI 14 (B3's record has no
  flag for it): names with ``FIP``, ``FIC``, ``FDC``, ``FI``, ``FIDC``, ``INFRA``, ``IE`` or the
  old incentive funds (``FINAM``, ``FINOR``, ``FISET``, ``FUNDES``) are funds, the others ETFs.

The rules are tried in the order of :data:`RULES`; the first that matches gives the class. See the
class table in ``docs/cotahist.md``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

CLASSES: tuple[str, ...] = ("stock", "unit", "bdr", "etf", "reit", "fund", "right", "option", "other")
"""Every class :func:`classify_instruments` can return."""

OPTION_CODBDI = frozenset({32, 33, 38, 42, 74, 75, 78, 82})
OPTION_MARKETS = frozenset({12, 13, 70, 80})
RIGHT_CODBDI = frozenset({10, 22})
BDR_CODBDI = frozenset({34, 35, 36})
RIGHT_SPECS = frozenset({"DIR", "BNS", "REC", "RCB", "M1", "R", "WRT"})
UNIT_SPECS = frozenset({"UNT", "CDA"})
FUND_SPEC = re.compile(r"^(CI[A-Z]?|FIDC[A-Z]*|FII|FIA|FIP)$")
SHARE_SPEC = re.compile(r"^(ON|OR|PN|PR|PN[A-Z]|PR[A-Z])$")
RIGHT_ISIN = re.compile(r"^[DRN][0-9]{2}$")
FUND_NAME = re.compile(r"\b(FIP|FIC|FDC|FI|FIDC|FIRF|INFRA|IE|FINAM|FINOR|FISET|FUNDES)\b")

RULES: tuple[tuple[str, str], ...] = (
    ("option", "CODBDI 32/33/38/42/74/75/78/82 or TPMERC 012/013/070/080"),
    ("right", "CODBDI 10 or 22, or ESPECI DIR/BNS/REC/RCB/M1/R/WRT, or ISIN type D01.., R01.., N01.."),
    ("bdr", "CODBDI 34-36, or ESPECI DR1/DR2/DR3/DRN/DRE, or ISIN type BDR"),
    ("unit", "ESPECI UNT/CDA or ISIN type UNT/CDA"),
    ("reit", "fund (ESPECI CI/FIDC..., or ISIN type CTF) under CODBDI 12"),
    ("etf", "fund under CODBDI 14 whose short name is not a FIP/FIC/FDC/FI/INFRA/IE/incentive fund's"),
    ("fund", "any other fund (CODBDI 13 Fiagro, 14 FIP/FIDC/FI-Infra, 05 ...)"),
    ("stock", "ESPECI ON/OR/PN/PR/PNA.. with ISIN type ACN"),
    ("other", "anything else (index IBO, TPR, CPA, LFT, ON with a non-share ISIN, ...)"),
)
"""(class, rule) in the order tried."""


def isin_type(isin: str) -> str:
    """The security type of a Brazilian ISIN: characters 7-9 (``BRPETRACNPR6`` -> ``ACN``)."""
    return isin[6:9] if len(isin) == 12 else ""


def instrument_class(codbdi: int, market_type: int, spec: str, isin: str, short_name: str = "") -> str:
    """The class of one instrument (see :data:`RULES`)."""
    words = str(spec).split()
    base = words[0] if words else ""
    kind = isin_type(str(isin))
    codbdi, market_type = int(codbdi), int(market_type)
    if codbdi in OPTION_CODBDI or market_type in OPTION_MARKETS:
        return "option"
    if codbdi in RIGHT_CODBDI or base in RIGHT_SPECS or RIGHT_ISIN.match(kind):
        return "right"
    if codbdi in BDR_CODBDI or base.startswith("DR") or kind == "BDR":
        return "bdr"
    if base in UNIT_SPECS or kind in UNIT_SPECS:
        return "unit"
    if FUND_SPEC.match(base) or kind == "CTF":
        if codbdi == 12:
            return "reit"
        if codbdi == 14 and base.startswith("CI") and not FUND_NAME.search(str(short_name).upper()):
            return "etf"
        return "fund"
    if SHARE_SPEC.match(base) and kind in ("ACN", ""):
        return "stock"
    return "other"


KEY = ("codbdi", "market_type", "spec", "isin", "short_name")


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per row, the values) of a column: categorical codes when it is one (no string work)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy(dtype=np.int64)
        values = np.append(np.asarray(column.cat.categories, dtype=object), "")
        return np.where(codes < 0, len(values) - 1, codes), values  # a missing value reads as blank
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def classify_instruments(quotes: pd.DataFrame) -> pd.Categorical:
    """The class of every record of ``quotes`` (columns ``codbdi, market_type, spec, isin, short_name``).

    Each distinct combination of the five fields is classified once, so a year of B3 (millions of
    records, tens of thousands of combinations) takes well under a second. Returns a categorical
    aligned with ``quotes``' rows, categories :data:`CLASSES`.
    """
    if len(quotes) == 0:
        return pd.Categorical([], categories=CLASSES)
    columns = [_codes(quotes[c]) for c in KEY]
    # One compact integer per distinct combination, folding in a column at a time (no overflow).
    combined = np.zeros(len(quotes), dtype=np.int64)
    for codes, values in columns:
        combined, _ = pd.factorize(combined * (len(values) + 1) + codes)
        combined = combined.astype(np.int64)
    first = np.unique(combined, return_index=True)[1]
    labels = np.array([instrument_class(*(values[codes[i]] for codes, values in columns)) for i in first],
                      dtype=object)
    class_codes = pd.Categorical(labels, categories=CLASSES).codes
    return pd.Categorical.from_codes(class_codes[combined], categories=CLASSES)


def spec_class(spec: str) -> str:
    """ESPECI without its ex-markers and listing segment: ``ON  EJ  NM`` -> ``ON``."""
    words = str(spec).split()
    return words[0] if words else ""
