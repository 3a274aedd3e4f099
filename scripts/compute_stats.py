"""Rule compute_stats: adjusted returns, volatility and liquidity statistics per asset."""
from mfg_finance.io import read_parquet, write_json, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.stats import EQUITY_COLUMNS, compute_stats

log = configure_logging(snakemake.log[0])
equities = read_parquet(snakemake.input.equities, columns=EQUITY_COLUMNS)   # only the columns used
result = compute_stats(equities, events=read_parquet(snakemake.input.events), **snakemake.params.stats)
write_parquet(snakemake.output.returns, result.returns)
write_parquet(snakemake.output.asset_stats, result.asset_stats)
write_json(snakemake.output.summary, result.summary)
log.info("%d assets (%d included), prices adjusted: %s, %d return(s) excluded at unexplained events",
         len(result.asset_stats), int(result.asset_stats["included"].sum()), snakemake.params.stats["adjust"],
         result.summary["counts"]["event_breaks"])
