"""Rule estimate_intraday: every intraday estimate (with standard errors) per ticker, over all sessions."""
from mfg_finance.io import write_json
from mfg_finance.logs import configure_logging
from mfg_finance.microstructure.intraday import estimate_sessions

log = configure_logging(snakemake.log[0])
document = estimate_sessions(list(snakemake.input), snakemake.params.tickers, source=snakemake.params.source,
                             **snakemake.params.settings)
write_json(snakemake.output[0], document)
for ticker, reason in document["missing"].items():
    log.warning("no intraday estimates for %s: %s", ticker, reason)
for ticker, entry in document["tickers"].items():
    for name, reason in entry["errors"].items():
        log.warning("%s: %s not estimated: %s", ticker, name, reason)
    log.info("%s: %d trades over %d session(s)", ticker, entry["n_trades"], len(entry["sessions"]))
