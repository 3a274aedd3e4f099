"""Rule download_cotahist: fetch one annual COTAHIST ZIP from B3, verified, written atomically."""
from mfg_finance.cotahist import download_cotahist
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
path = download_cotahist(snakemake.params.url, snakemake.output[0], retries=snakemake.params.retries,
                         timeout_s=snakemake.params.timeout_s)
log.info("downloaded %s -> %s", snakemake.params.url, path)
