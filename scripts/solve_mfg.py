"""Rule solve_mfg: solve one MFG scenario with the calibrated parameters and config overrides."""
from pathlib import Path

from mfg_finance.calibration import parameter_values
from mfg_finance.config import solver_config
from mfg_finance.io import read_yaml
from mfg_finance.logs import configure_logging
from mfg_finance.mfg import solve, write_solution

log = configure_logging(snakemake.log[0])
config = solver_config(parameter_values(read_yaml(snakemake.input[0])), snakemake.params.run)
log.info("solving scenario %s with %s", snakemake.wildcards.scenario, config)
solution = solve(config)
# No wall time in metrics.json: the benchmark file measures the job, and equal runs must give equal bytes.
write_solution(solution, Path(snakemake.output.solution).parent, wall_time=False)
log.info("converged in %d iterations, residual %.3e", solution.iterations, solution.residuals[-1])
