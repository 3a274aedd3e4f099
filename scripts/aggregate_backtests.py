"""Rule aggregate_backtests: statistics table (with Monte Carlo standard errors) and distributions."""
from mfg_finance.io import read_parquet, write_parquet, write_text
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.backtest import backtest_statistics
from mfg_finance.report.figures.market_making import plot_backtest_distributions

log = configure_logging(snakemake.log[0])
results = {}
for path in snakemake.input:
    frame = read_parquet(path)
    results[(str(frame["ticker"].iloc[0]), str(frame["strategy"].iloc[0]))] = frame
table = backtest_statistics(results)
write_parquet(snakemake.output.table, table)
write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.10g"))
plot_backtest_distributions(results, snakemake.output.pnl, snakemake.output.inventory)
log.info("statistics for %d (ticker, strategy) pairs", len(results))
