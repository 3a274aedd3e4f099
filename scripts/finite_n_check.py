"""Rule finite_n_check: the N-player game against the common-noise MFG, and epsilon-Nash."""
from mfg_finance.calibration import parameter_values
from mfg_finance.io import read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.mfg.systemic import run_finite_n, systemic_config
from mfg_finance.report.figures.systemic import plot_finite_n

log = configure_logging(snakemake.log[0])
cfg = systemic_config(parameter_values(read_yaml(snakemake.input.mfg_params)),
                      read_yaml(snakemake.input.systemic_params), snakemake.params.run)
result = run_finite_n(cfg, snakemake.params.settings)
plot_finite_n(result, snakemake.output.figure)
write_json(snakemake.output.metrics, result)
check = result["largest_N_check"]
log.info("N = %d: |E J_N - J_MFG| = %.3e, allowed 3 SE + the error %s = %.3e, holds = %s", check["N"],
         check["abs_difference"], check["allowed_by"], check["allowed"], check["holds"])
