# Parameter sweeps: the points of a sweep run in batches, one job per batch, then one aggregate per sweep.
#
# Batching (mfg_finance.batching, docs/workflow.md "Batched jobs"): `batching.jobs_per_sweep` jobs per
# sweep; a point goes to batch sha256(point id) mod that number, so adding values to a sweep reruns only
# the batches that gain points (their params list the points). `null` gives one job per point (batch named
# by the point id). Each point keeps its own file, results/sweeps/{sweep}/points/{batch}/{point_id}.json,
# the same bytes whichever batch computed it. To batch another family of items, in common.smk:
#   MY_BATCHES = batches(item_ids, BATCH["jobs_per_sweep"])   # {batch name: [item ids]}
# and a rule with a `{batch}` wildcard (constraint BATCH_WILDCARD) writing directory(".../{batch}").


rule sweep_mfg:
    input:
        unpack(sweep_point_inputs),
    output:
        directory("results/sweeps/{sweep}/points/{batch}"),
    params:
        points=sweep_batch_points,
        run=lambda w: batch_overrides(config["mfg"], config["sweeps"][w.sweep]),
        # systemic sweeps only (sigma0, market_share, urgent_share or a systemic scenario): their (t, Q) grid
        # and paths, so a systemic edit does not rerun other sweeps
        settings=lambda w: SYSTEMIC if w.sweep in SYSTEMIC_SWEEPS else {},
    log:
        "logs/sweeps/{sweep}/{batch}.log",
    benchmark:
        "results/benchmarks/sweeps/{sweep}/{batch}.tsv"
    resources:
        mem_mb=1000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/sweep_mfg.py"


rule aggregate_sweep:
    input:
        sweep_batch_dirs,
    output:
        table="results/sweeps/{sweep}.parquet",
        figure=report("results/sweeps/{sweep}.png", caption="../report/sweep.rst",
                      category="4. Parameter sweeps", labels={"sweep": "{sweep}"}),
    params:
        point_ids=lambda w: sorted(SWEEP_POINTS[w.sweep]),
    log:
        "logs/sweeps/aggregate_{sweep}.log",
    benchmark:
        "results/benchmarks/aggregate_sweep_{sweep}.tsv"
    conda:
        ENV
    script:
        "../../scripts/aggregate_sweep.py"
