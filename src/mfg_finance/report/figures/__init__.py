"""Figures of the pipeline, one module per stage and one function per figure (matplotlib, Agg)."""

import matplotlib

matplotlib.use("Agg")
