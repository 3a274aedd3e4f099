"""The two layouts of B3's trade-by-trade files, stated once as tables.

**NEG** (the old FTP product, ``NEG_YYYYMMDD`` cash equities and ``NEG_OPCOES_YYYYMMDD`` options,
``ftp://ftp.bmf.com.br/MarketData/``): a header line ``RH NEG ...`` and a trailer ``RT NEG ...``
(54 bytes: ``NEG`` + file name in columns 4-23, first and last date in 24-33 and 35-44, total lines
including header and trailer in 46-54), and between them fixed-width, ``;``-separated trade lines of 237 bytes:
:data:`NEG_FIELDS` (name as in B3's layout, width in bytes, kind).

**NEGOCIOS** (today's daily "negócios à vista" file, ``DD-MM-YYYY_NEGOCIOSAVISTA.zip``,
``YYYYMMDD_NEGOCIOSAVISTA.zip``, ``TradeIntraday_YYYYMMDD_1.zip``): a header line
:data:`NEGOCIOS_HEADER` and one ``;``-separated line per trade, variable width, decimal comma,
time as ``HHMMSSmmm`` (leading zeros may be dropped): :data:`NEGOCIOS_FIELDS`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Field kinds (the rules each kind obeys are in :mod:`.fields`).
DATE = "date"            # YYYY-MM-DD
SYMBOL = "symbol"        # instrument code: printable ASCII, left-justified (NEG pads with blanks)
DIGITS = "digits"        # unsigned integer, all digits
QUANTITY = "quantity"    # unsigned integer, all digits, > 0
PRICE = "price"          # NEG: blank + 12 digits + '.' + 6 digits; NEGOCIOS: digits[,digits]
TIME = "time"            # NEG: HH:MM:SS.mmm; NEGOCIOS: HHMMSSmmm
CANCEL = "cancel"        # NEG: 1 stands, 2 cancelled; NEGOCIOS: 0 new, 2 cancelled
CONDITION = "condition"  # NEG order condition: 0 neutral, 1 aggressor, 2 aggressed
FLAG = "flag"            # 0 or 1
DIGITS_OR_EMPTY = "digits_or_empty"  # NEGOCIOS participant code: digits, or empty when not given

KIND_CODES = {DATE: 0, SYMBOL: 1, DIGITS: 2, PRICE: 3, TIME: 4, CANCEL: 5, CONDITION: 6, FLAG: 7,
              DIGITS_OR_EMPTY: 8, QUANTITY: 9}


@dataclass(frozen=True)
class Field:
    """One field of a trade line: B3's name, width in bytes (0 = variable), kind, output column."""

    name: str
    width: int
    kind: str
    column: str | None = None


NEG_FIELDS: tuple[Field, ...] = (
    Field("DataSessao", 10, DATE, "date"),
    Field("SimboloInstrumento", 50, SYMBOL, "ticker"),
    Field("NumeroNegocio", 10, DIGITS, "trade_id"),
    Field("PrecoNegocio", 20, PRICE, "price"),
    Field("QuantidadeNegociada", 18, QUANTITY, "quantity"),
    Field("HoraNegocio", 12, TIME, "time"),
    Field("IndicadorAnulacao", 1, CANCEL, "cancelled"),
    Field("DataOfertaCompra", 10, DATE),
    Field("SequenciaOfertaCompra", 15, DIGITS),
    Field("GenerationIDOfertaCompra", 15, DIGITS),
    Field("CondicaoOfertaCompra", 1, CONDITION, "buy_condition"),
    Field("DataOfertaVenda", 10, DATE),
    Field("SequenciaOfertaVenda", 15, DIGITS),
    Field("GenerationIDOfertaVenda", 15, DIGITS),
    Field("CondicaoOfertaVenda", 1, CONDITION, "sell_condition"),
    Field("IndicadorDireto", 1, FLAG),
    Field("CorretoraCompra", 8, DIGITS, "buyer"),
    Field("CorretoraVenda", 8, DIGITS, "seller"),
)
NEG_OFFSETS = tuple(sum(f.width + 1 for f in NEG_FIELDS[:i]) for i in range(len(NEG_FIELDS)))
NEG_LINE_BYTES = sum(f.width for f in NEG_FIELDS) + len(NEG_FIELDS) - 1   # 237
NEG_HEADER = b"RH"
NEG_TRAILER = b"RT"
NEG_HEADER_BYTES = 54
NEG_CANCELLED = 2

NEGOCIOS_FIELDS: tuple[Field, ...] = (
    Field("DataReferencia", 0, DATE),
    Field("CodigoInstrumento", 0, SYMBOL, "ticker"),
    Field("AcaoAtualizacao", 0, CANCEL, "cancelled"),
    Field("PrecoNegocio", 0, PRICE, "price"),
    Field("QuantidadeNegociada", 0, QUANTITY, "quantity"),
    Field("HoraFechamento", 0, TIME, "time"),
    Field("CodigoIdentificadorNegocio", 0, DIGITS, "trade_id"),
    Field("TipoSessaoPregao", 0, DIGITS),
    Field("DataNegocio", 0, DATE, "date"),
    Field("CodigoParticipanteComprador", 0, DIGITS_OR_EMPTY, "buyer"),
    Field("CodigoParticipanteVendedor", 0, DIGITS_OR_EMPTY, "seller"),
)
NEGOCIOS_HEADER = ";".join(f.name for f in NEGOCIOS_FIELDS)
NEGOCIOS_CANCELLED = 2
NEGOCIOS_MAX_DECIMALS = 9

COLUMNS = ("date", "ticker", "time", "price", "quantity", "side", "cancelled", "trade_id", "buyer", "seller")
"""Columns of a trades DataFrame, in order (see :func:`mfg_finance.trades.read_trades`)."""
