"""Accounting invariants every replay must satisfy (shared by the property and the real-data tests)."""

import numpy as np
import pytest


def assert_replay_accounting(tape, out, market):
    """Cash, inventory and PnL agree with the fills; fills never exceed what traded at our level.

    For a replay over the whole tape (the default session window).
    """
    s, fills = out.summary, out.fills
    lot = market.order_size
    signed = np.where(fills["side"] > 0, 1.0, -1.0) * fills["quantity"].to_numpy()
    inventory = signed.sum()
    cash = -(signed * fills["price"].to_numpy()).sum() - fills["fee"].sum()
    scale = max(1.0, abs(cash))
    # cash + inventory x last price = PnL (and the same with the reference price)
    assert s["cash"] == pytest.approx(cash, abs=1e-9 * scale)
    assert s["final_inventory"] * lot == pytest.approx(inventory, abs=1e-9)
    assert s["pnl_at_last_print"] == pytest.approx(cash + inventory * s["last_price"], abs=1e-9 * scale)
    assert s["final_pnl"] == pytest.approx(cash + inventory * s["final_reference"], abs=1e-9 * scale)
    np.testing.assert_allclose(fills["inventory"], np.cumsum(signed), atol=1e-9)
    assert s["n_trades"] == len(fills) == s["n_bid_fills"] + s["n_ask_fills"]
    # each fill is on a print that traded at or through our price, on our side, within its quantity
    assert s["n_prints"] == tape.size                          # the default window: every print
    price, quantity, signs = tape.price, tape.quantity, tape.signs()
    at = fills["print_index"].to_numpy()
    assert np.unique(at).size == at.size                       # one print fills at most one of our orders
    assert (fills["quantity"].to_numpy() <= quantity[at]).all()
    bid_fill = fills["side"].to_numpy() > 0
    ours = fills["price"].to_numpy()
    assert (signs[at][bid_fill] == -1).all() and (signs[at][~bid_fill] == 1).all()
    assert (price[at][bid_fill] <= ours[bid_fill] + 1e-9).all()
    assert (price[at][~bid_fill] >= ours[~bid_fill] - 1e-9).all()
    # over the session: never more than the volume that traded at or through our level on our side
    for level in np.unique(ours[bid_fill]):
        ours_there = fills["quantity"].to_numpy()[bid_fill & (ours == level)].sum()
        assert ours_there <= quantity[(signs == -1) & (price <= level + 1e-9)].sum()
    for level in np.unique(ours[~bid_fill]):
        ours_there = fills["quantity"].to_numpy()[~bid_fill & (ours == level)].sum()
        assert ours_there <= quantity[(signs == 1) & (price >= level - 1e-9)].sum()
    # the inventory limit always holds
    assert np.abs(fills["inventory"].to_numpy()).max(initial=0.0) <= market.Q_max * lot + 1e-9
