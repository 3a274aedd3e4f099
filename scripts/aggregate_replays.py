"""Rule aggregate_replays: replayed vs simulated PnL, fill rates vs A, queue and latency costs, figure."""
from dataclasses import replace

import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.io import read_parquet, write_json, write_parquet, write_text
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.market import market_parameters_from_file
from mfg_finance.market_making.replay import replay_statistics
from mfg_finance.market_making.replay.compare import replay_comparison
from mfg_finance.report.figures.market_making import plot_replay_comparison

log = configure_logging(snakemake.log[0])
p = snakemake.params
frames, missing = [], []
for (session, ticker, strategy), path in zip(p.jobs, snakemake.input.replays):   # same order as the inputs
    frame = read_parquet(path)
    if frame.empty:
        missing.append(f"{ticker} on {session}")
    else:
        frames.append(frame)
if not frames:
    raise DataError("no (session, ticker) pair had trades to replay; check data.trades and market_making.tickers")
rows = pd.concat(frames, ignore_index=True)
markets = {t: replace(market_parameters_from_file(snakemake.input.params, t)[1], order_size=p.order_size)
           for t in sorted(rows["ticker"].unique())}
comparison = replay_comparison(rows, read_parquet(snakemake.input.simulated), markets)
configured = rows[rows["variant"] == "configured"]
stats = replay_statistics({key: frame for key, frame in configured.groupby(["ticker", "strategy"], sort=True)})
write_parquet(snakemake.output.rows, rows)
write_text(snakemake.output.comparison, comparison.to_csv(index=False, float_format="%.10g"))
write_text(snakemake.output.stats, stats.to_csv(index=False, float_format="%.10g"))
sessions = sorted(rows["session"].unique())
write_json(snakemake.output.summary, {"settings": p.replay, "order_size": p.order_size, "source": p.source,
                                      "sessions": sessions, "missing": sorted(set(missing))})
plot_replay_comparison(comparison, snakemake.output.figure)
for item in sorted(set(missing)):
    log.warning("not replayed (no trades): %s", item)
log.info("replays of %d (ticker, strategy) pairs over %d sessions", len(comparison), len(sessions))
