# Data: COTAHIST files (synthetic sample | B3 download | local files) -> typed Parquet.

import re


rule make_sample_cotahist:
    priority: CRITICAL_PATH
    output:
        cotahist="resources/cotahist/sample/COTAHIST_SAMPLE.TXT",
        truth="resources/cotahist/sample/COTAHIST_SAMPLE_events.csv",
    params:
        sample=config["data"]["sample"],
    log:
        "logs/data/make_sample_cotahist.log",
    benchmark:
        "results/benchmarks/make_sample_cotahist.tsv"
    conda:
        ENV
    script:
        "../../scripts/make_sample_cotahist.py"


# Compute nodes of a cluster often have no internet access: downloads run on the submitting host;
# summarize_ingest only joins small JSON records, not worth a place in the queue.
localrules:
    download_cotahist,
    summarize_ingest,


rule download_cotahist:
    output:
        "resources/cotahist/b3/COTAHIST_A{year}.ZIP",
    params:
        url=lambda w: config["data"]["b3"]["url_template"].format(year=w.year),
        retries=config["data"]["b3"]["retries"],
        timeout_s=config["data"]["b3"]["timeout_s"],
    wildcard_constraints:
        year="[0-9]{4}",
    log:
        "logs/data/download_cotahist_{year}.log",
    conda:
        ENV
    script:
        "../../scripts/download_cotahist.py"


# One job per input file (parallel locally, one cluster job each): its records, year by year, in
# results/data/quotes/{cotahist_file}/year=YYYY/part-0.parquet (docs/cotahist.md, "Forty years").
rule ingest_cotahist:
    priority: CRITICAL_PATH
    input:
        cotahist_file_path,
        # with every real source (not only with several files): adding a file must not change the inputs of the
        # others' jobs; the sample is one file, whose job compiles its kernels itself (no job to wait for)
        kernels=kernel_inputs("cotahist") if config["data"]["source"] != "sample" else [],
    output:
        quotes=directory("results/data/quotes/{cotahist_file}"),
        record="results/data/ingest/{cotahist_file}.json",
    params:
        on_error=config["ingest"]["on_error"],
        inputs=cotahist_file_fingerprint,
    wildcard_constraints:
        cotahist_file="|".join(re.escape(key) for key in COTAHIST_FILES) or "(?!)",
    log:
        "logs/data/ingest_cotahist_{cotahist_file}.log",
    benchmark:
        "results/benchmarks/ingest_cotahist_{cotahist_file}.tsv"
    conda:
        ENV
    script:
        "../../scripts/ingest_cotahist.py"


rule summarize_ingest:
    input:
        INGEST_RECORDS,
    output:
        summary="results/data/ingest_summary.json",
        rejects="results/data/rejects.txt",
    params:
        on_error=config["ingest"]["on_error"],
        source=config["data"]["source"],
        inputs=cotahist_fingerprint,
    log:
        "logs/data/summarize_ingest.log",
    benchmark:
        "results/benchmarks/summarize_ingest.tsv"
    conda:
        ENV
    script:
        "../../scripts/summarize_ingest.py"


rule select_equities:
    priority: CRITICAL_PATH
    input:
        quotes=QUOTES_DATASET,
    output:
        equities="results/data/equities.parquet",
        universe="results/data/universe.parquet",
    params:
        classes=config["selection"]["classes"],
        codbdi=config["selection"]["codbdi"],
        market_types=config["selection"]["market_types"],
    log:
        "logs/data/select_equities.log",
    benchmark:
        "results/benchmarks/select_equities.tsv"
    conda:
        ENV
    script:
        "../../scripts/select_equities.py"


rule infer_corporate_events:
    priority: CRITICAL_PATH
    input:
        equities="results/data/equities.parquet",
        files=[entry["path"] for entry in config["corporate_actions"]["files"]],
    output:
        events="results/data/corporate_events.parquet",
        summary="results/data/corporate_events_summary.json",
    params:
        tolerance=config["corporate_actions"]["tolerance"],
        quantity_window=config["corporate_actions"]["quantity_window"],
        later_sessions=config["corporate_actions"]["later_sessions"],
        later_sigmas=config["corporate_actions"]["later_sigmas"],
        files=config["corporate_actions"]["files"],
    log:
        "logs/data/infer_corporate_events.log",
    benchmark:
        "results/benchmarks/infer_corporate_events.tsv"
    conda:
        ENV
    script:
        "../../scripts/infer_corporate_events.py"
