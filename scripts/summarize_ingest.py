"""Rule summarize_ingest: the ingestion summary and rejected lines of all input files, in input order."""
from mfg_finance.cotahist.ingest_records import combine_records
from mfg_finance.io import read_json, write_json, write_text
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
summary, rejects = combine_records([read_json(path) for path in snakemake.input])
summary = dict(summary, source=snakemake.params.source, on_error=snakemake.params.on_error)
write_json(snakemake.output.summary, summary)
write_text(snakemake.output.rejects, "".join(f"{line}\n" for line in rejects))
log.info("%d records from %d file(s), %d rejected, %s .. %s", summary["records"], len(summary["files"]),
         summary["rejected"], summary["date_min"], summary["date_max"])
