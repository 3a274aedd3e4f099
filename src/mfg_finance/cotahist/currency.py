"""Brazil's currencies since 1986, and prices of old COTAHIST records in today's reais (BRL).

B3's annual files go back to 1986; until 30 June 1994 prices and traded values are in the currency of
the session (MODREF, positions 53-56, names it), which changed five times (Banco Central do Brasil,
"Histórico das moedas brasileiras"; the laws below)::

    from        currency            MODREF        units per BRL        change
    1970-05-15  cruzeiro  Cr$       CR$ / Cr$     2,750,000,000,000
    1986-02-28  cruzado   Cz$       CZ$ / Cz$     2,750,000,000        Cz$ 1 = Cr$ 1,000  (DL 2.283/1986)
    1989-01-16  cruzado novo NCz$   NCZ$ / NCz$   2,750,000            NCz$ 1 = Cz$ 1,000 (Lei 7.730/1989)
    1990-03-16  cruzeiro  Cr$       CR$ / Cr$     2,750,000            Cr$ 1 = NCz$ 1     (Lei 8.024/1990)
    1993-08-01  cruzeiro real CR$   CR$           2,750                CR$ 1 = Cr$ 1,000  (Lei 8.697/1993)
    1994-07-01  real      R$        R$            1                    R$ 1 = CR$ 2,750   (Lei 8.880/1994)

:func:`units_per_brl` gives, per record, how many units of the record's currency make one BRL, from
its session date, after checking that MODREF names that currency: dividing prices and values by it
puts every session in BRL, so a price series runs on across a currency change as it would across a
reverse split (a change is not a return). A MODREF that names another currency than the one in force
on its date (e.g. ``R$`` on a 1990 session: a file restated by someone) is a
:class:`~mfg_finance.errors.DataError` naming the ticker, date and value, not a guess.

Checked: the table above against the laws it cites. Not checked: how B3 spells MODREF before 1994
(no file older than 2016 was available; every record of 2016-2023 says ``R$``); both the upper-case
and the mixed-case spellings are accepted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError

# (first session, name, MODREF spellings, units of the currency per BRL)
REGIMES: tuple[tuple[str, str, frozenset, float], ...] = (
    ("1970-05-15", "cruzeiro (Cr$)", frozenset({"CR$", "Cr$"}), 2.75e12),
    ("1986-02-28", "cruzado (Cz$)", frozenset({"CZ$", "Cz$"}), 2.75e9),
    ("1989-01-16", "cruzado novo (NCz$)", frozenset({"NCZ$", "NCz$"}), 2.75e6),
    ("1990-03-16", "cruzeiro (Cr$)", frozenset({"CR$", "Cr$"}), 2.75e6),
    ("1993-08-01", "cruzeiro real (CR$)", frozenset({"CR$"}), 2750.0),
    ("1994-07-01", "real (R$)", frozenset({"R$"}), 1.0),
)
REAL_SINCE = np.datetime64(REGIMES[-1][0], "ns")
"""First session in reais: records from this date on need no conversion."""

_STARTS = np.array([np.datetime64(r[0], "ns") for r in REGIMES])


def units_per_brl(dates: pd.Series, currency: pd.Series, tickers: pd.Series | None = None) -> np.ndarray:
    """Units of each record's currency per BRL (1.0 from 1994-07-01 on), checking MODREF.

    Parameters
    ----------
    dates : Series of datetime64
        Session dates.
    currency : Series of str or categorical
        MODREF as read (right-stripped).
    tickers : Series, optional
        Named in the error message.

    Raises
    ------
    DataError
        When MODREF does not name the currency in force on the record's date.
    """
    dates = pd.to_datetime(dates).to_numpy(dtype="datetime64[ns]")
    out = np.ones(dates.size)
    old = dates < REAL_SINCE
    if not old.any() and set(np.asarray(pd.unique(currency), dtype=object).astype(str)) <= {"R$"}:
        return out
    regime = np.searchsorted(_STARTS, dates, side="right") - 1
    modref = currency.astype(str).to_numpy()
    if (regime < 0).any():
        raise DataError(f"session {str(dates[np.argmax(regime < 0)])[:10]}: before {REGIMES[0][0]}, the first "
                        "currency the conversion to BRL knows (COTAHIST starts in 1986)")
    for index, (_, name, spellings, units) in enumerate(REGIMES):
        rows = regime == index
        if not rows.any():
            continue
        wrong = rows & ~np.isin(modref, list(spellings))
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            who = f"{tickers.iloc[i]} " if tickers is not None else ""
            raise DataError(f"MODREF (currency) {modref[i]!r} on {who}{str(dates[i])[:10]}: the currency in force "
                            f"that day was the {name}, written {' or '.join(sorted(spellings))}; "
                            f"{int(wrong.sum())} record(s) disagree. Prices would be converted to BRL by the "
                            "session's currency (docs/cotahist.md, 'Old files'): is the file restated?")
        out[rows] = units
    return out
