"""Rule compute_stats: adjusted returns, volatility and liquidity statistics per asset.

A batch of tickers at a time (mfg_finance.stats.batched): memory bounded by the batch, not the history.
"""
from mfg_finance.io import read_parquet, write_json, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.stats import EQUITY_COLUMNS
from mfg_finance.stats.batched import compute_stats_from_parquet

log = configure_logging(snakemake.log[0])
result = compute_stats_from_parquet(snakemake.input.equities, snakemake.output.returns, columns=EQUITY_COLUMNS,
                                    events=read_parquet(snakemake.input.events), **snakemake.params.stats)
write_parquet(snakemake.output.asset_stats, result.asset_stats)
write_json(snakemake.output.summary, result.summary)
log.info("%d assets (%d included), prices adjusted: %s, %d return(s) excluded at unexplained events",
         len(result.asset_stats), int(result.asset_stats["included"].sum()), snakemake.params.stats["adjust"],
         result.summary["counts"]["event_breaks"])
