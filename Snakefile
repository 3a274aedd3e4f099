# mfg-finance: B3 COTAHIST quotes -> statistics -> calibration -> MFG and market making -> report.
# Stages live in workflow/rules/*.smk; numerics live in src/mfg_finance; see README.md.

from snakemake.utils import min_version

min_version("8.20")


include: "workflow/rules/config_files.smk"  # strict YAML read first: syntax errors with lines, duplicate keys


configfile: "config/config.yaml"


# common.smk validates the config first (schema with defaults, cross-field checks): a bad config
# fails here, naming the key, before any job runs.
include: "workflow/rules/common.smk"
include: "workflow/rules/kernels.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/trades.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/mfg.smk"
include: "workflow/rules/sweeps.smk"
include: "workflow/rules/systemic.smk"
include: "workflow/rules/market_making.smk"
include: "workflow/rules/replay.smk"
include: "workflow/rules/multi_asset.smk"
include: "workflow/rules/equilibrium.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "reports/final/mfg_report.html",
        ANALYTICS_FIGURES,
        NOTEBOOKS,
    default_target: True
