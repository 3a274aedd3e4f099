"""Per-process CPU accounting for bench_pipeline.py (on PYTHONPATH only while it measures).

Every Python process that starts with ``BENCH_PROCESS_CPU`` set appends one line to that file when it exits:
its CPU seconds (user + system, its own and its waited-for children's, from ``getrusage``), and what it was:
a Snakemake job (``rule[wildcards]``, from the ``snakemake`` object of the script) or its command line; its
working directory and when it ended (to tell the runs of a test session apart, docs/testing.md).
Snakemake's benchmark files sample the job's process tree every few seconds, which misses most of a short
job's CPU; this does not.
"""

import atexit
import os
import sys
import time


def _record() -> None:
    import json
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    main = sys.modules.get("__main__")
    job = getattr(main, "snakemake", None)
    if job is not None and hasattr(job, "rule"):
        label = job.rule + "".join(f"[{v}]" for v in dict(job.wildcards).values())
    else:
        label = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]
    line = json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "label": label,
                       "self": own.ru_utime + own.ru_stime, "children": kids.ru_utime + kids.ru_stime,
                       "job": job is not None, "cwd": os.getcwd(), "end": time.time()})
    with open(os.environ["BENCH_PROCESS_CPU"], "a") as fh:
        fh.write(line + "\n")


if os.environ.get("BENCH_PROCESS_CPU"):
    atexit.register(_record)
