"""Rule plot_quotes: GLFT and Avellaneda-Stoikov quotes against inventory and time for one ticker."""
from mfg_finance.calibration import ticker_values
from mfg_finance.io import read_yaml
from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.market_making import plot_quotes

log = configure_logging(snakemake.log[0])
params = ticker_values(read_yaml(snakemake.input[0]), snakemake.wildcards.ticker)
plot_quotes(dict(params, T=snakemake.params.horizon_s, order_size=snakemake.params.order_size), snakemake.output[0])
