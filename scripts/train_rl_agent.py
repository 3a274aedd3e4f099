"""Rule train_rl_agent: train PPO (optional extra `rl`) on one ticker and backtest it in the same market
(fill and mid models, seed) as the other strategies; hjb and the others have their own jobs."""
from mfg_finance.job_threads import use_job_threads

use_job_threads(snakemake.threads)  # numba's threads = the job's, set before numba loads (docs/workflow.md)

from mfg_finance.calibration import ticker_values
from mfg_finance.io import read_yaml, write_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.rl_train import backtest_ppo

log = configure_logging(snakemake.log[0])
ticker, p = snakemake.wildcards.ticker, snakemake.params
params = dict(ticker_values(read_yaml(snakemake.input[0]), ticker), order_size=p.order_size)
frame = backtest_ppo(params, horizon_s=p.horizon_s, dt_s=p.dt_s, n_paths=p.n_paths, seed=p.seed,
                     fill_model=p.fill_model, mid_model=p.mid_model, timesteps=p.timesteps,
                     train_seed=p.train_seed)
frame.insert(0, "ticker", ticker)
write_parquet(snakemake.output[0], frame)
log.info("%s/ppo: mean PnL %.4f BRL over %d paths", ticker, frame["final_pnl"].mean(), len(frame))
