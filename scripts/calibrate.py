"""Rule calibrate: heuristic calibration of the MFG ({model}=mfg) or market-making ({model}=mm) parameters."""
from mfg_finance.calibration import calibrate_mfg, calibrate_mm
from mfg_finance.io import read_parquet, write_yaml
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
asset_stats = read_parquet(snakemake.input[0])
settings = snakemake.params.settings
if snakemake.wildcards.model == "mfg":
    document = calibrate_mfg(asset_stats, representative=settings["representative"],
                             overrides=settings["overrides"])
else:
    document = calibrate_mm(asset_stats, tickers=settings["tickers"], gamma=settings["gamma"],
                            Q_max=settings["Q_max"], overrides=settings["overrides"])
write_yaml(snakemake.output[0], document)
log.info("calibration written to %s", snakemake.output[0])
