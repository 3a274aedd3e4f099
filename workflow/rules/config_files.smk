# Included before `configfile:`: the config files are read strictly first, so a YAML syntax error
# gets its file, line and column, and a key given twice is refused instead of silently taking the
# last value (Snakemake's own loader does neither).

import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from mfg_finance.errors import ConfigError
from mfg_finance.user_yaml import read_user_yaml

for _path in [Path("config/config.yaml"), *map(Path, workflow.overwrite_configfiles)]:
    if _path.is_file():  # a missing file is Snakemake's to report
        try:
            read_user_yaml(_path)
        except ConfigError as exc:
            raise WorkflowError(f"Invalid configuration file: {exc}")
