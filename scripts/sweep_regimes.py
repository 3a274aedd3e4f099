"""Rule sweep_regimes: every point of the liquidity-regimes grid in one job, the heatmaps and the comparison."""
from mfg_finance.calibration import parameter_values
from mfg_finance.config import solver_config
from mfg_finance.equilibrium.config import check_deterministic
from mfg_finance.equilibrium.regimes import comparison, solve_regimes
from mfg_finance.io import read_yaml, write_json, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.equilibrium import REGIME_PANELS, plot_regimes

log = configure_logging(snakemake.log[0])
run = snakemake.params.run
check_deterministic(snakemake.params.mfg_run, run.get("mfg_scenario", "baseline"))
mfg_doc, mm_doc = read_yaml(snakemake.input.mfg_params), read_yaml(snakemake.input.mm_params)
mfg_config = solver_config(parameter_values(mfg_doc), snakemake.params.mfg_run)
table = solve_regimes(mfg_config, mfg_doc, mm_doc, run, snakemake.params.regimes, log=log)
plot_regimes(table, snakemake.output.figure, metrics=REGIME_PANELS)
write_parquet(snakemake.output.table, table)
write_json(snakemake.output.summary, {"comparison": comparison(table), "n_points": int(len(table)),
                                      "n_converged": int(table["converged"].sum())})
