"""Rule backtest_market_making: Monte Carlo backtests of every strategy on one calibrated ticker, one file
per strategy (each the same bytes as a job of its own: every backtest starts from the configured seed)."""
from mfg_finance.job_threads import use_job_threads

use_job_threads(snakemake.threads)  # numba's threads = the job's, set before numba loads (docs/workflow.md)

from mfg_finance.calibration.documents import ticker_values
from mfg_finance.io import read_yaml, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.backtest import run_backtest

log = configure_logging(snakemake.log[0])
ticker = snakemake.wildcards.ticker
p = snakemake.params
params = dict(ticker_values(read_yaml(snakemake.input[0]), ticker), order_size=p.order_size)
for strategy, path in zip(p.strategies, snakemake.output):
    frame = run_backtest(strategy, params, horizon_s=p.horizon_s, dt_s=p.dt_s, n_paths=p.n_paths, seed=p.seed,
                         fill_model=p.fill_model, mid_model=p.mid_model)
    frame.insert(0, "strategy", strategy)
    frame.insert(0, "ticker", ticker)
    write_parquet(path, frame)
    log.info("%s/%s: mean PnL %.4f BRL over %d paths", ticker, strategy, frame["final_pnl"].mean(), len(frame))
