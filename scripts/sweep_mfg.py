"""Rule sweep_mfg: solve one batch of sweep points, one {point_id}.json each in the batch's folder.

Non-convergence is recorded in the point file, not hidden. A point's file does not depend on its batch.
"""
from pathlib import Path

from mfg_finance.calibration.daily import parameter_values
from mfg_finance.config import solver_config
from mfg_finance.io import read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.sweeps import point_overrides, run_point

log = configure_logging(snakemake.log[0])
calibrated = parameter_values(read_yaml(snakemake.input[0]))
folder = Path(snakemake.output[0])
folder.mkdir(parents=True, exist_ok=True)
for point_id, swept in snakemake.params.points.items():
    record = run_point(solver_config(calibrated, point_overrides(snakemake.params.run, swept)), swept)
    record.update(sweep=snakemake.wildcards.sweep, point_id=point_id)
    write_json(folder / f"{point_id}.json", record)
    log.info("point %s %s: converged=%s", point_id, swept, record["converged"])
