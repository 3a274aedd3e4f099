"""Parameter recovery: synthetic sessions from known parameters, every estimator against its truth."""

from __future__ import annotations

import math

import numpy as np

from mfg_finance.microstructure import estimate_instrument, mfg_parameters, mm_intensities
from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.microstructure.intraday import estimate_from_dict
from mfg_finance.trades.synthetic import (SESSION_SECONDS, SyntheticInstrument, efficient_variance_per_second,
                                          mean_square_size, simulate_session)

IMPACT = SyntheticInstrument("SYNI3", sigma=0.002, half_spread=0.01, rate_buy=0.2, rate_sell=0.2, profile=0.5,
                             impact=5e-6, size_p=0.3, tick=0.01, cancel_prob=0.002)
BOUNCE = SyntheticInstrument("SYNR3", price0=20.0, sigma=0.001, half_spread=0.015, rate_buy=0.1, rate_sell=0.1,
                             profile=0.3, impact=0.0, size_p=0.5, tick=1e-6, cancel_prob=0.0)
# Roll's estimator assumes buys and sells equally likely (it measures c sqrt(1 - E[s]^2)): one-sided
# flow is tested on its own instrument.
FLOW = SyntheticInstrument("SYNF3", price0=50.0, half_spread=0.02, rate_buy=0.12, rate_sell=0.06, impact=0.0,
                           cancel_prob=0.01)
FLOW_SHARE = 0.2
ADV, UNIT = 1e6, 0.01


def truths() -> dict[str, float]:
    return {
        "variance_per_second": efficient_variance_per_second(IMPACT),
        "signed_half_spread": IMPACT.half_spread,
        "impact_per_trade_share": IMPACT.impact,
        "kyle_lambda": IMPACT.impact,
        "rate_buy": FLOW.rate_buy * (1 - FLOW.cancel_prob),
        "rate_sell": FLOW.rate_sell * (1 - FLOW.cancel_prob),
        "profile_shape": IMPACT.profile,
        "size_geometric_p": IMPACT.size_p,
        "impact_exponent": 1.0,
        "roll_half_spread": BOUNCE.half_spread,
        "k": 1.0 / FLOW.half_spread,
        "A": math.e * FLOW_SHARE * (FLOW.rate_buy + FLOW.rate_sell) / 2 * (1 - FLOW.cancel_prob),
        "kappa": -1.0 / (IMPACT.impact * UNIT * ADV),
        "size_mean_square": mean_square_size(IMPACT),
        # the MFG's flow noise: sd of a day's net signed flow, sqrt(rate S E[q^2]) / Q_u (units/sqrt(day))
        "sigma_mfg": math.sqrt((IMPACT.rate_buy + IMPACT.rate_sell) * (1 - IMPACT.cancel_prob) * SESSION_SECONDS
                               * mean_square_size(IMPACT)) / (UNIT * ADV),
    }


def estimates(seed: int) -> dict[str, Estimate]:
    """Every checked estimate from one synthetic session."""
    trades = simulate_session([IMPACT, BOUNCE, FLOW], date="2024-07-01", seed=seed)
    a = {k: estimate_from_dict(v) for k, v in estimate_instrument(trades, IMPACT.ticker)["estimates"].items()}
    b = {k: estimate_from_dict(v) for k, v in estimate_instrument(trades, BOUNCE.ticker)["estimates"].items()}
    out = {k: a[k] for k in ("variance_per_second", "signed_half_spread", "impact_per_trade_share", "kyle_lambda",
                             "profile_shape", "size_geometric_p", "impact_exponent", "size_mean_square")}
    f = {k: estimate_from_dict(v) for k, v in estimate_instrument(trades, FLOW.ticker)["estimates"].items()}
    out["roll_half_spread"] = b["roll_half_spread"]
    out.update({k: f[k] for k in ("rate_buy", "rate_sell")})
    per_side = Estimate(f["rate_total"].value / 2, f["rate_total"].se / 2, "1/s", "", f["rate_total"].n)
    mm = mm_intensities(rate_per_side=per_side, half_spread=f["signed_half_spread"], flow_share=FLOW_SHARE)
    out["k"], out["A"] = mm["k"], mm["A"]
    mfg = mfg_parameters(kyle_lambda=a["kyle_lambda"], sqrt_law_y=a["sqrt_law_y"], sigma_brl=a["sigma"],
                         rate_total=a["rate_total"], mean_square_size=a["size_mean_square"], price=IMPACT.price0,
                         adv_shares=ADV, inventory_unit_adv=UNIT, session_seconds=SESSION_SECONDS)
    out["kappa"], out["sigma_mfg"] = mfg["kappa"], mfg["sigma"]
    return out


def z_scores(seeds) -> dict[str, np.ndarray]:
    """(estimate - truth) / SE per estimator over seeds, and whether the 95% interval covers."""
    truth = truths()
    z: dict[str, list] = {k: [] for k in truth}
    cover: dict[str, list] = {k: [] for k in truth}
    for seed in seeds:
        for name, e in estimates(seed).items():
            z[name].append((e.value - truth[name]) / e.se)
            lo, hi = e.ci(0.95)
            cover[name].append(lo <= truth[name] <= hi)
    return {k: np.array(v) for k, v in z.items()}, {k: np.array(v) for k, v in cover.items()}
