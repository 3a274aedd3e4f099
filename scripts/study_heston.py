"""Rule study_heston: Heston calibration of one ticker (intraday realized variances when trade files gave a fit, else
daily bars, else the config), then GLFT constant-sigma vs variance-aware quotes."""
from mfg_finance.calibration import ticker_values
from mfg_finance.io import read_json, read_parquet, read_yaml, write_text, write_yaml
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.heston import HestonParameters
from mfg_finance.market_making.heston_calibration import calibrate_heston
from mfg_finance.market_making.heston_study import heston_study
from mfg_finance.market_making.market import MarketParameters

log = configure_logging(snakemake.log[0])
p = snakemake.params
ticker = snakemake.wildcards.ticker
market = MarketParameters.from_mapping(dict(ticker_values(read_yaml(snakemake.input.mm_params), ticker),
                                            order_size=p.order_size))
intraday = read_json(snakemake.input.intraday[0]) if snakemake.input.intraday else {"tickers": {}, "missing": {}}
entry = intraday["tickers"].get(ticker, {})
why_not = (entry.get("errors", {}).get("heston") or intraday["missing"].get(ticker)
           or ("no trade files" if not snakemake.input.intraday else None)
           or (None if entry.get("heston") else "no Heston fit in the intraday estimates"))
calibrated = calibrate_heston(read_parquet(snakemake.input.returns), ticker, sigma=market.sigma, S0=market.S0,
                              settings=p.heston, where=str(snakemake.input.returns), intraday=entry.get("heston"),
                              intraday_reason=why_not)
heston = HestonParameters(**calibrated["parameters"])
table = heston_study(market, heston, horizon_s=p.horizon_s, dt_s=p.dt_s, n_paths=p.heston["n_paths"],
                     seed=p.heston["seed"], table_dt_s=p.table_dt_s, n_grid=p.heston["n_grid"],
                     fill_model=p.fill_model)
table.insert(0, "ticker", ticker)
write_yaml(snakemake.output.params, {"ticker": ticker, **calibrated, "feller_ratio": heston.feller,
                                     "units": {"kappa": "1/s (trading time)", "theta": "1/s", "xi": "1/s",
                                               "v0": "1/s", "rho": "1"}})
write_text(snakemake.output.table, table.to_csv(index=False, float_format="%.10g"))
log.info("%s: Heston %s (%s: %s)", ticker, calibrated["parameters"], calibrated["source"], calibrated["reason"])
