"""The files the local Athena writes as Athena writes them, and the text
of its values: no engine needed (the athena target's tests read them
through the clients)."""

from __future__ import annotations

import base64

import pytest

from scripts.services.athena_local.results import (
    athena_csv,
    athena_text,
    athena_txt,
    column_info,
    columns_of_metadata,
    metadata_file,
    rows_of_csv,
    rows_of_txt,
)

ROWS = [
    ["name", "note"],
    ["plain", None],
    [None, None],
    ['a "quoted", multi\nline value', ""],
]


def test_the_result_csv_quotes_values_and_leaves_a_null_empty() -> None:
    data = athena_csv(ROWS)
    assert data.splitlines()[:3] == [b'"name","note"', b'"plain",', b","]
    assert rows_of_csv(data) == ROWS


def test_a_one_column_null_is_an_empty_line_and_reads_back() -> None:
    rows = [["n"], [None], ["x"], [""]]
    assert athena_csv(rows) == b'"n"\n\n"x"\n""\n'
    assert rows_of_csv(athena_csv(rows)) == rows


def test_a_broken_csv_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match="unexpected character"):
        rows_of_csv(b'"a"x\n')


def test_ddl_text_is_tab_separated_without_a_header() -> None:
    rows = [["col_name", "data_type", "comment"], ["x", "double", None]]
    assert athena_txt(rows) == b"col_name\tdata_type\tcomment\nx\tdouble\t\n"
    assert rows_of_txt(athena_txt(rows), 3) == [rows[0], ["x", "double", ""]]


def test_the_metadata_file_holds_athenas_column_info() -> None:
    columns = [
        column_info("amount", "decimal(10,2)"),
        column_info("name", "varchar(12)"),
        column_info("ratio", "real"),
        column_info("at", "timestamp(3)"),
    ]
    assert [(c["Type"], c["Precision"], c["Scale"]) for c in columns] == [
        ("decimal", 10, 2),
        ("varchar", 12, 0),
        ("float", 17, 0),
        ("timestamp", 3, 0),
    ]
    assert columns_of_metadata(metadata_file(columns)) == columns


def test_values_have_athenas_text() -> None:
    binary = base64.b64encode(b"\x00\x01\xff").decode()
    assert athena_text(binary, "varbinary") == "00 01 ff"
    assert athena_text([1, "x"], "row(a integer, b varchar)") == "{a=1, b=x}"
    assert athena_text([1, None], "row(integer, varchar)") == "{field0=1, field1=null}"
    assert athena_text({"k": [1, None]}, "map(varchar, array(integer))") == "{k=[1, null]}"
    assert athena_text([[1, "x"]], 'array(row("a" integer, "b" varchar))') == "[{a=1, b=x}]"
    assert athena_text(True, "boolean") == "true"
    assert athena_text(None, "varchar") is None
