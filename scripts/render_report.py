"""Rule render_report: the self-contained HTML report (figures embedded, no network)."""
from pathlib import Path

from mfg_finance.logs import configure_logging
from mfg_finance.report.render import render_from_inputs

log = configure_logging(snakemake.log[0])
inputs = {key: snakemake.input[key] for key in snakemake.input.keys() if key != "templates"}
render_from_inputs(inputs, snakemake.output[0], template_dir=Path(snakemake.input.templates[0]).parent,
                   title=snakemake.params.title, source=snakemake.params.source, config=snakemake.params.config,
                   benchmark_rules=snakemake.params.benchmarks)
log.info("report written to %s", snakemake.output[0])
