"""Rule write_provenance: config hash, input checksums, package versions and git commit of the run."""
from mfg_finance.io import write_json
from mfg_finance.logs import configure_logging
from mfg_finance.report.provenance import collect_provenance

log = configure_logging(snakemake.log[0])
provenance = collect_provenance(snakemake.params.config, list(snakemake.input.cotahist))
provenance["source"] = snakemake.params.source
write_json(snakemake.output[0], provenance)
log.info("config %s, commit %s", provenance["config_sha256"][:12], provenance["git"]["commit"])
