"""Rule train_rl_agent: train PPO (optional extra `rl`) on one ticker and backtest it beside hjb."""
from mfg_finance.calibration import ticker_values
from mfg_finance.io import read_yaml, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.rl_train import backtest_ppo_beside_hjb

log = configure_logging(snakemake.log[0])
ticker, p = snakemake.wildcards.ticker, snakemake.params
params = dict(ticker_values(read_yaml(snakemake.input[0]), ticker), order_size=p.order_size)
frame = backtest_ppo_beside_hjb(params, horizon_s=p.horizon_s, dt_s=p.dt_s, n_paths=p.n_paths, seed=p.seed,
                                timesteps=p.timesteps, train_seed=p.train_seed)
frame = frame[frame["strategy"] == "ppo"].reset_index(drop=True)  # hjb already has its own job
frame.insert(0, "ticker", ticker)
write_parquet(snakemake.output[0], frame)
log.info("%s/ppo: mean PnL %.4f BRL over %d paths", ticker, frame["final_pnl"].mean(), len(frame))
