"""Rule reproduce_avellaneda_stoikov: the simulation of Avellaneda & Stoikov (2008), section 3.3."""
from mfg_finance.job_threads import use_job_threads

use_job_threads(snakemake.threads)  # numba's threads = the job's, set before numba loads (docs/workflow.md)

from mfg_finance.io import write_text
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.reproduction import avellaneda_stoikov_2008

log = configure_logging(snakemake.log[0])
table = avellaneda_stoikov_2008(n_paths=snakemake.params.n_paths, seed=snakemake.params.seed)
write_text(snakemake.output[0], table.to_csv(index=False, float_format="%.10g"))
log.info("\n%s", table.to_string(index=False))
