# Market-making backtests against recorded trades (docs/market_making.md, "Replay"): when trade files are
# present (data.trades, or the sample run's synthetic sessions), every strategy is replayed on every
# (session, ticker) in three variants (front of the queue without latency / configured queue / configured
# queue and latency), then compared with the Monte Carlo backtests. One job per session replays every
# (ticker, strategy) of it (batched: each replay is short next to a job's start-up), one file each.


rule replay_market_making:
    input:
        trades="results/trades/sessions/{session}.parquet",
        params=MM_PARAMS,
        kernels=kernel_inputs("replay"),
    output:
        expand("results/market_making/replay/{{session}}/{ticker}/{strategy}.parquet", ticker=MM["tickers"],
               strategy=REPLAY_STRATEGIES),
    params:
        tickers=MM["tickers"],
        strategies=REPLAY_STRATEGIES,
        replay=REPLAY_SETTINGS,
        order_size=MM["order_size"],
        session_start=REPLAY["session_start"],
        session_end=REPLAY["session_end"],
    wildcard_constraints:
        session=_alternation(TRADE_SESSIONS),
    log:
        "logs/market_making/replay_{session}.log",
    benchmark:
        "results/benchmarks/replay_{session}.tsv"
    conda:
        ENV
    script:
        "../../scripts/replay_market_making.py"


rule aggregate_replays:
    input:
        replays=[f"results/market_making/replay/{s}/{t}/{k}.parquet" for s, t, k in REPLAY_JOBS],
        simulated="results/market_making/backtest_stats.parquet",
        params=MM_PARAMS,
    output:
        rows="results/market_making/replay/replays.parquet",
        comparison="results/market_making/replay/comparison.csv",
        stats="results/market_making/replay/statistics.csv",
        summary="results/market_making/replay/summary.json",
        figure=report("results/market_making/replay/comparison.png", caption="../report/mm_replay.rst",
                      category="5. Market making", subcategory="replay", labels={"figure": "replay vs simulation"}),
    params:
        jobs=[list(job) for job in REPLAY_JOBS],
        replay=REPLAY_SETTINGS,
        order_size=MM["order_size"],
        source=TRADES_SOURCE,
    log:
        "logs/market_making/aggregate_replays.log",
    benchmark:
        "results/benchmarks/aggregate_replays.tsv"
    conda:
        ENV
    script:
        "../../scripts/aggregate_replays.py"
