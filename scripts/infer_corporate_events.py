"""Rule infer_corporate_events: events inferred from the quotes, overridden by the configured files.

A batch of tickers at a time (mfg_finance.corporate.batched): memory bounded by the batch, not the history.
"""
from mfg_finance.corporate import EQUITY_COLUMNS
from mfg_finance.corporate.batched import events_from_parquet
from mfg_finance.corporate.summary import events_summary
from mfg_finance.io import write_json, write_parquet
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
events, disagreements, notes = events_from_parquet(snakemake.input.equities, columns=EQUITY_COLUMNS,
                                                   files=snakemake.params.files,
                                                   tolerance=snakemake.params.tolerance,
                                                   quantity_window=snakemake.params.quantity_window,
                                                   later_sessions=snakemake.params.later_sessions,
                                                   later_sigmas=snakemake.params.later_sigmas)
summary = events_summary(events, disagreements, notes, tolerance=snakemake.params.tolerance)
write_parquet(snakemake.output.events, events)
write_json(snakemake.output.summary, summary)
log.info("%d events (%s); %d disagreement(s) with the files", len(events), summary["by_kind"], len(disagreements))
for note in notes:
    log.info("%s", note)
for row in events[events["kind"] == "unexplained"].itertuples(index=False):
    log.warning("unexplained %s %s: %s", row.ticker, f"{row.ex_date:%Y-%m-%d}", row.evidence)
