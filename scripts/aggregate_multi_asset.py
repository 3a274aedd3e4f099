"""Rule aggregate_multi_asset: statistics (with standard errors) of the multi-asset backtests."""
from mfg_finance.io import read_parquet, write_parquet, write_text
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.multi_backtest import multi_backtest_statistics

log = configure_logging(snakemake.log[0])
results = {}
for path in snakemake.input:
    frame = read_parquet(path)
    results[(str(frame["portfolio"].iloc[0]), str(frame["strategy"].iloc[0]))] = frame
table = multi_backtest_statistics(results, cvar_level=snakemake.params.cvar_level)
write_parquet(snakemake.output.table, table)
write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.10g"))
log.info("statistics for %d (portfolio, strategy) pairs", len(results))
