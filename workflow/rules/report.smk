# Notebooks (papermill) and the self-contained HTML report. The report() flags (here and in the other
# rule files) also feed Snakemake's own report: `snakemake --report report.html` after a run.


report: "../report/workflow.rst"


rule run_notebook:
    input:
        notebook="workflow/notebooks/{nb}.ipynb",
        artefacts=lambda w: list(NOTEBOOK_INPUTS[w.nb].values()),
    output:
        ipynb="results/notebooks/{nb}.ipynb",
        html=report("results/notebooks/{nb}.html", caption="../report/notebook.rst",
                    category="6. Report and notebooks", subcategory="notebooks",
                    labels={"notebook": "{nb}"}),
    params:
        parameters=notebook_parameters,
    wildcard_constraints:
        nb="mfg_pipeline|market_making",
    log:
        "logs/report/run_notebook_{nb}.log",
    benchmark:
        "results/benchmarks/run_notebook_{nb}.tsv"
    conda:
        ENV
    script:
        "../../scripts/run_notebook.py"


# Provenance describes results: it is written once every result of the report exists (so a failed
# run leaves none behind), and records the checksums of the COTAHIST files.
rule write_provenance:
    input:
        cotahist=cotahist_files,
        results=[REPORT_INPUTS[name] for name in REPORT_INPUTS if name != "provenance"],
    output:
        "results/provenance.json",
    params:
        config=config,
        source=config["data"]["source"],
    log:
        "logs/report/write_provenance.log",
    conda:
        ENV
    script:
        "../../scripts/write_provenance.py"


rule render_report:
    input:
        **REPORT_INPUTS,
        **MULTI_REPORT_INPUTS,
        **EQUILIBRIUM_REPORT_INPUTS,
        templates=glob.glob("workflow/templates/*.j2"),
    output:
        report("reports/final/mfg_report.html", caption="../report/final_report.rst",
               category="6. Report and notebooks", subcategory="report",
               labels={"file": "mfg_report.html"}),
    params:
        title=config["report"]["title"],
        source=config["data"]["source"],
        config=config,
        # {rule: benchmark path pattern}: the report attributes each benchmark file to its rule
        benchmarks=lambda w: {r.name: str(r.benchmark) for r in workflow.rules
                              if r.benchmark and not callable(r.benchmark)},
    log:
        "logs/report/render_report.log",
    benchmark:
        "results/benchmarks/render_report.tsv"
    conda:
        ENV
    script:
        "../../scripts/render_report.py"
