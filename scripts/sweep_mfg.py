"""Rule sweep_mfg: solve one batch of sweep points, one {point_id}.json each in the batch's folder.

Non-convergence is recorded in the point file, not hidden. A point's file does not depend on its batch.
"""
from pathlib import Path

from mfg_finance.calibration.documents import parameter_values
from mfg_finance.io import read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.sweeps import point_overrides, solve_point

log = configure_logging(snakemake.log[0])
calibrated = parameter_values(read_yaml(snakemake.input.mfg_params))
systemic = snakemake.input.get("systemic_params")      # systemic sweeps only (mfg_finance.sweeps.solve_point)
systemic_doc = read_yaml(systemic) if systemic else None
folder = Path(snakemake.output[0])
folder.mkdir(parents=True, exist_ok=True)
for point_id, swept in snakemake.params.points.items():
    record = solve_point(calibrated, point_overrides(snakemake.params.run, swept), swept,
                         systemic_doc=systemic_doc, settings=snakemake.params.settings)
    record.update(sweep=snakemake.wildcards.sweep, point_id=point_id)
    write_json(folder / f"{point_id}.json", record)
    log.info("point %s %s: converged=%s", point_id, swept, record["converged"])
