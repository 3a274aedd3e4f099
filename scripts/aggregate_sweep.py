"""Rule aggregate_sweep: gather a sweep's points (from its batch folders) into one table and its heatmap /
line plot."""
from pathlib import Path

from mfg_finance.io import read_json, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.sweeps import plot_sweep
from mfg_finance.sweeps import aggregate_points, batch_point_files

log = configure_logging(snakemake.log[0])
files = batch_point_files([Path(folder) for folder in snakemake.input], snakemake.params.point_ids)
table = aggregate_points([read_json(path) for path in files])
write_parquet(snakemake.output.table, table)
plot_sweep(table, snakemake.output.figure, title=f"Sweep {snakemake.wildcards.sweep}")
log.info("%d points, %d converged", len(table), int(table["converged"].sum()))
