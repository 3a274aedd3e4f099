"""Rule solve_equilibrium: the crowd and the market maker of one equilibrium scenario, with the calibrated parameters."""
from pathlib import Path

from mfg_finance.calibration import parameter_values
from mfg_finance.config import solver_config
from mfg_finance.equilibrium.config import check_deterministic
from mfg_finance.equilibrium.outputs import write_equilibrium
from mfg_finance.equilibrium.pipeline import solve_run
from mfg_finance.io import read_yaml
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
run = snakemake.params.run
check_deterministic(snakemake.params.mfg_run, run["mfg_scenario"])
mfg_doc, mm_doc = read_yaml(snakemake.input.mfg_params), read_yaml(snakemake.input.mm_params)
mfg_config = solver_config(parameter_values(mfg_doc), snakemake.params.mfg_run)
solution, record = solve_run(mfg_config, mfg_doc, mm_doc, run)
log.info("equilibrium %s: %d rounds, residuals %s", snakemake.wildcards.eq_scenario, solution.iterations,
         solution.residuals)
write_equilibrium(solution, Path(snakemake.output.metrics).parent, record,
                  title=f"Equilibrium {snakemake.wildcards.eq_scenario}: {record['ticker']} market maker and the crowd")
