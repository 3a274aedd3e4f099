"""Helpers of the trade-file tests: a small synthetic session and file builders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mfg_finance.trades.synthetic import SyntheticInstrument, negocios_text, neg_text, simulate_session

INSTRUMENTS = [SyntheticInstrument("SYNA3", rate_buy=0.01, rate_sell=0.01, cancel_prob=0.05),
               SyntheticInstrument("SYNB11", price0=8.2, rate_buy=0.02, rate_sell=0.015, cancel_prob=0.05)]


def small_session(seed: int = 7) -> pd.DataFrame:
    return simulate_session(INSTRUMENTS, date="2024-07-01", seed=seed)


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def neg_lines(trades: pd.DataFrame) -> list[bytes]:
    return neg_text(trades).rstrip(b"\n").split(b"\n")


def negocios_lines(trades: pd.DataFrame) -> list[bytes]:
    return negocios_text(trades).rstrip(b"\n").split(b"\n")
