"""Stage 2 of DATA-CONTRACT.md §3: every cell on its own (V01–V11), vectorised.

``check_values`` takes the text frame of ``reading`` and returns, for every contract
column ``c``: ``raw:c`` (the stripped text), ``c`` (the typed value — null when blank
or when the cell failed) and ``bad:c`` (the cell failed a stage-2 check), plus one
finding per failing cell. Stages 3 and 4 read only the typed values and the flags.
"""

import functools
import operator
import re
from collections.abc import Iterable
from datetime import date

import polars as pl

from reporting import contract
from reporting.contract import Column, Kind

RAW = "raw:"
BAD = "bad:"
ROW = "row"
OMITTED = "omitted"
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "position": pl.Int64(),
    "column": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
    # On the last finding kept of a rule and column: how many more like it were counted
    # but not kept (see ``capped``); 0 elsewhere.
    OMITTED: pl.Int64(),
}
# The findings kept per rule and column of a file. A file where every cell is wrong
# would otherwise give millions (200,000 rows × 37 columns): the first thousand say
# what is wrong as well as all of them would, and the rest are counted.
KEPT_PER_RULE_AND_COLUMN = 1_000
EARLIEST_DATE = date(1900, 1, 1)
SHOWN_LENGTH = 60  # how much of a long value a message quotes
VALUE_LENGTH = 200  # how much of a long value a finding carries

_DATE_HELP = "write it as YYYYMMDD (e.g. 20250315) or YYYY-MM-DD"
_SSN_LIKE = r"^(?:[0-9]{9}|[0-9]{3}-[0-9]{2}-[0-9]{4})$"
# An SSN anywhere in a text: nine digits on their own, or grouped 3-2-4 by dashes, spaces
# or dots (123456789, 123-45-6789, 123 45 6789), not part of a longer run of digits. A
# ZIP+4 written without its dash (123456789) is nine digits too and is masked with them:
# in a finding the safe reading wins. 12345-6789 (ZIP+4 as the contract writes it) and
# ten or more digits (a phone number) are not SSN-shaped.
_SSN_IN_TEXT = r"(^|[^0-9])(?:[0-9]{5}|[0-9]{3}[-. ][0-9]{2}[-. ])([0-9]{4})($|[^0-9])"
_SSN_IN_TEXT_PY = re.compile(
    r"(?<![0-9])(?:[0-9]{5}|[0-9]{3}[-. ][0-9]{2}[-. ])([0-9]{4})(?![0-9])"
)


# The contract's text columns of digits with a fixed width and real values that may
# begin with 0. A spreadsheet program (Excel, LibreOffice Calc) types what is typed into
# them as a number and drops the zeros: SSN 012345678 becomes 12345678, ZIP 02134 becomes
# 2134. (naics_code and the O*NET codes are fixed-width digits too, but no NAICS sector
# or SOC major group starts with 0; participant_id has no fixed width to restore to.)
DIGIT_TEXT_KINDS = frozenset({Kind.SSN, Kind.ZIP})
# The hub's marked-up workbook shows an SSN as its last four digits (see spreadsheets).
MASKED_SSN = r"^\*{3}-\*{2}-([0-9]{4})$"


def leading_zeros_restored(text: pl.Expr, numeric: pl.Series | pl.Expr, *, kind: Kind) -> pl.Expr:
    """``text`` where ``numeric`` (the cell was a number, not text), read back as the
    digits that were typed: a whole number of 7–9 digits is an SSN, zero-padded to 9; for
    ZIP, 3–5 digits is a ZIP code padded to 5 (the lowest is 00501) and 7–9 digits a ZIP+4
    padded to 9 and written 12345-6789 (the lowest is 00501-0000). Any other number (6
    digits, decimals, negative) is left as it is, for V10/V11 to report."""
    digits = text.str.len_chars()
    whole = text.str.contains(r"^[0-9]+$").fill_null(False)
    restored: pl.Expr
    if kind is Kind.SSN:
        restored = pl.when(whole & digits.is_between(7, 9)).then(text.str.zfill(9))
    else:
        nine = text.str.zfill(9)
        restored = (
            pl.when(whole & digits.is_between(3, 5))
            .then(text.str.zfill(5))
            .when(whole & digits.is_between(7, 9))
            .then(nine.str.slice(0, 5) + pl.lit("-") + nine.str.slice(5, 4))
        )
    if isinstance(numeric, pl.Series):
        numeric = pl.lit(numeric)
    return pl.when(numeric).then(pl.coalesce(restored, text)).otherwise(text)


