"""Rule compute_stats: returns, volatility and liquidity statistics per asset."""
from mfg_finance.io import read_parquet, write_json, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.stats import compute_stats

log = configure_logging(snakemake.log[0])
result = compute_stats(read_parquet(snakemake.input[0]), **snakemake.params.stats)
write_parquet(snakemake.output.returns, result.returns)
write_parquet(snakemake.output.asset_stats, result.asset_stats)
write_json(snakemake.output.summary, result.summary)
log.info("%d assets (%d included)", len(result.asset_stats), int(result.asset_stats["included"].sum()))
