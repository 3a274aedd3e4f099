"""Instrument codes to a categorical without decoding a Python string per trade.

A session has millions of trades but a few thousand instruments. The kernels hash each line's code
into a 64-bit key; the keys are factorized (pandas' hash table, O(n), :func:`factorize_keys`), every line is checked byte for
byte against the first line with its key (so a hash collision can never merge two codes: if one is
found, an exact sort-based factorization is used) and only the distinct codes are decoded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.trades.kernels import first_symbol_mismatch, narrow_codes


def factorize_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (int32, in order of first appearance) and the first index of each distinct key."""
    labels, uniques = pd.factorize(keys)
    return narrow_codes(labels, uniques.size)


def factorize_symbols(buf: np.ndarray, keys: np.ndarray, sym_start: np.ndarray,
                      sym_len: np.ndarray) -> pd.Categorical:
    """The instrument code of every line as a categorical with sorted categories (ASCII)."""
    if keys.size == 0:
        return pd.Categorical.from_codes(np.empty(0, dtype=np.int32), categories=pd.Index([], dtype="str"))
    codes, first = factorize_keys(keys)
    if first_symbol_mismatch(buf, sym_start, sym_len, codes, sym_start[first], sym_len[first]) >= 0:
        # A 64-bit hash collision (about 1e-12 per file): exact factorization of the byte strings.
        texts = np.array([buf[s:s + n].tobytes() for s, n in zip(sym_start, sym_len)], dtype=object)
        codes, uniques_text = pd.factorize(texts)
        names = [t.decode("ascii") for t in uniques_text]
    else:
        names = [buf[s:s + n].tobytes().decode("ascii") for s, n in zip(sym_start[first], sym_len[first])]
    order = np.argsort(np.array(names, dtype=object), kind="stable")
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    categories = pd.Index([names[k] for k in order], dtype="str")
    return pd.Categorical.from_codes(rank[codes], categories=categories)


def union_categoricals(parts: list[pd.Categorical]) -> pd.Categorical:
    """Concatenate categoricals into one with the sorted union of their categories."""
    if len(parts) == 1:
        return parts[0]
    categories = pd.Index(sorted(set().union(*(p.categories for p in parts))), dtype="str")
    codes = [categories.get_indexer(p.categories)[p.codes].astype(np.int32) for p in parts]
    return pd.Categorical.from_codes(np.concatenate(codes), categories=categories)