# Up to this many codes, comparing a cell with each is quicker than is_in's hash table
# (three times quicker for the two or three codes of a flag column, 100k cells: 0.3-0.5
# ms against 1.2-1.5).
_COMPARED_ONE_BY_ONE = 4


def one_of(text: pl.Expr, codes: Iterable[str]) -> pl.Expr:
    """Whether ``text`` is one of ``codes``, as ``is_in`` says (null where it is null)."""
    codes = list(codes)
    if not codes or len(codes) > _COMPARED_ONE_BY_ONE:
        return text.is_in(codes)
    return functools.reduce(operator.or_, (text == code for code in codes))


def dropped_zeros(text: pl.Expr, kind: Kind) -> pl.Expr:
    """Whether ``text`` reads as a ZIP or SSN whose leading zeros a spreadsheet program
    dropped (as ``leading_zeros_restored`` would restore them)."""
    if kind is Kind.SSN:
        return text.str.contains(r"^[0-9]{7,8}$")
    return text.str.contains(r"^(?:[0-9]{3,4}|[0-9]{7,8})$")


def zeros_restored(text: pl.Expr) -> pl.Expr:
    """A ZIP whose leading zeros were dropped, as it was typed (5 digits, or ZIP+4)."""
    nine = text.str.zfill(9)
    return (
        pl.when(text.str.len_chars() <= 5)
        .then(text.str.zfill(5))
        .otherwise(nine.str.slice(0, 5) + pl.lit("-") + nine.str.slice(5, 4))
    )


def valid_ssn() -> pl.Expr:
    """The nine digits of column ``ssn`` where it passes V11, else null."""
    typed, reason = _checks(contract.PARTICIPANTS)["ssn"]
    return pl.when(reason.is_null()).then(typed)


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDING_SCHEMA)


def findings_frame(frame: pl.DataFrame, *, cap: bool = False, **columns: pl.Expr) -> pl.DataFrame:
    """Select the finding columns from ``frame`` in FINDING_SCHEMA's order and types.

    With ``cap``, ``frame`` is first cut down to the first KEPT_PER_RULE_AND_COLUMN rows
    per rule and column (``capped``), so that messages are written for those only.
    """
    columns.setdefault(OMITTED, pl.lit(0))
    if cap and frame.height > KEPT_PER_RULE_AND_COLUMN:
        frame = capped(frame, columns["code"], columns["column"])
        columns[OMITTED] = pl.col(OMITTED)
    # Rechunked first: polars 2.1's pl.format panics on a column of several chunks, which
    # is what a filter may leave.
    return frame.rechunk().select(
        columns[name].cast(dtype).alias(name) for name, dtype in FINDING_SCHEMA.items()
    )


def capped(frame: pl.DataFrame, *group: pl.Expr) -> pl.DataFrame:
    """The first KEPT_PER_RULE_AND_COLUMN rows of each ``group``, in ``frame``'s order;
    the last one kept counts the others in OMITTED (0 on the rest)."""
    keys = [f"group:{i}" for i in range(len(group))]
    rank = pl.int_range(pl.len()).over(keys)
    last = KEPT_PER_RULE_AND_COLUMN - 1
    return (
        frame.lazy()
        .with_columns(expr.alias(key) for key, expr in zip(keys, group, strict=True))
        .with_columns(rank.alias("rank:"), pl.len().over(keys).alias("count:"))
        .filter(pl.col("rank:") <= last)
        .with_columns(
            pl.when(pl.col("rank:") == last)
            .then(pl.col("count:") - KEPT_PER_RULE_AND_COLUMN)
            .otherwise(0)
            .alias(OMITTED)
        )
        .drop(*keys, "rank:", "count:")
        .collect()
    )


def mask_ssns(text: pl.Expr) -> pl.Expr:
    """``text`` with every SSN-shaped run of digits in it shown as ``***-**-`` and its
    last four digits, whatever column it came from."""
    # Twice: two SSNs one separator apart share that separator, which one pass consumes.
    once = text.str.replace_all(_SSN_IN_TEXT, r"${1}***-**-${2}${3}")
    return once.str.replace_all(_SSN_IN_TEXT, r"${1}***-**-${2}${3}")


