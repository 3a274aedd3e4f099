"""``mfg-finance replay``: backtest quoting strategies against a session's own trades.

Example::

    mfg-finance replay --trades NEG_20160104.zip --ticker PETR4 --strategy hjb constant \\
        --params results/calibration/mm_params.yaml --queue back --queue-ahead 500 --latency-s 0.05 \\
        --output-dir out/

writes ``replay_sessions.csv`` (one row per session and strategy), ``replay_fills.parquet`` (every
fill) and ``replay_statistics.csv`` (the backtest statistics over sessions) to the output directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from mfg_finance.errors import ConfigError
from mfg_finance.io import write_parquet, write_text
from mfg_finance.market_making.market import default_market_parameters, market_parameters_from_file
from mfg_finance.market_making.replay.engine import replay_statistics
from mfg_finance.market_making.replay.runs import replay_tapes, session_tapes
from mfg_finance.market_making.replay.settings import QUEUE_MODELS, ReplaySettings, clock_seconds
from mfg_finance.market_making.strategies import STRATEGIES

OUTPUT_FILES = ("replay_sessions.csv", "replay_fills.parquet", "replay_statistics.csv")


def register(subparsers) -> None:
    """Add the ``replay`` sub-command."""
    parser = subparsers.add_parser(
        "replay", help="backtest market-making strategies against recorded trades",
        description="Replay the trades of one ticker, session by session, against market-making strategies "
                    "(tick grid, queue position, latency, fees, inventory limits; see docs/market_making.md).")
    parser.add_argument("--trades", type=Path, nargs="+", required=True, metavar="FILE",
                        help="B3 trade files (NEG_* or *NEGOCIOSAVISTA*, .zip or .txt, read by mfg_finance.trades), "
                             "or tables (.parquet, .csv) with time (ns since midnight) or time_s, price, quantity "
                             "and optional ticker, side (+1/-1/0), cancelled, trade_id, date")
    parser.add_argument("--ticker", default=None, help="ticker to replay (required if the files hold several)")
    parser.add_argument("--strategy", nargs="+", default=["hjb"], choices=STRATEGIES, metavar="NAME",
                        help=f"strategies ({', '.join(STRATEGIES)}; default hjb)")
    parser.add_argument("--params", type=Path, default=None,
                        help="YAML with sigma, A, k, gamma, Q_max, S0, tick_size (flat or per ticker); default "
                             "the GLFT example in BRL")
    parser.add_argument("--params-ticker", default=None, help="entry of --params to use (default: --ticker, "
                                                               "else the first)")
    parser.add_argument("--order-size", type=float, default=None, help="shares per lot (default: from params)")
    parser.add_argument("--dt-s", type=float, default=1.0, help="decision step in seconds (default 1)")
    parser.add_argument("--tick-size", type=float, default=None, help="price grid in BRL (default: params)")
    parser.add_argument("--queue", choices=QUEUE_MODELS, default="front", help="queue model (default front)")
    parser.add_argument("--queue-ahead", type=float, default=0.0, help="shares ahead of a new order (back, "
                                                                        "probabilistic)")
    parser.add_argument("--latency-s", type=float, default=0.0, help="quote latency in seconds (default 0)")
    parser.add_argument("--maker-fee-bps", type=float, default=0.0, help="fee per passive fill, bps of notional")
    parser.add_argument("--taker-fee-bps", type=float, default=0.0, help="fee of the end-of-session liquidation")
    parser.add_argument("--reference-window", type=int, default=5, help="prints in the reference median (odd)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the probabilistic queue (default 0)")
    parser.add_argument("--start", type=_clock, default=None, metavar="HH:MM[:SS]",
                        help="first decision, exchange time (default: the first print)")
    parser.add_argument("--end", type=_clock, default=None, metavar="HH:MM[:SS]",
                        help="session end and marking time (default: the last print); prints after it are ignored")
    parser.add_argument("--output-dir", type=Path, required=True, help="directory for the tables")
    parser.set_defaults(func=run)


def _clock(text: str) -> float:
    try:
        return clock_seconds(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def read_trades_table(path: Path) -> pd.DataFrame:
    """Trades from a table (Parquet, CSV) or from a B3 trade file (any other name, strict reading)."""
    if not path.is_file():
        raise ConfigError(f"trades file {path} does not exist")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    from mfg_finance.trades import read_trades

    return read_trades(path)


def run(args: argparse.Namespace) -> int:
    if args.params is not None:
        _, market = market_parameters_from_file(args.params, args.params_ticker or args.ticker)
    else:
        market = default_market_parameters()
    if args.order_size is not None:
        market = type(market)(**{**market.to_dict(), "order_size": args.order_size})
    settings = ReplaySettings(dt_s=args.dt_s, tick_size=market.tick_size if args.tick_size is None else args.tick_size,
                              queue=args.queue, queue_ahead=args.queue_ahead, latency_s=args.latency_s,
                              maker_fee_bps=args.maker_fee_bps, taker_fee_bps=args.taker_fee_bps,
                              reference_window=args.reference_window, seed=args.seed)
    trades = pd.concat([read_trades_table(Path(p)) for p in args.trades], ignore_index=True)
    tapes = session_tapes(trades, args.ticker, where=", ".join(map(str, args.trades)))
    ticker = args.ticker or tapes[0][1].ticker
    sessions, fills = [], []
    for strategy in dict.fromkeys(args.strategy):
        rows, strategy_fills = replay_tapes(tapes, strategy, market, settings, ticker=ticker,
                                            session_start_s=args.start, session_end_s=args.end)
        sessions.append(rows)
        fills.append(strategy_fills)
    sessions = pd.concat(sessions, ignore_index=True)
    table = replay_statistics({(ticker, s): frame for s, frame in sessions.groupby("strategy", sort=False)})
    out = Path(args.output_dir)
    write_text(out / "replay_sessions.csv", sessions.to_csv(index=False, float_format="%.10g"))
    write_parquet(out / "replay_fills.parquet", pd.concat(fills, ignore_index=True))
    write_text(out / "replay_statistics.csv", table.to_csv(index=False, float_format="%.10g"))
    print(sessions[["strategy", "session", "n_prints", "n_trades", "final_inventory", "final_pnl",
                    "liquidation_pnl", "fees"]].to_string(index=False))
    print(f"wrote {', '.join(OUTPUT_FILES)} to {out}")
    return 0
