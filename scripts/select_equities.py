"""Rule select_equities: keep the configured instrument classes, prices per share; the universe table.

Reads the per-file dataset folders year by year and writes the equities a batch of tickers at a time
(mfg_finance.cotahist.dataset_select.select_to_parquet): memory bounded by a year, not the history.
"""
from mfg_finance.cotahist.dataset_select import select_to_parquet
from mfg_finance.cotahist.universe import class_counts
from mfg_finance.io import write_parquet
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
universe, counts = select_to_parquet(list(snakemake.input.quotes), snakemake.output.equities,
                                     classes=snakemake.params.classes, codbdi=snakemake.params.codbdi,
                                     market_types=snakemake.params.market_types)
write_parquet(snakemake.output.universe, universe)
log.info("%d rows, %d tickers kept", counts["rows"], counts["tickers"])
for row in class_counts(universe).itertuples(index=False):
    log.info("class %-6s kept %5d dropped %5d", row.instrument_class, row.kept, row.dropped)