def mask_ssns_in(text: str) -> str:
    """``mask_ssns`` for one Python string (workbooks, logs)."""
    return _SSN_IN_TEXT_PY.sub(r"***-**-\1", text)


def has_ssn(text: str) -> bool:
    return _SSN_IN_TEXT_PY.search(text) is not None


def has_ssns(texts: pl.Series) -> pl.Series:
    """``has_ssn`` for many texts at once, by polars' (much faster) regex engine."""
    return texts.str.contains(_SSN_IN_TEXT).fill_null(False)


def looks_like_ssn(text: pl.Expr) -> pl.Expr:
    """Nine digits, whatever separates them (dashes, spaces, dots)."""
    return text.str.replace_all(r"[\s.\-]", "").str.contains(r"^[0-9]{9}$")


def masked(text: pl.Expr) -> pl.Expr:
    """An SSN as a finding may show it: the last four digits, or nothing when it is not
    nine digits."""
    digits = text.str.replace_all(r"[\s.\-]", "")
    return (
        pl.when(digits.str.contains(r"^[0-9]{9}$"))
        .then(pl.lit("***-**-") + digits.str.slice(5, 4))
        .otherwise(pl.lit("(masked)"))
    )


def shown(text: pl.Expr) -> pl.Expr:
    """A value as a message quotes it: in quotes, cut short when long."""
    cut = (
        pl.when(text.str.len_chars() > SHOWN_LENGTH)
        .then(text.str.slice(0, SHOWN_LENGTH) + pl.lit("…"))
        .otherwise(text)
    )
    return pl.lit('"') + cut + pl.lit('"')


