# Calibration (daily heuristics, intraday estimates where trade files exist): one job per model family,
# so a market-making setting does not rerun the MFG branch (and vice versa).


rule calibrate:
    input:
        stats="results/stats/asset_stats.parquet",
        intraday=intraday_input,
    output:
        "results/calibration/{model}_params.yaml",
    params:
        settings=calibration_settings,
    wildcard_constraints:
        model="mfg|mm",
    log:
        "logs/calibration/calibrate_{model}.log",
    benchmark:
        "results/benchmarks/calibrate_{model}.tsv"
    conda:
        ENV
    script:
        "../../scripts/calibrate.py"
