"""Rule replay_market_making: one strategy replayed on one ticker's trades of one session (3 variants).

A ticker without trades that session gets an empty table (logged); aggregate_replays lists it.
"""
from dataclasses import replace

from mfg_finance.io import read_parquet, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.market import market_parameters_from_file
from mfg_finance.market_making.replay import ReplaySettings, tape_from_frame
from mfg_finance.market_making.replay.settings import clock_seconds
from mfg_finance.market_making.replay.compare import VARIANTS, empty_variants_frame, replay_variants

log = configure_logging(snakemake.log[0])
w, p = snakemake.wildcards, snakemake.params
_, market = market_parameters_from_file(snakemake.input.params, w.ticker)
market = replace(market, order_size=p.order_size)
settings = ReplaySettings(tick_size=market.tick_size, **p.replay)
trades = read_parquet(snakemake.input.trades)
start = clock_seconds(p.session_start, name="market_making.replay.session_start")
end = clock_seconds(p.session_end, name="market_making.replay.session_end")
mine = trades[trades["ticker"].astype(str) == w.ticker]
tape = tape_from_frame(mine, w.ticker, where=str(snakemake.input.trades)) if len(mine) else None
in_window = tape is not None and bool(((tape.time_s >= (start if start is not None else -1.0))
                                       & (tape.time_s <= (end if end is not None else 1e9))).any())
if not in_window:
    frame = empty_variants_frame()
    log.warning("%s: no trades of %s in %s (within the session window); nothing replayed", w.session, w.ticker,
                snakemake.input.trades)
else:
    frame = replay_variants(tape, w.strategy, market, settings, session=w.session, session_start_s=start,
                            session_end_s=end)
    conf = frame[frame["variant"] == VARIANTS[-1]].iloc[0]
    log.info("%s %s/%s: %d prints (%d cancelled dropped), %d fills, PnL %.4f BRL (marked), %.4f (liquidated)",
             w.session, w.ticker, w.strategy, conf["n_prints"], conf["n_cancelled"], conf["n_trades"],
             conf["final_pnl"], conf["liquidation_pnl"])
frame.insert(0, "strategy", w.strategy)
frame.insert(0, "ticker", w.ticker)
write_parquet(snakemake.output[0], frame)
