"""Rule backtest_multi_asset: Monte Carlo backtests of every multi-asset strategy on one portfolio, one file
per strategy (each the same bytes as a job of its own: every backtest starts from the configured seed)."""
from mfg_finance.io import read_yaml, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.multi_asset import parameters_from_document
from mfg_finance.market_making.multi_backtest import run_multi_backtest

log = configure_logging(snakemake.log[0])
p = snakemake.params
doc = read_yaml(snakemake.input[0])
for strategy, path in zip(p.strategies, snakemake.output):
    frame = run_multi_backtest(strategy, parameters_from_document(doc), dt_s=p.dt_s, n_paths=p.n_paths,
                               seed=p.seed, table_dt_s=p.table_dt_s, fill_model=p.fill_model, S0=doc["S0"],
                               order_size=doc["order_size"], tickers=doc["tickers"])
    frame.insert(0, "strategy", strategy)
    frame.insert(0, "portfolio", doc["portfolio"])
    write_parquet(path, frame)
    log.info("%s/%s: mean PnL %.4f BRL over %d paths", doc["portfolio"], strategy, frame["final_pnl"].mean(),
             len(frame))
