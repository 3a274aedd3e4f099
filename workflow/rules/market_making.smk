# Market making: GLFT / Avellaneda-Stoikov quotes, Monte Carlo backtests (one job per ticker runs every
# strategy, one file per (ticker, strategy)), and the reproduction of Avellaneda & Stoikov (2008).
# Batched jobs (docs/workflow.md): each backtest or quote plot takes well under a second, so one job runs
# several; outputs are per item, as before, and the same bytes as one job per item.


rule backtest_market_making:
    input:
        "results/calibration/mm_params.yaml",
        kernels=kernel_inputs("market_making"),
    output:
        expand("results/market_making/{{ticker}}/{strategy}.parquet", strategy=MM["strategies"]),
    params:
        strategies=MM["strategies"],
        horizon_s=MM["horizon_s"],
        dt_s=MM["dt_s"],
        n_paths=MM["n_paths"],
        seed=MM["seed"],
        order_size=MM["order_size"],
        fill_model=MM["fill_model"],
        mid_model=MM["mid_model"],
    log:
        "logs/market_making/backtest_{ticker}.log",
    benchmark:
        "results/benchmarks/backtest_{ticker}.tsv"
    conda:
        ENV
    script:
        "../../scripts/backtest_market_making.py"


rule plot_quotes:
    # one job plots every ticker's quotes
    input:
        "results/calibration/mm_params.yaml",
    output:
        [report(f"results/market_making/{ticker}/quotes.png", caption="../report/mm_quotes.rst",
                category="5. Market making", subcategory="quotes", labels={"ticker": ticker})
         for ticker in MM["tickers"]],
    params:
        tickers=MM["tickers"],
        horizon_s=MM["horizon_s"],
        order_size=MM["order_size"],
    log:
        "logs/market_making/plot_quotes.log",
    benchmark:
        "results/benchmarks/plot_quotes.tsv"
    conda:
        ENV
    script:
        "../../scripts/plot_quotes.py"


rule aggregate_backtests:
    input:
        backtest_files,
    output:
        table="results/market_making/backtest_stats.parquet",
        csv="results/market_making/backtest_stats.csv",
        pnl=report("results/market_making/pnl_distribution.png", caption="../report/mm_pnl_distribution.rst",
                   category="5. Market making", subcategory="backtests", labels={"figure": "PnL distribution"}),
        inventory=report("results/market_making/inventory_distribution.png",
                         caption="../report/mm_inventory_distribution.rst", category="5. Market making",
                         subcategory="backtests", labels={"figure": "inventory distribution"}),
    log:
        "logs/market_making/aggregate_backtests.log",
    benchmark:
        "results/benchmarks/aggregate_backtests.tsv"
    conda:
        ENV
    script:
        "../../scripts/aggregate_backtests.py"


rule reproduce_avellaneda_stoikov:
    output:
        "results/market_making/avellaneda_stoikov_2008.csv",
    params:
        n_paths=MM["reproduction"]["n_paths"],
        seed=MM["reproduction"]["seed"],
    priority: LONG_CHAIN
    log:
        "logs/market_making/reproduce_avellaneda_stoikov.log",
    benchmark:
        "results/benchmarks/reproduce_avellaneda_stoikov.tsv"
    conda:
        ENV
    script:
        "../../scripts/reproduce_avellaneda_stoikov.py"


rule train_rl_agent:
    # Optional (market_making.rl.enabled, extra `rl`): PPO trained per ticker in the configured market
    # (fill_model, mid_model) and backtested on the same random numbers as the other strategies.
    input:
        "results/calibration/mm_params.yaml",
    output:
        "results/market_making/{ticker}/ppo.parquet",
    params:
        horizon_s=MM["horizon_s"],
        dt_s=MM["dt_s"],
        n_paths=MM["n_paths"],
        seed=MM["seed"],
        order_size=MM["order_size"],
        fill_model=MM["fill_model"],
        mid_model=MM["mid_model"],
        timesteps=MM["rl"]["timesteps"],
        train_seed=MM["rl"]["seed"],
    log:
        "logs/market_making/train_rl_agent_{ticker}.log",
    benchmark:
        "results/benchmarks/train_rl_agent_{ticker}.tsv"
    conda:
        "../../envs/rl.yaml"
    script:
        "../../scripts/train_rl_agent.py"
