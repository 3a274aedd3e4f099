# Calibration (daily heuristics, intraday estimates where trade files exist): one job per model family,
# so a market-making setting does not rerun the MFG branch (and vice versa).


rule calibrate:
    priority: CRITICAL_PATH
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


# What the trade files change in the MFG: the first scenario solved again with the daily heuristics.
rule compare_mfg_intraday:
    input:
        params="results/calibration/mfg_params.yaml",
        metrics=f"results/mfg/{SCENARIOS[0]}/metrics.json",
    output:
        "results/mfg/intraday_comparison.json",
    params:
        scenario=SCENARIOS[0],
        run=mfg_run_overrides(config["mfg"], SCENARIOS[0]),
    log:
        "logs/mfg/compare_mfg_intraday.log",
    benchmark:
        "results/benchmarks/compare_mfg_intraday.tsv"
    conda:
        ENV
    script:
        "../../scripts/compare_mfg_intraday.py"
