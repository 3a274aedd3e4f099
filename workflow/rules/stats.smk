# Statistics: returns, volatility and liquidity per asset, and the analytics charts.


rule compute_stats:
    priority: CRITICAL_PATH
    input:
        equities="results/data/equities.parquet",
        events="results/data/corporate_events.parquet",
    output:
        returns="results/stats/returns.parquet",
        asset_stats="results/stats/asset_stats.parquet",
        summary="results/stats/summary.json",
    params:
        stats=config["stats"],
    log:
        "logs/stats/compute_stats.log",
    benchmark:
        "results/benchmarks/compute_stats.tsv"
    conda:
        ENV
    script:
        "../../scripts/compute_stats.py"


rule plot_analytics:
    input:
        equities="results/data/equities.parquet",
        returns="results/stats/returns.parquet",
        asset_stats="results/stats/asset_stats.parquet",
    output:
        [report(f, caption=f"../report/analytics_{Path(f).stem}.rst", category="1. Data",
                labels={"figure": Path(f).stem.replace("_", " ")}) for f in ANALYTICS_FIGURES],
    params:
        top_n=config["analytics"]["top_n"],
    log:
        "logs/stats/plot_analytics.log",
    benchmark:
        "results/benchmarks/plot_analytics.tsv"
    conda:
        ENV
    script:
        "../../scripts/plot_analytics.py"
