"""Rule plot_analytics: the analytics charts of reports/analytics/."""
from pathlib import Path

from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.analytics import analytics_inputs, plot_analytics

log = configure_logging(snakemake.log[0])
returns, asset_stats, equities = analytics_inputs(snakemake.input.returns, snakemake.input.asset_stats,
                                                  snakemake.input.equities)
written = plot_analytics(returns, asset_stats, equities, Path(snakemake.output[0]).parent,
                         top_n=snakemake.params.top_n)
log.info("figures: %s", sorted(str(p) for p in written.values()))
