# Systemic shocks and heterogeneous crowds: sigma0 calibration, common-noise and multi-type scenarios and
# the finite-N check (docs/mfg.md, sections 8-10, 12). Their sweeps are ordinary sweeps (sweeps.smk).


rule calibrate_systemic:
    input:
        returns="results/stats/returns.parquet",
        mfg_params=MFG_PARAMS,
    output:
        SYSTEMIC_PARAMS,
    params:
        min_sessions=config["stats"]["min_sessions"],
    log:
        "logs/calibration/calibrate_systemic.log",
    benchmark:
        "results/benchmarks/calibrate_systemic.tsv"
    conda:
        ENV
    script:
        "../../scripts/calibrate_systemic.py"


rule solve_systemic:
    input:
        mfg_params=MFG_PARAMS,
        systemic_params=SYSTEMIC_PARAMS,
        kernels=kernel_inputs("systemic"),
    output:
        metrics="results/systemic/{systemic_scenario}/metrics.json",
        arrays="results/systemic/{systemic_scenario}/arrays.npz",
        figure=report("results/systemic/{systemic_scenario}/overview.png", caption="../report/systemic.rst",
                      category="4b. Systemic shocks and heterogeneity", labels={"scenario": "{systemic_scenario}"}),
    params:
        run=lambda w: mfg_run_overrides(config["mfg"], w.systemic_scenario),
        settings=SYSTEMIC,
    log:
        "logs/systemic/solve_systemic_{systemic_scenario}.log",
    benchmark:
        "results/benchmarks/solve_systemic_{systemic_scenario}.tsv"
    conda:
        ENV
    script:
        "../../scripts/solve_systemic.py"


rule finite_n_check:
    input:
        mfg_params=MFG_PARAMS,
        systemic_params=SYSTEMIC_PARAMS,
        kernels=kernel_inputs("systemic"),
    output:
        metrics="results/systemic/finite_n/metrics.json",
        figure=report("results/systemic/finite_n/convergence.png", caption="../report/systemic.rst",
                      category="4b. Systemic shocks and heterogeneity", labels={"figure": "finite-N convergence"}),
    params:
        run=mfg_run_overrides(config["mfg"], SYSTEMIC["finite_n"]["scenario"]) if FINITE_N else {},
        settings=SYSTEMIC,
    log:
        "logs/systemic/finite_n_check.log",
    benchmark:
        "results/benchmarks/finite_n_check.tsv"
    conda:
        ENV
    script:
        "../../scripts/finite_n_check.py"

