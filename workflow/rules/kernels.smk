# numba kernels compiled into the cache once, before the jobs that call them (mfg_finance.kernel_warmup,
# docs/workflow.md "numba cache"). One job per family; no inputs, high priority: on a laptop they fill the
# core the (serial) data stage leaves idle. A job of a family lists kernel_inputs(family) as an input,
# ancient(): a new warm-up record (e.g. after deleting results/kernels) never reruns the jobs that use it.

from mfg_finance.kernel_warmup import FAMILIES as KERNEL_FAMILIES

# in the order the pipeline needs them (higher first): below the serial data chain (CRITICAL_PATH), above
# every other job, so they fill the core the chain leaves idle rather than wait until the end of the run
_KERNEL_PRIORITY = {"cotahist": 5, "trades": 5, "mfg": 4, "equilibrium": 3, "market_making": 2, "replay": 2}


def kernel_inputs(*families):
    """The warm-up records of the kernel ``families`` a job calls (inputs of its rule)."""
    return [ancient(f"results/kernels/{family}.json") for family in families]


for _family in KERNEL_FAMILIES:

    rule:
        name:
            f"compile_kernels_{_family}"
        output:
            f"results/kernels/{_family}.json",
        params:
            family=_family,
        priority: _KERNEL_PRIORITY[_family]
        log:
            f"logs/kernels/compile_kernels_{_family}.log",
        benchmark:
            f"results/benchmarks/compile_kernels_{_family}.tsv"
        conda:
            ENV
        script:
            "../../scripts/compile_kernels.py"
