"""Rule calibrate_portfolio: joint parameters of a portfolio (covariance from daily-return correlation)."""
from mfg_finance.calibration import ticker_values
from mfg_finance.io import read_parquet, read_yaml, write_yaml
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.multi_backtest import portfolio_document

log = configure_logging(snakemake.log[0])
p = snakemake.params
mm_doc = read_yaml(snakemake.input.mm_params)
markets = [MarketParameters.from_mapping(dict(ticker_values(mm_doc, t), order_size=p.order_size),
                                         where=f"{snakemake.input.mm_params} [{t}]") for t in p.tickers]
doc = portfolio_document(p.tickers, markets, read_parquet(snakemake.input.returns), gamma=p.gamma,
                         horizon_s=p.horizon_s, min_sessions=p.min_common_sessions,
                         where=str(snakemake.input.returns))
write_yaml(snakemake.output[0], doc)
log.info("%s: correlation %s over %d common sessions", doc["portfolio"], doc["correlation"], doc["n_common_sessions"])