def code_list(column: Column) -> str:
    """`1 (male), 2 (female) or 9 (did not self-identify)`."""
    items = [f"{code} ({meaning})" for code, meaning in column.codes.items()]
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def check_values(
    frame: pl.DataFrame, kind: str, positions: dict[str, int]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The typed frame (``row``, ``raw:c``, ``c``, ``bad:c``) and the V findings."""
    columns = contract.COLUMNS[kind]
    checks = _checks(kind)
    reason_names = [f"reason:{name}" for name in checks]
    # One lazy plan, so that polars computes once what a column's value and its reason
    # share, and what the typed frame and the failing rows share.
    reasons = (
        frame.lazy()
        .with_columns(pl.col(name).alias(RAW + name) for name in checks)
        .with_columns(
            *(reason.alias(f"reason:{name}") for name, (_, reason) in checks.items()),
            *(typed.alias(f"typed:{name}") for name, (typed, _) in checks.items()),
        )
    )
    typed_plan = reasons.select(
        pl.col(ROW),
        *(pl.col(RAW + name) for name in checks),
        *(
            pl.when(pl.col(f"reason:{name}").is_null()).then(pl.col(f"typed:{name}")).alias(name)
            for name in checks
        ),
        *(pl.col(f"reason:{name}").is_not_null().alias(BAD + name) for name in checks),
    )
    failing_plan = reasons.filter(pl.any_horizontal(pl.col(reason_names).is_not_null())).select(
        ROW, *(RAW + name for name in checks), pl.col(reason_names).cast(pl.String)
    )
    typed, failing = pl.collect_all([typed_plan, failing_plan])
    counts = failing.select(pl.col(reason_names).is_not_null().sum()).row(0)
    found = [
        _findings(failing, column, positions.get(column.name, fallback))
        for fallback, (column, count) in enumerate(zip(columns, counts, strict=True), start=10_000)
        if count
    ]
    return typed, pl.concat([empty_findings(), *found])


def _findings(failing: pl.DataFrame, column: Column, position: int) -> pl.DataFrame:
    reason = pl.col(f"reason:{column.name}")
    # Only this column's three columns are carried: every cell of a hostile file fails.
    rows = failing.select(ROW, RAW + column.name, reason).filter(reason.is_not_null())
    if rows.is_empty():
        return empty_findings()
    text = pl.col(RAW + column.name)
    if column.kind is Kind.SSN:
        # The hub's own mask is safe to show as it is, and says more than "(masked)"; an
        # SSN whose leading zeros were dropped is shown by its last four as a full one is.
        digits = text.str.replace_all("-", "", literal=True)
        value = (
            pl.when(text.str.contains(MASKED_SSN))
            .then(text)
            .when(dropped_zeros(digits, Kind.SSN))
            .then(pl.lit("***-**-") + digits.str.slice(-4))
            .otherwise(masked(text))
        )
    elif column.kind is Kind.PARTICIPANT_ID:
        # An ID that is an SSN in any spelling (V06, or V05 with spaces or dots) is shown
        # as an SSN is.
        value = pl.when(looks_like_ssn(text)).then(masked(text)).otherwise(text)
    else:
        value = text
    value = value.str.slice(0, VALUE_LENGTH)
    return findings_frame(
        rows,
        # Capped here, before the messages are written: stage 2 is where a hostile file
        # makes millions. The rows left out are still held back (``bad:`` flags).
        cap=True,
        row=pl.col(ROW),
        position=pl.lit(position),
        column=pl.lit(column.name),
        code=reason.str.slice(0, 3),
        severity=pl.lit("error"),
        value=value,
        message=_message(column, rows, f"reason:{column.name}", text, value),
    )


# One column's checks -------------------------------------------------------------------


# Why a cell failed, as a small enum rather than text: a reason column is built for each
# of the 37 columns and is null on almost every row (a text column of 100k rows costs
# 1.6 MB of views, an enum one 0.4 MB). The failing rows get it back as text.
REASONS = pl.Enum([
    "V01", "V02", "V02:early", "V03", "V04:format", "V04:range", "V04:length", "V05", "V06",
    "V07", "V08", "V09", "V10", "V10:zeros", "V11:masked", "V11:zeros", "V11:digits",
    "V11:area", "V11:group", "V11:serial",
])  # fmt: skip


def _reason(code: str | None) -> pl.Expr:
    """A reason a cell failed (None: it did not)."""
    return pl.lit(code, REASONS)


@functools.cache
def _checks(kind: str) -> dict[str, tuple[pl.Expr, pl.Expr]]:
    return {column.name: _check(column) for column in contract.COLUMNS[kind]}


def _check(column: Column) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, reason it failed or null) for a column's cells."""
    text = pl.col(column.name)
    typed, invalid = _KINDS[column.kind](column, text)
    blank = text.is_null()
    if column.blank_means is not None:
        typed = pl.when(blank).then(pl.lit(column.blank_means)).otherwise(typed)
    reason = pl.when(blank).then(_reason("V01") if column.required else _reason(None))
    return typed, reason.otherwise(invalid)


def _participant_id(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    reason = (
        pl.when(~text.str.contains(r"^[A-Za-z0-9-]{1,12}$"))
        .then(_reason("V05"))
        .when(text.str.contains(_SSN_LIKE))
        .then(_reason("V06"))
    )
    return text, reason


def _ssn(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    digits = text.str.replace_all("-", "", literal=True)
    area = digits.str.slice(0, 3)
    reason = (
        pl.when(text.str.contains(MASKED_SSN))
        .then(_reason("V11:masked"))
        .when(dropped_zeros(digits, Kind.SSN))
        .then(_reason("V11:zeros"))
        .when(~digits.str.contains(r"^[0-9]{9}$"))
        .then(_reason("V11:digits"))
        .when(one_of(area, ["000", "666"]) | area.str.starts_with("9"))
        .then(_reason("V11:area"))
        .when(digits.str.slice(3, 2) == "00")
        .then(_reason("V11:group"))
        .when(digits.str.slice(5, 4) == "0000")
        .then(_reason("V11:serial"))
    )
    return digits, reason


def _state(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    upper = text.str.to_uppercase()
    return upper, pl.when(~upper.is_in(sorted(contract.US_STATE_CODES))).then(_reason("V09"))


def _pattern(code: str, pattern: str):
    def check(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        return text, pl.when(~text.str.contains(pattern)).then(pl.lit(code))

    return check


def _zip(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    reason = (
        pl.when(text.str.contains(r"^[0-9]{5}(?:-[0-9]{4})?$"))
        .then(_reason(None))
        .when(dropped_zeros(text, Kind.ZIP))
        .then(_reason("V10:zeros"))
        .otherwise(_reason("V10"))
    )
    return text, reason


def _date(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    # Without to_date's cache of distinct values: hashing every cell to look it up costs
    # more than parsing eight digits (4 ms instead of 7 for a column of 100k dates).
    parsed = pl.when(text.str.contains(r"^(?:[0-9]{8}|[0-9]{4}-[0-9]{2}-[0-9]{2})$")).then(
        text.str.replace_all("-", "", literal=True).str.to_date("%Y%m%d", strict=False, cache=False)
    )
    reason = (
        pl.when(parsed.is_null())
        .then(_reason("V02"))
        .when(parsed < pl.lit(EARLIEST_DATE))
        .then(_reason("V02:early"))
    )
    return parsed, reason


def _code(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    canonical = text
    if column.two_digit:
        # A single character: a digit gets its leading zero; anything else fails anyway.
        canonical = pl.when(text.str.len_bytes() == 1).then(pl.lit("0") + text).otherwise(text)
    return canonical, pl.when(~one_of(canonical, column.codes)).then(_reason("V03"))


def _dollars(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    amount = text.str.extract(r"^([0-9]+)(?:\.0{1,2})?$", 1).cast(pl.Int64, strict=False)
    reason = (
        pl.when(~text.str.contains(r"^[0-9]+(?:\.0{1,2})?$"))
        .then(_reason("V04:format"))
        .when(amount.is_null() | (amount > 999_999))
        .then(_reason("V04:range"))
    )
    return amount, reason


def _hourly_wage(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    dollars = text.str.extract(r"^([0-9]{1,9})(?:\.[0-9]{1,2})?$", 1).cast(pl.Int64, strict=False)
    cents = (
        text.str.extract(r"\.([0-9]{1,2})$", 1)
        .str.pad_end(2, "0")
        .cast(pl.Int64, strict=False)
        .fill_null(0)
    )
    amount = dollars * 100 + cents
    reason = (
        pl.when(~text.str.contains(r"^[0-9]+(?:\.[0-9]{1,2})?$"))
        .then(_reason("V04:format"))
        .when(amount.is_null() | (amount < 1) | (amount > 50_000))
        .then(_reason("V04:range"))
    )
    return amount, reason


def _hours(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    hours = text.cast(pl.Float64, strict=False)
    reason = (
        pl.when(~text.str.contains(r"^[0-9]+(?:\.[0-9]+)?$"))
        .then(_reason("V04:format"))
        .when((hours < 1) | (hours > 80))
        .then(_reason("V04:range"))
    )
    return hours, reason


def _text(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    limit = column.max_length or 10_000
    # Free text is kept as typed (employer, job title), but an SSN typed into it is not:
    # it would be stored in full and shown wherever the record is.
    return mask_ssns(text), pl.when(text.str.len_chars() > limit).then(_reason("V04:length"))


_KINDS = {
    Kind.PARTICIPANT_ID: _participant_id,
    Kind.SSN: _ssn,
    Kind.STATE: _state,
    Kind.ZIP: _zip,
    Kind.DATE: _date,
    Kind.CODE: _code,
    Kind.DOLLARS: _dollars,
    Kind.HOURLY_WAGE: _hourly_wage,
    Kind.HOURS: _hours,
    Kind.ONET: _pattern("V07", r"^(?:[0-9]{2}-[0-9]{4}\.[0-9]{2}|[0-9]{8})$"),
    Kind.NAICS: _pattern("V08", r"^[0-9]{6}$"),
    Kind.TEXT: _text,
}


# Messages ---------------------------------------------------------------------------


def _message(
    column: Column, rows: pl.DataFrame, reason_name: str, text: pl.Expr, value: pl.Expr
) -> pl.Expr:
    reason = pl.col(reason_name)
    messages = _messages(column, text, value)
    present = rows.get_column(reason_name).unique().to_list()
    return pl.coalesce(
        pl.when(reason == key).then(message) for key, message in messages.items() if key in present
    )


def _messages(column: Column, text: pl.Expr, value: pl.Expr) -> dict[str, pl.Expr]:
    """A finding's message for each reason a cell of ``column`` may fail (REASONS)."""
    name = column.name
    quoted = shown(text)
    masked_value = value  # already masked where it must be
    return {
        "V01": pl.lit(f"{name} is blank: it is required — enter {_expected(column)}"),
        "V02": pl.format(f"{name} {{}} is not a valid date: {_DATE_HELP}", quoted),
        "V02:early": pl.format(
            f"{name} {{}} is before 1900-01-01: check the year — {_DATE_HELP}", quoted
        ),
        "V03": pl.format(
            f"{name} {{}} is not an allowed code: use {code_list(column)}"
            + (" (the leading zero may be left out)" if column.two_digit else ""),
            quoted,
        ),
        "V04:format": pl.format(f"{name} {{}} is not {_number_format(column)}", quoted),
        "V04:range": pl.format(f"{name} {{}} is out of range: {_number_range(column)}", quoted),
        "V04:length": pl.format(
            f"{name} is {{}} characters long: at most {column.max_length} are allowed — shorten it",
            text.str.len_chars().cast(pl.String),
        ),
        "V05": pl.format(
            f"{name} {{}} is not a valid ID: use 1–12 characters, only letters A–Z, a–z, "
            "digits and dashes",
            pl.when(looks_like_ssn(text)).then(masked_value).otherwise(quoted),
        ),
        "V06": pl.format(
            f"{name} {{}} looks like a Social Security number: PIRL 100 must never hold "
            "an SSN — use the coalition's own participant ID (and the ssn column for the "
            "SSN)",
            masked_value,
        ),
        "V07": pl.format(
            f"{name} {{}} is not an O*NET-SOC code: write it as NN-NNNN.NN (e.g. "
            "47-2111.00) or as 8 digits",
            quoted,
        ),
        "V08": pl.format(
            f"{name} {{}} is not a NAICS code: write the 6-digit code (e.g. 237130)", quoted
        ),
        "V09": pl.format(
            f"{name} {{}} is not a USPS state or territory code: use a two-letter code "
            "such as CA, NY, DC or PR",
            quoted,
        ),
        "V10": pl.format(
            f"{name} {{}} is not a ZIP code: write 5 digits or ZIP+4 (12345-6789) — if a "
            "spreadsheet dropped a leading zero, format the column as text",
            quoted,
        ),
        "V10:zeros": pl.format(
            f"{name} {{}} is not a ZIP code: a spreadsheet program may have dropped a "
            "leading zero — did you mean {}? Type it with its zeros and format the column "
            "as Text, so that the program keeps them",
            quoted,
            zeros_restored(text),
        ),
        "V11:zeros": pl.format(
            f"{name} {{}} has only {{}} digits: a spreadsheet program may have dropped the "
            "leading zero of an SSN that starts with 0 — type its 9 digits with the leading "
            "zero and format the column as Text, so that the program keeps it",
            masked_value,
            text.str.replace_all("-", "", literal=True).str.len_chars().cast(pl.String),
        ),
        "V11:masked": pl.format(
            f"{name} {{}} is the masked SSN from the hub's marked-up workbook: it can only "
            "be kept for a participant the hub already has with an SSN ending {} — type "
            "the full SSN",
            masked_value,
            text.str.slice(7, 4),
        ),
        "V11:digits": pl.format(
            f"{name} {{}} is not a Social Security number: write its 9 digits, with or "
            "without dashes (123-45-6789), or leave it blank",
            masked_value,
        ),
        "V11:area": pl.format(
            f"{name} {{}} is not a valid SSN: the first three digits cannot be 000, 666 or "
            "900–999 — check the number, or leave it blank",
            masked_value,
        ),
        "V11:group": pl.format(
            f"{name} {{}} is not a valid SSN: the middle two digits cannot be 00 — check "
            "the number, or leave it blank",
            masked_value,
        ),
        "V11:serial": pl.format(
            f"{name} {{}} is not a valid SSN: the last four digits cannot be 0000 — check "
            "the number, or leave it blank",
            masked_value,
        ),
    }


def _expected(column: Column) -> str:
    if column.kind is Kind.PARTICIPANT_ID:
        return "the participant's ID: 1–12 letters, digits or dashes"
    if column.kind is Kind.DATE:
        return f"the {column.description} as YYYYMMDD"
    if column.kind is Kind.CODE:
        return code_list(column)
    return f"the {column.description}"


def _number_format(column: Column) -> str:
    if column.kind is Kind.DOLLARS:
        return (
            "a whole-dollar amount: write whole dollars with digits only, no $, commas or "
            "cents (e.g. 12000)"
        )
    if column.kind is Kind.HOURLY_WAGE:
        return (
            "an amount in dollars: write it with digits and at most two decimals, no $ (e.g. 18.25)"
        )
    return "a number of hours: write it with digits, decimals allowed (e.g. 40 or 37.5)"


def _number_range(column: Column) -> str:
    if column.kind is Kind.DOLLARS:
        return "whole dollars go from 0 to 999999"
    if column.kind is Kind.HOURLY_WAGE:
        return "the hourly wage goes from 0.01 to 500.00 dollars"
    return "hours per week go from 1 to 80"
