"""Rule compare_mfg_intraday: the first scenario solved again with the daily heuristics in place of the
intraday parameters; both solves' outcomes with their estimated errors (mfg_finance.calibration.comparison)."""
from mfg_finance.calibration.comparison import heuristic_values, intraday_parameters, outcome_changes
from mfg_finance.config import solver_config
from mfg_finance.io import read_json, read_yaml, write_json
from mfg_finance.logs import configure_logging
from mfg_finance.mfg import solve
from mfg_finance.mfg.outputs import solution_metrics

log = configure_logging(snakemake.log[0])
doc = read_yaml(snakemake.input.params)
used = intraday_parameters(doc)
out = {"scenario": snakemake.params.scenario, "intraday_parameters": used,
       "parameters": {n: {"heuristic": doc["parameters"][n]["heuristic_value"], "intraday": doc["parameters"][n]["value"],
                          "se": doc["parameters"][n].get("se"), "unit": doc["parameters"][n]["unit"]} for n in used}}
if used:
    heuristic = solution_metrics(solve(solver_config(heuristic_values(doc), snakemake.params.run)), wall_time=False)
    out["outcomes"] = outcome_changes(heuristic, read_json(snakemake.input.metrics))
else:
    out["reason"] = doc.get("intraday", {}).get("reason", "no MFG parameter came from the trade files")
write_json(snakemake.output[0], out)
log.info("MFG with heuristic vs intraday parameters (%s): %s", used, out.get("outcomes", out.get("reason")))
