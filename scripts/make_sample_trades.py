"""Rule make_sample_trades: one synthetic trade session from the sample's daily statistics."""
from mfg_finance.io import read_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.trades.sample import write_sample_session

log = configure_logging(snakemake.log[0])
sample = snakemake.params.sample
written = write_sample_session(snakemake.output[0], read_parquet(snakemake.input[0]), snakemake.params.tickers,
                               seed=sample["seed"], index=snakemake.params.index, start_date=sample["start_date"])
log.info("synthetic session %s (%s layout): %d trades of %s", written["date"], written["layout"],
         written["trades"], ", ".join(snakemake.params.tickers))
