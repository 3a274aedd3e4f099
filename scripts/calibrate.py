"""Rule calibrate: MFG ({model}=mfg) or market-making ({model}=mm) parameters: daily heuristics, replaced by
intraday estimates where trade files gave them (each parameter records its source)."""
from mfg_finance.calibration import apply_intraday_mfg, apply_intraday_mm, calibrate_mfg, calibrate_mm
from mfg_finance.io import read_json, read_parquet, write_yaml
from mfg_finance.logs import configure_logging

log = configure_logging(snakemake.log[0])
asset_stats = read_parquet(snakemake.input.stats)
intraday = read_json(snakemake.input.intraday[0]) if snakemake.input.intraday else None
settings = dict(snakemake.params.settings)
if snakemake.wildcards.model == "mfg":
    median = settings.pop("intraday_median")
    document = apply_intraday_mfg(calibrate_mfg(asset_stats, **settings), intraday, asset_stats if median else None)
else:
    document = apply_intraday_mm(calibrate_mm(asset_stats, **settings), intraday, flow_share=settings["flow_share"])
write_yaml(snakemake.output[0], document)
for warning in document.get("warnings", []):
    log.warning(warning)
log.info("intraday: %s", document.get("intraday"))
log.info("calibration written to %s", snakemake.output[0])
