# numba kernels compiled into the cache once, before the jobs that call them (mfg_finance.kernel_warmup,
# docs/workflow.md "numba cache"). One job per group of families; no inputs, high priority: on a laptop they
# fill the core the (serial) data stage leaves idle. A job calling kernels of a family lists
# kernel_inputs(family) as an input, ancient(): a new warm-up record (e.g. after deleting results/kernels)
# never reruns the jobs that use it.

# the families each warm-up job compiles, the rule's name and its record: KERNEL_GROUPS, warmup_rule and
# warmup_record of mfg_finance.kernel_warmup (one source for the workflow and its tests). A family no job of
# this config calls compiled is left out (its warm-up would cost CPU the run never repays): the Monte Carlo
# kernels when the backtests are small enough for the numpy engine, the replay kernels without replays, the
# common-noise and finite-N kernels without systemic scenarios or sweeps.
from mfg_finance.kernel_warmup import KERNEL_GROUPS, warmup_record, warmup_rule
from mfg_finance.market_making._checks import n_steps_of
from mfg_finance.market_making.engines import compiled_engine_pays

_FAMILY_USED = {"market_making": compiled_engine_pays(MM["n_paths"] * n_steps_of(MM["horizon_s"], MM["dt_s"])),
                "replay": bool(REPLAY_JOBS), "systemic": bool(SYSTEMIC_SCENARIOS or SYSTEMIC_SWEEPS)}
_COMPILED_GROUPS = {group: [family for family in families if _FAMILY_USED.get(family, True)]
                    for group, families in KERNEL_GROUPS.items()}
_KERNEL_GROUP_OF = {family: group for group, families in _COMPILED_GROUPS.items() for family in families}

# below the serial data chain (CRITICAL_PATH), above every other job, so they fill the core the chain leaves
# idle rather than wait until the end of the run; the trade readers' first (ingest_trades is in the chain)
_KERNEL_PRIORITY = {"cotahist": 5, "trades": 5, "models": 4}


def kernel_inputs(*families):
    """The warm-up records of the kernel ``families`` a job calls (inputs of its rule); none for a family this
    run does not compile ahead (the job takes another engine, or compiles what it calls itself)."""
    groups = dict.fromkeys(_KERNEL_GROUP_OF[family] for family in families if family in _KERNEL_GROUP_OF)
    return [ancient(warmup_record(group)) for group in groups]


for _group, _families in _COMPILED_GROUPS.items():

    rule:
        name:
            warmup_rule(_group)
        output:
            warmup_record(_group),
        params:
            families=_families,
            # the trade readers' fast kernels are for files of B3's size (mfg_finance.trades.reader)
            large_inputs="trades" in _families and TRADES_SOURCE != "sample",
        priority: _KERNEL_PRIORITY[_group]
        log:
            f"logs/kernels/{warmup_rule(_group)}.log",
        benchmark:
            f"results/benchmarks/{warmup_rule(_group)}.tsv"
        conda:
            ENV
        script:
            "../../scripts/compile_kernels.py"
