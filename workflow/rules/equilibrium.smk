# The market maker and the crowd in one equilibrium (docs/equilibrium.md): one solve per equilibrium scenario,
# and the liquidity-regimes grid in a single job (every point is a sub-second solve: one job, not one per point).

from mfg_finance.equilibrium.config import run_settings as equilibrium_run_settings

EQ = config["equilibrium"]
EQ_SCENARIOS = list(EQ["scenarios"])
EQ_FIGURES = ["paths", "convergence"]


# the regimes grid runs on the block's own settings (no scenario overrides) and the baseline crowd
EQ_BASE_RUN = {k: v for k, v in EQ.items() if k not in ("scenarios", "regimes")}

EQUILIBRIUM_REPORT_INPUTS = {
    "equilibrium_metrics": expand("results/equilibrium/{eq_scenario}/metrics.json", eq_scenario=EQ_SCENARIOS),
    "equilibrium_figures": expand("results/equilibrium/{eq_scenario}/{name}.png", eq_scenario=EQ_SCENARIOS,
                                  name=EQ_FIGURES),
    "regimes_table": "results/equilibrium/regimes.parquet",
    "regimes_summary": "results/equilibrium/regimes.json",
    "regimes_figure": "results/equilibrium/regimes.png",
}


wildcard_constraints:
    eq_scenario=_alternation(EQ_SCENARIOS),


rule solve_equilibrium:
    input:
        mfg_params=MFG_PARAMS,
        mm_params=MM_PARAMS,
        kernels=kernel_inputs("mfg", "equilibrium"),
    output:
        solution="results/equilibrium/{eq_scenario}/solution.npz",
        metrics="results/equilibrium/{eq_scenario}/metrics.json",
        figures=[report(f"results/equilibrium/{{eq_scenario}}/{name}.png", caption="../report/equilibrium.rst",
                        category="7. Equilibrium", subcategory="{eq_scenario}", labels={"figure": name})
                 for name in EQ_FIGURES],
    params:
        # the scenario's run settings (block keys with its overrides), and the crowd: the mfg scenario it names
        run=lambda w: equilibrium_run_settings(EQ, w.eq_scenario),
        mfg_run=lambda w: mfg_run_overrides(config["mfg"], equilibrium_run_settings(EQ, w.eq_scenario)["mfg_scenario"]),
    log:
        "logs/equilibrium/solve_equilibrium_{eq_scenario}.log",
    benchmark:
        "results/benchmarks/solve_equilibrium_{eq_scenario}.tsv"
    conda:
        ENV
    script:
        "../../scripts/solve_equilibrium.py"


rule sweep_regimes:
    input:
        mfg_params=MFG_PARAMS,
        mm_params=MM_PARAMS,
        kernels=kernel_inputs("mfg", "equilibrium"),
    output:
        table="results/equilibrium/regimes.parquet",
        summary="results/equilibrium/regimes.json",
        figure=report("results/equilibrium/regimes.png", caption="../report/equilibrium_regimes.rst",
                      category="7. Equilibrium", labels={"figure": "regimes"}),
    params:
        run=EQ_BASE_RUN,
        mfg_run=mfg_run_overrides(config["mfg"], EQ_BASE_RUN.get("mfg_scenario", "baseline")),
        regimes=EQ["regimes"],
    log:
        "logs/equilibrium/sweep_regimes.log",
    benchmark:
        "results/benchmarks/sweep_regimes.tsv"
    conda:
        ENV
    script:
        "../../scripts/sweep_regimes.py"
