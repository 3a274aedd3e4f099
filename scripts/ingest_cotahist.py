"""Rule ingest_cotahist: one COTAHIST file into its year-partitioned Parquet folder, with its summary record."""
from mfg_finance.job_threads import use_job_threads

use_job_threads(snakemake.threads)  # numba's threads = the job's, set before numba loads (docs/workflow.md)

from mfg_finance.cotahist.file_ingest import ingest_file
from mfg_finance.io import write_json
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
record = ingest_file(snakemake.input[0], snakemake.output.quotes, strict=snakemake.params.on_error == "raise")
write_json(snakemake.output.record, record)
f = record["file"]
log.info("%s: %d records, %d rejected, %s .. %s, year(s) %s", f["path"], f["records"], f["rejected"],
         f["date_min"], f["date_max"], record["years"])
check = record["value_identity"]
if check["median_ratio"] is not None and not 0.9 <= check["median_ratio"] <= 1.1:
    log.warning("volume / (avg * quantity / quote_factor) has median %.4g over %d cash records (about 1 in B3's "
                "files of 2016-2023): quantities or prices may mean something else in this file's era "
                "(docs/cotahist.md, 'Old files')", check["median_ratio"], check["records"])
