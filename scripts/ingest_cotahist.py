"""Rule ingest_cotahist: one COTAHIST file into its year-partitioned Parquet folder, with its summary record."""
from mfg_finance.cotahist.file_ingest import ingest_file
from mfg_finance.io import write_json
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
record = ingest_file(snakemake.input[0], snakemake.output.quotes, strict=snakemake.params.on_error == "raise")
write_json(snakemake.output.record, record)
f = record["file"]
log.info("%s: %d records, %d rejected, %s .. %s, year(s) %s", f["path"], f["records"], f["rejected"],
         f["date_min"], f["date_max"], record["years"])
