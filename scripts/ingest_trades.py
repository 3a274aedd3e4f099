"""Rule ingest_trades: one session file -> typed Parquet of its trades and 1-minute bars, summary, rejects."""
from mfg_finance.job_threads import use_job_threads

use_job_threads(snakemake.threads)  # numba's threads = the job's, set before numba loads (docs/workflow.md)

from mfg_finance.io import write_json, write_text
from mfg_finance.logs import configure_logging
from mfg_finance.trades import parse_session
from mfg_finance.trades.bars import write_session

log = configure_logging(snakemake.log[0])
session = parse_session(snakemake.input[0], strict=snakemake.params.on_error == "raise")
bars = write_session(session.trades, snakemake.output.trades, snakemake.output.bars)
write_json(snakemake.output.summary, {**session.summary, "bars": int(len(bars))})
write_text(snakemake.output.rejects, "".join(f"{r}\n" for r in session.rejects))
for reject in session.rejects[:20]:
    log.warning("%s", reject)
log.info("%s: %s layout, session %s, %d trades (%d cancelled), %d rejected lines, %d bars",
         session.summary["name"], session.summary["layout"], session.summary["session_date"],
         session.summary["trades"], session.summary["cancelled"], session.summary["rejected"], len(bars))
