"""Rule make_sample_trades: the synthetic trade sessions from the sample's daily statistics (index = position in
the rule's output list), each the same bytes as when written alone (seed from the sample seed and index)."""
from mfg_finance.io import read_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.trades.sample import write_sample_session

log = configure_logging(snakemake.log[0])
sample = snakemake.params.sample
asset_stats = read_parquet(snakemake.input[0])
for index, path in enumerate(snakemake.output):
    written = write_sample_session(path, asset_stats, snakemake.params.tickers, seed=sample["seed"], index=index,
                                   start_date=sample["start_date"])
    log.info("synthetic session %s (%s layout): %d trades of %s", written["date"], written["layout"],
             written["trades"], ", ".join(snakemake.params.tickers))
