"""Market-making backtests against a tape of real (or generated) trades: ``replay_session``.

Modules: ``settings`` (:class:`ReplaySettings`: tick grid, queue model, latency, fees, decision step),
``tape`` (:class:`Tape`, trades frame -> tape, sign rule, reference price), ``engine`` (the replay
rules, outputs and statistics), ``runs`` (many sessions and strategies), ``cli`` (``mfg-finance replay``),
``_kernel`` (the compiled event loop), ``synthetic`` (tapes printed
by the simulator's own market, for the consistency check). See docs/market_making.md, "Replay".
"""

from mfg_finance.market_making.replay.engine import (FILL_COLUMNS, QUOTE_COLUMNS, SUMMARY_COLUMNS, SessionReplay,
                                                     replay_session, replay_statistics, sessions_frame)
from mfg_finance.market_making.replay.runs import replay_tapes, session_tapes
from mfg_finance.market_making.replay.settings import (B3_EQUITY_DAY_TRADE_FEE_BPS, QUEUE_MODELS,
                                                       ReplaySettings)
from mfg_finance.market_making.replay.tape import (Tape, reference_price, side_codes, tape_from_frame,
                                                   tick_rule_signs)

__all__ = [
    "B3_EQUITY_DAY_TRADE_FEE_BPS", "FILL_COLUMNS", "QUEUE_MODELS", "QUOTE_COLUMNS", "SUMMARY_COLUMNS",
    "ReplaySettings", "SessionReplay", "Tape", "reference_price", "replay_session", "replay_statistics",
    "replay_tapes", "session_tapes", "sessions_frame", "side_codes", "tape_from_frame", "tick_rule_signs",
]
