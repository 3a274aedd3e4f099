"""Mean-field game of optimal execution: HJB / Fokker-Planck solver, exact LQ reference, outputs.

Public API::

    solve(config) -> MfgSolution                 # mfg_finance.mfg.solver
    write_solution(solution, out_dir, *, figures=True, wall_time=True)
    validate_config(config) -> dict
    verify.run_verification(config, refinements) / verify.write_verification(result, out_dir)

See ``docs/mfg.md`` for the model, the scheme and the config keys.
"""

from mfg_finance._lazy import lazy_exports

# imported on first use (mfg_finance._lazy): `import mfg_finance.mfg.outcomes` does not load numba
__getattr__, __dir__ = lazy_exports(__name__, {"validate_config": "mfg_finance.mfg.config",
                                               "MfgSolution": "mfg_finance.mfg.solution",
                                               "solve": "mfg_finance.mfg.solver"})


def write_solution(solution, out_dir, *, figures: bool = True, wall_time: bool = True):
    """Write ``solution.npz``, ``metrics.json`` and (optionally) the figures; see :mod:`.outputs`."""
    from mfg_finance.mfg.outputs import write_solution as _write  # matplotlib only when writing

    return _write(solution, out_dir, figures=figures, wall_time=wall_time)


__all__ = ["MfgSolution", "solve", "validate_config", "write_solution"]
