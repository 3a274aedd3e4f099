"""Rule make_sample_cotahist: write the deterministic synthetic COTAHIST sample."""
from mfg_finance.cotahist import write_sample_cotahist
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
sample = snakemake.params.sample
write_sample_cotahist(snakemake.output[0], seed=sample["seed"], n_tickers=sample["n_tickers"],
                      n_sessions=sample["n_sessions"], start_date=sample["start_date"])
log.info("synthetic sample written to %s (%s)", snakemake.output[0], sample)
