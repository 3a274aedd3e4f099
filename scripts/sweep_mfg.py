"""Rule sweep_mfg: solve one sweep point; non-convergence is recorded in the point file, not hidden."""
from mfg_finance.calibration import parameter_values
from mfg_finance.config import solver_config
from mfg_finance.io import read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.sweeps import run_point

log = configure_logging(snakemake.log[0])
config = solver_config(parameter_values(read_yaml(snakemake.input[0])), snakemake.params.run)
record = run_point(config, snakemake.params.swept)
record.update(sweep=snakemake.wildcards.sweep, point_id=snakemake.wildcards.point_id)
write_json(snakemake.output[0], record)
log.info("point %s %s: converged=%s", snakemake.wildcards.point_id, snakemake.params.swept, record["converged"])
