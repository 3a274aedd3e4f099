"""Rule select_equities: keep the configured instrument classes, prices per share; the universe table.

Reads the per-file dataset folders year by year (mfg_finance.cotahist.dataset_select).
"""
from mfg_finance.cotahist.dataset_select import select_from_dataset
from mfg_finance.cotahist.universe import class_counts
from mfg_finance.io import write_parquet
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
equities, universe = select_from_dataset(list(snakemake.input.quotes), classes=snakemake.params.classes,
                                         codbdi=snakemake.params.codbdi,
                                         market_types=snakemake.params.market_types)
write_parquet(snakemake.output.equities, equities)
write_parquet(snakemake.output.universe, universe)
log.info("%d rows, %d tickers kept", len(equities), equities["ticker"].nunique())
for row in class_counts(universe).itertuples(index=False):
    log.info("class %-6s kept %5d dropped %5d", row.instrument_class, row.kept, row.dropped)
