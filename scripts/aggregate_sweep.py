"""Rule aggregate_sweep: gather a sweep's points into one table and its heatmap / line plot."""
from mfg_finance.io import read_json, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.sweeps import plot_sweep
from mfg_finance.sweeps import aggregate_points

log = configure_logging(snakemake.log[0])
table = aggregate_points([read_json(path) for path in snakemake.input])
write_parquet(snakemake.output.table, table)
plot_sweep(table, snakemake.output.figure, title=f"Sweep {snakemake.wildcards.sweep}")
log.info("%d points, %d converged", len(table), int(table["converged"].sum()))
