"""Rule compile_kernels_{group}: compile the numba kernels of some families into the workflow's cache (a tiny
problem through the jobs' own functions). The output only marks it done (no timing: same config, same bytes)."""
from mfg_finance.io import write_json
from mfg_finance.kernel_warmup import warm
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
for family in snakemake.params.families:
    record = warm(family, large_inputs=snakemake.params.large_inputs)
    log.info("numba kernels of %s compiled or loaded in %.2f s", record["family"], record["seconds"])
write_json(snakemake.output[0], {"families": list(snakemake.params.families),
                                 "cache": "numba kernels compiled or loaded"})
