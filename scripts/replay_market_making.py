"""Rule replay_market_making: every strategy replayed on every ticker's trades of one session (3 variants each),
one file per (ticker, strategy), the same bytes as a job of its own.

A ticker without trades that session gets empty tables (logged); aggregate_replays lists them.
"""
from dataclasses import replace
from itertools import product

from mfg_finance.io import read_parquet, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.market import market_parameters_from_file
from mfg_finance.market_making.replay import ReplaySettings, tape_from_frame
from mfg_finance.market_making.replay.settings import clock_seconds
from mfg_finance.market_making.replay.compare import VARIANTS, empty_variants_frame, replay_variants

log = configure_logging(snakemake.log[0])
session, p = snakemake.wildcards.session, snakemake.params
trades = read_parquet(snakemake.input.trades)
start = clock_seconds(p.session_start, name="market_making.replay.session_start")
end = clock_seconds(p.session_end, name="market_making.replay.session_end")
# the rule's expand() lists the outputs ticker-major
paths = dict(zip(product(p.tickers, p.strategies), snakemake.output, strict=True))
for ticker in p.tickers:
    _, market = market_parameters_from_file(snakemake.input.params, ticker)
    market = replace(market, order_size=p.order_size)
    settings = ReplaySettings(tick_size=market.tick_size, **p.replay)
    mine = trades[trades["ticker"].astype(str) == ticker]
    tape = tape_from_frame(mine, ticker, where=str(snakemake.input.trades)) if len(mine) else None
    in_window = tape is not None and bool(((tape.time_s >= (start if start is not None else -1.0))
                                           & (tape.time_s <= (end if end is not None else 1e9))).any())
    if not in_window:
        log.warning("%s: no trades of %s in %s (within the session window); nothing replayed", session, ticker,
                    snakemake.input.trades)
    for strategy in p.strategies:
        if not in_window:
            frame = empty_variants_frame()
        else:
            frame = replay_variants(tape, strategy, market, settings, session=session, session_start_s=start,
                                    session_end_s=end)
            conf = frame[frame["variant"] == VARIANTS[-1]].iloc[0]
            log.info("%s %s/%s: %d prints (%d cancelled dropped), %d fills, PnL %.4f BRL (marked), %.4f "
                     "(liquidated)", session, ticker, strategy, conf["n_prints"], conf["n_cancelled"],
                     conf["n_trades"], conf["final_pnl"], conf["liquidation_pnl"])
        frame.insert(0, "strategy", strategy)
        frame.insert(0, "ticker", ticker)
        write_parquet(paths[ticker, strategy], frame)
