"""Rule make_sample_cotahist: write the deterministic synthetic COTAHIST sample and its events' truth."""
from mfg_finance.cotahist import write_sample_cotahist
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
sample = snakemake.params.sample
write_sample_cotahist(snakemake.output.cotahist, seed=sample["seed"], n_tickers=sample["n_tickers"],
                      n_sessions=sample["n_sessions"], start_date=sample["start_date"],
                      truth_path=snakemake.output.truth)
log.info("synthetic sample written to %s (%s), its corporate events to %s", snakemake.output.cotahist, sample,
         snakemake.output.truth)
