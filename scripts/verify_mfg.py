"""Rule verify_mfg: compare the PDE solver with the exact LQ solution and refine the mesh."""
from pathlib import Path

from mfg_finance.calibration import parameter_values
from mfg_finance.config import solver_config
from mfg_finance.io import read_yaml
from mfg_finance.logs import configure_logging
from mfg_finance.mfg.verify import run_verification, write_verification

log = configure_logging(snakemake.log[0])
config = solver_config(parameter_values(read_yaml(snakemake.input[0])), snakemake.params.run)
result = run_verification(config, refinements=[tuple(r) for r in snakemake.params.refinements],
                          corners=dict(snakemake.params.corners))
write_verification(result, Path(snakemake.output.metrics).parent, wall_time=False)  # see solve_mfg.py
log.info("verification written to %s", Path(snakemake.output.metrics).parent)
