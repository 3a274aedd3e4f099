"""Rule select_equities: keep the configured cash-market equities, prices per share."""
from mfg_finance.cotahist import select_equities
from mfg_finance.io import read_parquet, write_parquet
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
equities = select_equities(read_parquet(snakemake.input[0]), codbdi=snakemake.params.codbdi,
                           market_types=snakemake.params.market_types)
write_parquet(snakemake.output[0], equities)
log.info("%d rows, %d tickers", len(equities), equities["ticker"].nunique())
