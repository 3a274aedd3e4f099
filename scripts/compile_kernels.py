"""Rule compile_kernels_{family}: compile one family of numba kernels into the workflow's cache (a tiny problem
through the jobs' own functions). The output only marks it done (no timing: same config, same bytes)."""
from mfg_finance.io import write_json
from mfg_finance.kernel_warmup import warm
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
record = warm(snakemake.params.family)
write_json(snakemake.output[0], {"family": record["family"], "cache": "numba kernels compiled or loaded"})
log.info("numba kernels of %s compiled or loaded in %.2f s", record["family"], record["seconds"])
