"""Rule run_notebook: execute a workflow notebook with papermill and export it to HTML."""
from mfg_finance.logs import configure_logging
from mfg_finance.report.notebooks import execute_notebook

log = configure_logging(snakemake.log[0])
execute_notebook(snakemake.input.notebook, snakemake.output.ipynb, snakemake.output.html,
                 parameters=snakemake.params.parameters)
log.info("executed %s -> %s", snakemake.input.notebook, snakemake.output.ipynb)
