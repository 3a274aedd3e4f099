"""Rule plot_quotes: GLFT and Avellaneda-Stoikov quotes against inventory and time, one figure per ticker."""
from mfg_finance.calibration.documents import ticker_values
from mfg_finance.io import read_yaml
from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.market_making import plot_quotes

log = configure_logging(snakemake.log[0])
calibrated = read_yaml(snakemake.input[0])
for ticker, path in zip(snakemake.params.tickers, snakemake.output):
    params = ticker_values(calibrated, ticker)
    plot_quotes(dict(params, T=snakemake.params.horizon_s, order_size=snakemake.params.order_size), path)
    log.info("%s: quotes plotted to %s", ticker, path)
