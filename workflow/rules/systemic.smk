# Systemic shocks and heterogeneous crowds: sigma0 calibration, common-noise and multi-type scenarios,
# the finite-N check and the systemic sweeps (docs/mfg.md, sections 8-10).


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


rule sweep_systemic:
    input:
        mfg_params=MFG_PARAMS,
        systemic_params=SYSTEMIC_PARAMS,
    output:
        table="results/systemic/sweeps.json",
        sigma0_figure=report("results/systemic/sweep_sigma0.png", caption="../report/systemic.rst",
                             category="4b. Systemic shocks and heterogeneity", labels={"figure": "sweep sigma0"}),
        share_figure=report("results/systemic/sweep_urgent_share.png", caption="../report/systemic.rst",
                            category="4b. Systemic shocks and heterogeneity", labels={"figure": "sweep urgent share"}),
    params:
        common_noise_run=mfg_run_overrides(config["mfg"], SYSTEMIC_SWEEP_SCENARIOS[0]) if SYSTEMIC_SWEEPS else {},
        types_run=mfg_run_overrides(config["mfg"], SYSTEMIC_SWEEP_SCENARIOS[1]) if SYSTEMIC_SWEEPS else {},
        sweeps=SYSTEMIC["sweeps"],
        settings=SYSTEMIC,
    log:
        "logs/systemic/sweep_systemic.log",
    benchmark:
        "results/benchmarks/sweep_systemic.tsv"
    conda:
        ENV
    script:
        "../../scripts/sweep_systemic.py"
