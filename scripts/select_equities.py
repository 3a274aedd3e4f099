"""Rule select_equities: keep the configured instrument classes, prices per share; the universe table."""
from mfg_finance.cotahist import select_equities
from mfg_finance.cotahist.universe import class_counts, universe_table
from mfg_finance.io import read_parquet, write_parquet
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
quotes = read_parquet(snakemake.input[0])
filters = dict(classes=snakemake.params.classes, codbdi=snakemake.params.codbdi,
               market_types=snakemake.params.market_types)
equities = select_equities(quotes, **filters)
universe = universe_table(quotes, **filters)
write_parquet(snakemake.output.equities, equities)
write_parquet(snakemake.output.universe, universe)
log.info("%d rows, %d tickers kept", len(equities), equities["ticker"].nunique())
for row in class_counts(universe).itertuples(index=False):
    log.info("class %-6s kept %5d dropped %5d", row.instrument_class, row.kept, row.dropped)
