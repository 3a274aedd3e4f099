"""The COTAHIST record layout, as one declarative table.

B3 publishes its historical quotes ("Séries Históricas") as fixed-width ASCII files: every record is
245 bytes followed by CRLF. The first record is a header (type ``00``), the last a trailer (type
``99``) and every record in between a quote of one instrument in one session (type ``01``).

:data:`LAYOUT` below transcribes B3's "SeriesHistoricas_Layout" document field by field. The parser,
the sample generator, the encoder used by the tests and the table in ``docs/cotahist.md`` are all
derived from it, so a position can only be wrong in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

RECORD_BYTES = 245
"""Bytes of one record, without the line terminator."""

LINE_BYTES = RECORD_BYTES + 2
"""Bytes of one record with its CRLF terminator."""

HEADER, DETAIL, TRAILER = "00", "01", "99"
"""Record types (positions 1-2)."""

NEVER_EXPIRES = 99991231
"""DATVEN value of instruments without an expiry; parsed as ``NaT``."""

# Field kinds.
TEXT = "text"            # printable bytes, right-padded with blanks; parsed as a right-stripped str
INT = "int"              # digits only; with ``decimals`` > 0 the integer is divided by 10**decimals
INT_OR_BLANK = "int_or_blank"  # digits, or all blanks (parsed as <NA>)
DATE = "date"            # YYYYMMDD, a valid calendar date
DATE_OR_NEVER = "date_or_never"  # YYYYMMDD, or 99991231 for "no expiry" (parsed as NaT)
CONST = "const"          # the record type: exactly the value in ``description``'s first word

KINDS = (TEXT, INT, INT_OR_BLANK, DATE, DATE_OR_NEVER, CONST)
NUMERIC_KINDS = (INT, INT_OR_BLANK, DATE, DATE_OR_NEVER)


@dataclass(frozen=True)
class Field:
    """One fixed-width field of one record type.

    Attributes
    ----------
    name : str
        B3's field name (e.g. ``"PREABE"``).
    record : str
        Record type the field belongs to: ``"00"``, ``"01"`` or ``"99"``.
    start, end : int
        1-based inclusive byte positions, as in B3's document.
    kind : str
        One of :data:`KINDS`.
    decimals : int
        Implied decimals of a numeric field: the value is the integer divided by ``10**decimals``.
    column : str or None
        Output column name (detail records) or summary key (header/trailer); ``None`` = not kept.
    description : str
        What the field holds, with its unit.
    """

    name: str
    record: str
    start: int
    end: int
    kind: str
    decimals: int
    column: str | None
    description: str

    @property
    def width(self) -> int:
        """Number of bytes of the field."""
        return self.end - self.start + 1

    @property
    def offset(self) -> int:
        """0-based offset of the first byte within the record."""
        return self.start - 1

    @property
    def picture(self) -> str:
        """B3's COBOL-like picture: ``X(12)`` text, ``N(05)`` integer, ``(11)V99`` / ``(07)V06`` decimal."""
        if self.kind in (TEXT, CONST):
            return f"X({self.width:02d})"
        if not self.decimals:
            return f"N({self.width:02d})"
        decimals = "99" if self.decimals == 2 else f"{self.decimals:02d}"  # as B3 writes them
        return f"({self.width - self.decimals:02d})V{decimals}"


