"""Rule backtest_market_making: Monte Carlo backtest of one strategy on one calibrated ticker."""
from mfg_finance.calibration import ticker_values
from mfg_finance.io import read_yaml, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.backtest import run_backtest

log = configure_logging(snakemake.log[0])
ticker, strategy = snakemake.wildcards.ticker, snakemake.wildcards.strategy
p = snakemake.params
params = dict(ticker_values(read_yaml(snakemake.input[0]), ticker), order_size=p.order_size)
frame = run_backtest(strategy, params, horizon_s=p.horizon_s, dt_s=p.dt_s, n_paths=p.n_paths, seed=p.seed,
                     fill_model=p.fill_model, mid_model=p.mid_model)
frame.insert(0, "strategy", strategy)
frame.insert(0, "ticker", ticker)
write_parquet(snakemake.output[0], frame)
log.info("%s/%s: mean PnL %.4f BRL over %d paths", ticker, strategy, frame["final_pnl"].mean(), len(frame))
