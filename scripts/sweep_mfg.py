"""Rule sweep_mfg: solve one sweep point; non-convergence is recorded in the point file, not hidden."""
from mfg_finance.calibration import parameter_values
from mfg_finance.io import read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.sweeps import solve_point

log = configure_logging(snakemake.log[0])
systemic = snakemake.input.get("systemic_params")
record = solve_point(parameter_values(read_yaml(snakemake.input.mfg_params)), snakemake.params.run,
                     snakemake.params.swept, systemic_doc=read_yaml(systemic) if systemic else None,
                     settings=snakemake.params.settings)
record.update(sweep=snakemake.wildcards.sweep, point_id=snakemake.wildcards.point_id)
write_json(snakemake.output[0], record)
log.info("point %s %s: converged=%s", snakemake.wildcards.point_id, snakemake.params.swept, record["converged"])