_F = Field
LAYOUT: tuple[Field, ...] = (
    # Header (first record of the file).
    _F("TIPREG", HEADER, 1, 2, CONST, 0, None, "00: record type, header"),
    _F("NOMARQ", HEADER, 3, 15, TEXT, 0, "header_file_name", "File name, e.g. COTAHIST.2021"),
    _F("CODORI", HEADER, 16, 23, TEXT, 0, "header_origin", "Origin code, BOVESPA"),
    _F("DATGER", HEADER, 24, 31, DATE, 0, "header_generation_date", "File generation date (YYYYMMDD)"),
    _F("RESERV", HEADER, 32, 245, TEXT, 0, None, "Reserved (blanks)"),
    # Detail: one instrument in one session.
    _F("TIPREG", DETAIL, 1, 2, CONST, 0, None, "01: record type, quote"),
    _F("DATPRE", DETAIL, 3, 10, DATE, 0, "date", "Session date (YYYYMMDD)"),
    _F("CODBDI", DETAIL, 11, 12, INT, 0, "codbdi", "BDI code: 02 standard lot, 12 real-estate funds, "
       "14 funds/ETFs, 34-36 BDRs, 78/82 call/put options, 96 odd lot, ..."),
    _F("CODNEG", DETAIL, 13, 24, TEXT, 0, "ticker", "Trading code (ticker), e.g. PETR4"),
    _F("TPMERC", DETAIL, 25, 27, INT, 0, "market_type", "Market type: 010 cash, 020 odd lot, 030 term, "
       "070/080 call/put options, 012/013 exercise of calls/puts, 017 auction"),
    _F("NOMRES", DETAIL, 28, 39, TEXT, 0, "short_name", "Issuer short name"),
    _F("ESPECI", DETAIL, 40, 49, TEXT, 0, "spec", "Share specification, e.g. ON NM, PN N2, CI"),
    _F("PRAZOT", DETAIL, 50, 52, INT_OR_BLANK, 0, "term_days", "Term of a term-market trade (days); "
       "blank outside the term/option markets"),
    _F("MODREF", DETAIL, 53, 56, TEXT, 0, "currency", "Reference currency, R$"),
    _F("PREABE", DETAIL, 57, 69, INT, 2, "open", "Opening price (BRL per quote_factor shares)"),
    _F("PREMAX", DETAIL, 70, 82, INT, 2, "high", "Highest price (BRL per quote_factor shares)"),
    _F("PREMIN", DETAIL, 83, 95, INT, 2, "low", "Lowest price (BRL per quote_factor shares)"),
    _F("PREMED", DETAIL, 96, 108, INT, 2, "avg", "Average price (BRL per quote_factor shares)"),
    _F("PREULT", DETAIL, 109, 121, INT, 2, "close", "Last (closing) price (BRL per quote_factor shares)"),
    _F("PREOFC", DETAIL, 122, 134, INT, 2, "best_bid", "Best bid at the close (BRL per quote_factor shares)"),
    _F("PREOFV", DETAIL, 135, 147, INT, 2, "best_ask", "Best ask at the close (BRL per quote_factor shares)"),
    _F("TOTNEG", DETAIL, 148, 152, INT, 0, "n_trades", "Number of trades (trades)"),
    _F("QUATOT", DETAIL, 153, 170, INT, 0, "quantity", "Quantity traded (shares / contracts)"),
    _F("VOLTOT", DETAIL, 171, 188, INT, 2, "volume", "Traded value (BRL)"),
    _F("PREEXE", DETAIL, 189, 201, INT, 2, "strike", "Option strike or term price (BRL)"),
    _F("INDOPC", DETAIL, 202, 202, INT, 0, "strike_correction", "Strike correction: 0 none, 1 US$, "
       "2 TJLP, 8 IGPM, 9 URV"),
    _F("DATVEN", DETAIL, 203, 210, DATE_OR_NEVER, 0, "expiry", "Expiry date of options/term "
       "(YYYYMMDD); 99991231 = none (NaT)"),
    _F("FATCOT", DETAIL, 211, 217, INT, 0, "quote_factor", "Quote factor: 1 = price per share, "
       "1000 = price per lot of 1000 shares"),
    _F("PTOEXE", DETAIL, 218, 230, INT, 6, "strike_points", "Strike in points, for index/US$ "
       "options (points)"),
    _F("CODISI", DETAIL, 231, 242, TEXT, 0, "isin", "ISIN code of the instrument"),
    _F("DISMES", DETAIL, 243, 245, INT, 0, "distribution", "Distribution number of the share"),
    # Trailer (last record of the file).
    _F("TIPREG", TRAILER, 1, 2, CONST, 0, None, "99: record type, trailer"),
    _F("NOMARQ", TRAILER, 3, 15, TEXT, 0, "trailer_file_name", "File name, e.g. COTAHIST.2021"),
    _F("CODORI", TRAILER, 16, 23, TEXT, 0, "trailer_origin", "Origin code, BOVESPA"),
    _F("DATGER", TRAILER, 24, 31, DATE, 0, "trailer_generation_date", "File generation date (YYYYMMDD)"),
    _F("TOTREG", TRAILER, 32, 42, INT, 0, "trailer_count", "Total records in the file, header and "
       "trailer included (records)"),
    _F("RESERV", TRAILER, 43, 245, TEXT, 0, None, "Reserved (blanks)"),
)


def record_fields(record: str) -> tuple[Field, ...]:
    """The fields of one record type, in byte order."""
    return tuple(f for f in LAYOUT if f.record == record)


DETAIL_FIELDS = record_fields(DETAIL)
HEADER_FIELDS = record_fields(HEADER)
TRAILER_FIELDS = record_fields(TRAILER)

COLUMNS: tuple[str, ...] = tuple(f.column for f in DETAIL_FIELDS if f.column)
"""Columns of :func:`~mfg_finance.cotahist.read_cotahist`'s DataFrame, in order."""


def field_by_column(column: str) -> Field:
    """The detail field that fills ``column``."""
    for f in DETAIL_FIELDS:
        if f.column == column:
            return f
    raise KeyError(column)


def field_label(f: Field) -> str:
    """How messages name a field: ``PREABE (open)``."""
    return f"{f.name} ({f.column})" if f.column else f.name


_RECORD_NAMES = {HEADER: "header", DETAIL: "detail", TRAILER: "trailer"}


def markdown_table() -> str:
    """The layout as a Markdown table (the one in ``docs/cotahist.md``)."""
    rows = ["| record | field | positions | picture | kind | column | description |",
            "|---|---|---|---|---|---|---|"]
    for f in LAYOUT:
        positions = f"{f.start}" if f.start == f.end else f"{f.start}-{f.end}"
        column = f"`{f.column}`" if f.column else ""
        rows.append(f"| {f.record} {_RECORD_NAMES[f.record]} | {f.name} | {positions} | {f.picture} "
                    f"| {f.kind} | {column} | {f.description} |")
    return "\n".join(rows) + "\n"
