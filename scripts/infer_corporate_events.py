"""Rule infer_corporate_events: events inferred from the quotes, overridden by the configured files."""
from mfg_finance.corporate import EQUITY_COLUMNS, infer_events, merge_events, read_event_files
from mfg_finance.corporate.summary import events_summary
from mfg_finance.io import read_parquet, write_json, write_parquet
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
equities = read_parquet(snakemake.input.equities, columns=EQUITY_COLUMNS)
inferred = infer_events(equities, tolerance=snakemake.params.tolerance,
                        quantity_window=snakemake.params.quantity_window)
from_files, notes = read_event_files(snakemake.params.files, equities)
events, disagreements = merge_events(inferred, from_files)
summary = events_summary(events, disagreements, notes, tolerance=snakemake.params.tolerance)
write_parquet(snakemake.output.events, events)
write_json(snakemake.output.summary, summary)
log.info("%d events (%s); %d disagreement(s) with the files", len(events), summary["by_kind"], len(disagreements))
for note in notes:
    log.info("%s", note)
