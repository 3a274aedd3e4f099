"""Rule solve_multi_asset: exact and approximate quotes of a portfolio, their gap, the quote surface."""
from mfg_finance.io import read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.multi_asset import parameters_from_document
from mfg_finance.market_making.multi_surface import quote_surface
from mfg_finance.report.figures.multi_asset import plot_quote_surface

log = configure_logging(snakemake.log[0])
doc = read_yaml(snakemake.input[0])
params = parameters_from_document(doc)
surface = quote_surface(params, near=snakemake.params.near_lots)
tick = float(doc["tick_size"][0])
summary = {"portfolio": doc["portfolio"], "tickers": doc["tickers"], "t": 0.0, "horizon_s": doc["horizon_s"],
           "exact_method": surface["method"], "unit": "BRL", "tick_size": tick,
           "error": surface["error"],
           "error_ticks": {k: v / tick for k, v in (surface["error"] or {}).items()
                           if k.startswith(("max_error", "mean_error"))}}
write_json(snakemake.output.summary, summary)
plot_quote_surface(surface, doc["tickers"], tick, snakemake.output.figure)
log.info("%s: approximation error %s", doc["portfolio"], summary["error"])
