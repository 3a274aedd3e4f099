"""Rule calibrate: heuristic calibration of the MFG ({model}=mfg) or market-making ({model}=mm) parameters."""
from mfg_finance.calibration import calibrate_mfg, calibrate_mm
from mfg_finance.io import read_parquet, write_yaml
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
asset_stats = read_parquet(snakemake.input[0])
calibrate = calibrate_mfg if snakemake.wildcards.model == "mfg" else calibrate_mm
document = calibrate(asset_stats, **snakemake.params.settings)
write_yaml(snakemake.output[0], document)
for warning in document.get("warnings", []):
    log.warning(warning)
log.info("calibration written to %s", snakemake.output[0])
