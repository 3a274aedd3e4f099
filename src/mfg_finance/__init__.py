"""mfg-finance: from B3 COTAHIST quotes to calibrated mean-field-game and market-making models.

The library holds all numerics and I/O; the Snakemake workflow only wires it together.
"""

__version__ = "0.1.0"
