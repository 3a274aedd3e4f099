# Parameter sweeps: one job per point (stable point ids), then one aggregate per sweep. Sweeps of sigma0,
# market_share or urgent_share, or on a systemic scenario, are solved by mfg_finance.mfg.systemic.


rule sweep_mfg:
    input:
        unpack(sweep_point_inputs),
    output:
        "results/sweeps/{sweep}/points/{point_id}.json",
    params:
        swept=lambda w: SWEEP_POINTS[w.sweep][w.point_id],
        run=lambda w: sweep_run_overrides(config["mfg"], SWEEP_POINTS[w.sweep][w.point_id], SWEEP_SCENARIO[w.sweep]),
        # systemic sweeps only: their (t, Q) grid and paths (a systemic edit does not rerun other sweeps)
        settings=lambda w: SYSTEMIC if w.sweep in SYSTEMIC_SWEEPS else {},
    log:
        "logs/sweeps/{sweep}/{point_id}.log",
    benchmark:
        "results/benchmarks/sweeps/{sweep}/{point_id}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/sweep_mfg.py"


rule aggregate_sweep:
    input:
        sweep_point_files,
    output:
        table="results/sweeps/{sweep}.parquet",
        figure=report("results/sweeps/{sweep}.png", caption="../report/sweep.rst",
                      category="4. Parameter sweeps", labels={"sweep": "{sweep}"}),
    log:
        "logs/sweeps/aggregate_{sweep}.log",
    benchmark:
        "results/benchmarks/aggregate_sweep_{sweep}.tsv"
    conda:
        ENV
    script:
        "../../scripts/aggregate_sweep.py"
