# Market making beyond one asset (issue 18): correlated portfolios (exact lattice and closed-form
# quotes, backtests per portfolio and strategy), Heston robustness study, CVaR-limited risk aversion.

from mfg_finance.config import market_making_portfolios
from mfg_finance.market_making.portfolio_names import portfolio_name

MULTI = MM["multi_asset"]
HESTON = MM["heston"]
RISK = MM["risk_limit"]
PORTFOLIOS = {portfolio_name(p): p for p in market_making_portfolios(MM)} if MULTI["enabled"] else {}
# one study per market-making ticker (heston.ticker: null), or only the one named
HESTON_TICKERS = ([HESTON["ticker"]] if HESTON["ticker"] else list(MM["tickers"])) if HESTON["enabled"] else []
MULTI_REPORT_INPUTS = {
    "multi_asset_stats": "results/market_making/multi_asset_stats.parquet" if PORTFOLIOS else [],
    "multi_asset_params": expand("results/market_making/portfolios/{portfolio}/params.yaml", portfolio=list(PORTFOLIOS)),
    "multi_asset_solves": expand("results/market_making/portfolios/{portfolio}/approximation.json",
                                 portfolio=list(PORTFOLIOS)),
    "multi_asset_surfaces": expand("results/market_making/portfolios/{portfolio}/quote_surface.png",
                                   portfolio=list(PORTFOLIOS)),
    "risk_limit_choices": expand("results/market_making/portfolios/{portfolio}/risk_limit.json",
                                 portfolio=list(PORTFOLIOS) if RISK["enabled"] else []),
    "risk_limit_frontiers": expand("results/market_making/portfolios/{portfolio}/frontier.csv",
                                   portfolio=list(PORTFOLIOS) if RISK["enabled"] else []),
    "risk_limit_figures": expand("results/market_making/portfolios/{portfolio}/frontier.png",
                                 portfolio=list(PORTFOLIOS) if RISK["enabled"] else []),
    "heston_params": expand("results/market_making/heston/{ticker}/params.yaml", ticker=HESTON_TICKERS),
    "heston_tables": expand("results/market_making/heston/{ticker}/study.csv", ticker=HESTON_TICKERS),
}


MULTI_BACKTEST_FILES = expand("results/market_making/portfolios/{portfolio}/{multi_strategy}.parquet",
                              portfolio=list(PORTFOLIOS), multi_strategy=MULTI["strategies"])


rule calibrate_portfolio:
    input:
        mm_params=MM_PARAMS,
        returns="results/stats/returns.parquet",
    output:
        "results/market_making/portfolios/{portfolio}/params.yaml",
    params:
        tickers=lambda w: PORTFOLIOS[w.portfolio],
        gamma=MULTI["gamma"] if MULTI["gamma"] is not None else MM["gamma"],
        horizon_s=MM["horizon_s"],
        order_size=MM["order_size"],
        min_common_sessions=MULTI["min_common_sessions"],
    wildcard_constraints:
        portfolio=_alternation(PORTFOLIOS),
    priority: LONG_CHAIN
    log:
        "logs/market_making/calibrate_portfolio_{portfolio}.log",
    benchmark:
        "results/benchmarks/calibrate_portfolio_{portfolio}.tsv"
    conda:
        ENV
    script:
        "../../scripts/calibrate_portfolio.py"


rule solve_multi_asset:
    input:
        "results/market_making/portfolios/{portfolio}/params.yaml",
    output:
        summary="results/market_making/portfolios/{portfolio}/approximation.json",
        figure=report("results/market_making/portfolios/{portfolio}/quote_surface.png",
                      caption="../report/mm_multi_asset.rst", category="5. Market making",
                      subcategory="multi-asset", labels={"portfolio": "{portfolio}", "figure": "quote surface"}),
    params:
        near_lots=MULTI["near_lots"],
    wildcard_constraints:
        portfolio=_alternation(PORTFOLIOS),
    log:
        "logs/market_making/solve_multi_asset_{portfolio}.log",
    benchmark:
        "results/benchmarks/solve_multi_asset_{portfolio}.tsv"
    conda:
        ENV
    script:
        "../../scripts/solve_multi_asset.py"


rule backtest_multi_asset:
    # one job per portfolio runs every strategy (one file each, the same bytes as a job of its own)
    input:
        "results/market_making/portfolios/{portfolio}/params.yaml",
    output:
        expand("results/market_making/portfolios/{{portfolio}}/{multi_strategy}.parquet",
               multi_strategy=MULTI["strategies"]),
    params:
        strategies=MULTI["strategies"],
        dt_s=MM["dt_s"],
        n_paths=MULTI["n_paths"],
        seed=MULTI["seed"],
        table_dt_s=MULTI["table_dt_s"],
        fill_model=MM["fill_model"],
    wildcard_constraints:
        portfolio=_alternation(PORTFOLIOS),
    priority: LONG_CHAIN
    log:
        "logs/market_making/backtest_multi_asset_{portfolio}.log",
    benchmark:
        "results/benchmarks/backtest_multi_asset_{portfolio}.tsv"
    conda:
        ENV
    script:
        "../../scripts/backtest_multi_asset.py"


rule aggregate_multi_asset:
    input:
        MULTI_BACKTEST_FILES,
    output:
        table="results/market_making/multi_asset_stats.parquet",
        csv="results/market_making/multi_asset_stats.csv",
    params:
        cvar_level=RISK["cvar_level"],
    log:
        "logs/market_making/aggregate_multi_asset.log",
    benchmark:
        "results/benchmarks/aggregate_multi_asset.tsv"
    conda:
        ENV
    script:
        "../../scripts/aggregate_multi_asset.py"


rule study_heston:
    input:
        mm_params=MM_PARAMS,
        returns="results/stats/returns.parquet",
        intraday=intraday_input,
    output:
        params="results/market_making/heston/{ticker}/params.yaml",
        table="results/market_making/heston/{ticker}/study.csv",
    params:
        heston=HESTON,
        horizon_s=MM["horizon_s"],
        dt_s=MM["dt_s"],
        table_dt_s=MULTI["table_dt_s"],
        order_size=MM["order_size"],
        fill_model=MM["fill_model"],
    log:
        "logs/market_making/study_heston_{ticker}.log",
    benchmark:
        "results/benchmarks/study_heston_{ticker}.tsv"
    conda:
        ENV
    script:
        "../../scripts/study_heston.py"


rule search_risk_limit:
    input:
        "results/market_making/portfolios/{portfolio}/params.yaml",
    output:
        frontier="results/market_making/portfolios/{portfolio}/frontier.csv",
        choice="results/market_making/portfolios/{portfolio}/risk_limit.json",
        figure=report("results/market_making/portfolios/{portfolio}/frontier.png",
                      caption="../report/mm_risk_limit.rst", category="5. Market making",
                      subcategory="risk limit", labels={"portfolio": "{portfolio}", "figure": "frontier"}),
    params:
        risk_limit=RISK,
        dt_s=MM["dt_s"],
        table_dt_s=MULTI["table_dt_s"],
        fill_model=MM["fill_model"],
    wildcard_constraints:
        portfolio=_alternation(PORTFOLIOS),
    priority: LONG_CHAIN
    log:
        "logs/market_making/search_risk_limit_{portfolio}.log",
    benchmark:
        "results/benchmarks/search_risk_limit_{portfolio}.tsv"
    conda:
        ENV
    script:
        "../../scripts/search_risk_limit.py"
