"""Rule backtest_multi_asset: Monte Carlo backtest of one multi-asset strategy on one portfolio."""
from mfg_finance.io import read_yaml, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.multi_backtest import parameters_from_document, run_multi_backtest

log = configure_logging(snakemake.log[0])
p = snakemake.params
doc = read_yaml(snakemake.input[0])
frame = run_multi_backtest(snakemake.wildcards.multi_strategy, parameters_from_document(doc), dt_s=p.dt_s,
                           n_paths=p.n_paths, seed=p.seed, table_dt_s=p.table_dt_s, fill_model=p.fill_model,
                           S0=doc["S0"], order_size=doc["order_size"], tickers=doc["tickers"])
frame.insert(0, "strategy", snakemake.wildcards.multi_strategy)
frame.insert(0, "portfolio", doc["portfolio"])
write_parquet(snakemake.output[0], frame)
log.info("%s/%s: mean PnL %.4f BRL over %d paths", doc["portfolio"], snakemake.wildcards.multi_strategy,
         frame["final_pnl"].mean(), len(frame))
