"""Rule ingest_cotahist: parse the COTAHIST files into typed Parquet, with a summary and rejects."""
from mfg_finance.cotahist import ingest
from mfg_finance.io import write_json, write_parquet, write_text
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
result = ingest(list(snakemake.input), strict=snakemake.params.on_error == "raise")
summary = dict(result.summary, source=snakemake.params.source, on_error=snakemake.params.on_error)
write_parquet(snakemake.output.quotes, result.quotes)
write_json(snakemake.output.summary, summary)
write_text(snakemake.output.rejects, "".join(f"{line}\n" for line in result.rejects))
log.info("%d records from %d file(s), %d rejected, %s .. %s", summary["records"], len(summary["files"]),
         summary["rejected"], summary["date_min"], summary["date_max"])
