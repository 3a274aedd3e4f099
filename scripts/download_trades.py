"""Rule download_trades: fetch one session's trade file from B3, verified, written atomically."""
from mfg_finance.logs import configure_logging
from mfg_finance.trades.download import download_trades

log = configure_logging(snakemake.log[0])
path = download_trades(snakemake.params.url, snakemake.output[0], retries=snakemake.params.retries,
                       timeout_s=snakemake.params.timeout_s)
log.info("downloaded %s -> %s", snakemake.params.url, path)
