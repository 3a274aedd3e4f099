"""Rule sweep_systemic: outcomes against sigma0 (market-wide share of the noise) and the urgent agents' share."""
from mfg_finance.calibration import parameter_values
from mfg_finance.io import read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.mfg.systemic import sweep_sigma0, sweep_urgent_share, systemic_config
from mfg_finance.report.figures.systemic import plot_systemic_sweep

log = configure_logging(snakemake.log[0])
calibrated = parameter_values(read_yaml(snakemake.input.mfg_params))
systemic_doc = read_yaml(snakemake.input.systemic_params)
sweeps = snakemake.params.sweeps
sigma0_rows = sweep_sigma0(systemic_config(calibrated, systemic_doc, snakemake.params.common_noise_run),
                           sweeps["market_share"], snakemake.params.settings)
share_rows = sweep_urgent_share(systemic_config(calibrated, systemic_doc, snakemake.params.types_run),
                                sweeps["urgent_share"])
plot_systemic_sweep(sigma0_rows, "sigma0", snakemake.output.sigma0_figure,
                    xlabel="common noise sigma0 (inventory units / sqrt(day)), total noise fixed")
plot_systemic_sweep(share_rows, "urgent_share", snakemake.output.share_figure,
                    xlabel="share of urgent agents (population fraction)")
write_json(snakemake.output.table, {"sigma0": sigma0_rows, "urgent_share": share_rows})
log.info("systemic sweeps: %d sigma0 points, %d urgent-share points", len(sigma0_rows), len(share_rows))
