def read(
    sheet_xml: bytes,
    shared_xml: bytes | None,
    style_kinds: bytes,
    max_row: int,
    max_col: int,
    threads: int = 1,
    min_cut: int = ...,
    /,
) -> tuple[bytes, bytes, int, int, int, bool] | str: ...
