# Mean-field game solves (one job per scenario) and their verification against the exact LQ solution.


rule solve_mfg:
    input:
        "results/calibration/mfg_params.yaml",
        kernels=kernel_inputs("mfg"),
    output:
        solution="results/mfg/{scenario}/solution.npz",
        metrics="results/mfg/{scenario}/metrics.json",
        figures=[report(f"results/mfg/{{scenario}}/{name}.png", caption=f"../report/mfg_{name}.rst",
                        category="2. Mean-field game", subcategory="{scenario}",
                        labels={"scenario": "{scenario}", "figure": name.replace("_", " ")})
                 for name in MFG_FIGURES],
    params:
        run=lambda w: mfg_run_overrides(config["mfg"], w.scenario),
    log:
        "logs/mfg/solve_mfg_{scenario}.log",
    benchmark:
        "results/benchmarks/solve_mfg_{scenario}.tsv"
    conda:
        ENV
    script:
        "../../scripts/solve_mfg.py"


rule verify_mfg:
    input:
        "results/calibration/mfg_params.yaml",
        kernels=kernel_inputs("mfg"),
    output:
        metrics="results/mfg/verification/metrics.json",
        refinement="results/mfg/verification/refinement.csv",
        figures=[report(f"results/mfg/verification/{name}.png", caption=f"../report/verification_{name}.rst",
                        category="3. Verification", labels={"figure": name.replace("_", " ")})
                 for name in ["exact_comparison", "convergence_order"]],
    params:
        run=mfg_run_overrides(config["mfg"], SCENARIOS[0]),
        refinements=config["mfg"]["verification"]["refinements"],
        corners=VERIFICATION_CORNERS,
    log:
        "logs/mfg/verify_mfg.log",
    benchmark:
        "results/benchmarks/verify_mfg.tsv"
    conda:
        ENV
    script:
        "../../scripts/verify_mfg.py"
