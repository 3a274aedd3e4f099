# Trade-by-trade files (synthetic sample | B3 download | local files) -> typed Parquet per session
# -> intraday estimates per ticker (read by calibrate). Nothing here runs with data.trades.source: none
# on real data.


rule make_sample_trades:
    priority: CRITICAL_PATH
    # one job writes every synthetic session (each takes a fraction of a job's start-up)
    input:
        "results/stats/asset_stats.parquet",
    output:
        SAMPLE_TRADE_FILES,
    params:
        sample=TRADES["sample"],
        tickers=INTRADAY_TICKERS,
    log:
        "logs/trades/make_sample_trades.log",
    benchmark:
        "results/benchmarks/make_sample_trades.tsv"
    conda:
        ENV
    script:
        "../../scripts/make_sample_trades.py"


localrules:
    download_trades,


rule download_trades:
    output:
        "resources/trades/b3/{session}.zip",
    params:
        url=lambda w: TRADES["b3"]["url_template"].format(date=w.session),
        retries=TRADES["b3"]["retries"],
        timeout_s=TRADES["b3"]["timeout_s"],
    wildcard_constraints:
        session="[0-9]{4}-[0-9]{2}-[0-9]{2}",
    log:
        "logs/trades/download_trades_{session}.log",
    conda:
        ENV
    script:
        "../../scripts/download_trades.py"


rule ingest_trades:
    priority: CRITICAL_PATH
    input:
        lambda w: TRADE_FILES[w.session],
        kernels=kernel_inputs("trades"),
    output:
        trades="results/trades/sessions/{session}.parquet",
        bars="results/trades/sessions/{session}_bars.parquet",
        summary="results/trades/sessions/{session}_summary.json",
        rejects="results/trades/sessions/{session}_rejects.txt",
    params:
        on_error=config["ingest"]["on_error"],
    wildcard_constraints:
        session=_alternation(TRADE_SESSIONS),
    log:
        "logs/trades/ingest_trades_{session}.log",
    benchmark:
        "results/benchmarks/ingest_trades_{session}.tsv"
    conda:
        ENV
    script:
        "../../scripts/ingest_trades.py"


rule estimate_intraday:
    priority: CRITICAL_PATH
    input:
        expand("results/trades/sessions/{session}.parquet", session=TRADE_SESSIONS),
    output:
        INTRADAY_ESTIMATES,
    params:
        tickers=INTRADAY_TICKERS,
        settings=config["calibration"]["intraday"],
        source=TRADES_SOURCE,
    log:
        "logs/trades/estimate_intraday.log",
    benchmark:
        "results/benchmarks/estimate_intraday.tsv"
    conda:
        ENV
    script:
        "../../scripts/estimate_intraday.py"


rule plot_intraday:
    input:
        INTRADAY_ESTIMATES,
    output:
        expand("results/trades/figures/{name}.png", name=INTRADAY_FIGURE_NAMES),
    log:
        "logs/trades/plot_intraday.log",
    benchmark:
        "results/benchmarks/plot_intraday.tsv"
    conda:
        ENV
    script:
        "../../scripts/plot_intraday.py"
