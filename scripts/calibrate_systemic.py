"""Rule calibrate_systemic: sigma0 from the market-wide component of daily returns."""
from mfg_finance.calibration import parameter_values
from mfg_finance.io import read_parquet, read_yaml, write_yaml
from mfg_finance.logs import configure_logging
from mfg_finance.mfg.systemic_calibration import calibrate_sigma0

log = configure_logging(snakemake.log[0])
document = calibrate_sigma0(read_parquet(snakemake.input.returns),
                            parameter_values(read_yaml(snakemake.input.mfg_params)),
                            min_sessions=snakemake.params.min_sessions)
write_yaml(snakemake.output[0], document)
log.info("rho = %.4f (%s; SE %s, %s), sigma0 = %.4g (SE %s)", document["rho"]["value"], document["rho"]["reason"],
         document["rho"]["se"], document["rho"]["se_reason"], document["sigma0"]["value"], document["sigma0"]["se"])
