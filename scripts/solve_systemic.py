"""Rule solve_systemic: one systemic scenario (common noise or agent types), its arrays and figure."""
from pathlib import Path

from mfg_finance.calibration import parameter_values
from mfg_finance.io import read_yaml, write_json, write_npz
from mfg_finance.logs import configure_logging
from mfg_finance.mfg.systemic import run_common_noise, run_types, run_types_common_noise, systemic_config
from mfg_finance.report.figures.systemic import plot_fan_chart, plot_types

log = configure_logging(snakemake.log[0])
scenario = snakemake.wildcards.systemic_scenario
cfg = systemic_config(parameter_values(read_yaml(snakemake.input.mfg_params)),
                      read_yaml(snakemake.input.systemic_params), snakemake.params.run)
log.info("systemic scenario %s: %s", scenario, cfg)
if cfg["types"] and cfg["params"].get("sigma0", 0.0) > 0.0:
    summary, arrays = run_types_common_noise(cfg, snakemake.params.settings)
    plot_fan_chart(arrays, snakemake.output.figure,
                   title=f"Scenario {scenario}: two types under common noise (crowd mean)")
elif cfg["types"]:
    summary, arrays = run_types(cfg)
    plot_types(arrays, [t["name"] for t in summary["types"]], snakemake.output.figure,
               title=f"Scenario {scenario}: agent types")
else:
    summary, arrays = run_common_noise(cfg, snakemake.params.settings)
    plot_fan_chart(arrays, snakemake.output.figure, title=f"Scenario {scenario}: common-noise fan chart")
summary["scenario"] = scenario
write_npz(snakemake.output.arrays, **arrays)
write_json(snakemake.output.metrics, summary)   # last: its presence means done
log.info("written %s", Path(snakemake.output.metrics).parent)
