"""Athena's metadata calls, answered from Glue as Athena answers them:
ListDataCatalogs, GetDataCatalog, ListDatabases, GetDatabase,
GetTableMetadata and ListTableMetadata. Glue is read with the caller's
credentials, so its policies apply as they do on AWS (Athena needs
glue:GetDatabases for ListDatabases, glue:GetTable for GetTableMetadata).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from scripts.services.athena_local.translation import CATALOG

# Athena's name for the Glue catalog; the calls take it in any case
DATA_CATALOG = "AwsDataCatalog"


class MetadataError(Exception):
    """An Athena MetadataException (a database or table that is not there)."""


def check_catalog(name: str) -> None:
    if name.lower() != CATALOG:
        raise MetadataError(f"Catalog {name} not found: the local Athena has {DATA_CATALOG} only")


def data_catalog() -> dict[str, Any]:
    return {"Name": DATA_CATALOG, "Type": "GLUE", "Description": "Glue (the local AWS server)"}


def list_data_catalogs() -> dict[str, Any]:
    return {"DataCatalogsSummary": [{"CatalogName": DATA_CATALOG, "Type": "GLUE"}]}


def _database(database: dict[str, Any]) -> dict[str, Any]:
    answer = {"Name": database["Name"], "Parameters": database.get("Parameters", {})}
    if database.get("Description"):
        answer["Description"] = database["Description"]
    return answer


def _table(table: dict[str, Any]) -> dict[str, Any]:
    """A Glue table as Athena's TableMetadata."""
    descriptor = table.get("StorageDescriptor", {})
    parameters = dict(table.get("Parameters", {}))
    for name, value in (
        ("location", descriptor.get("Location")),
        ("inputformat", descriptor.get("InputFormat")),
        ("outputformat", descriptor.get("OutputFormat")),
        ("serde.serialization.lib", descriptor.get("SerdeInfo", {}).get("SerializationLibrary")),
    ):
        if value:
            parameters[name] = value
    answer: dict[str, Any] = {
        "Name": table["Name"],
        "TableType": table.get("TableType", "EXTERNAL_TABLE"),
        "Columns": [_column(column) for column in descriptor.get("Columns", [])],
        "PartitionKeys": [_column(column) for column in table.get("PartitionKeys", [])],
        "Parameters": parameters,
    }
    for field, glue_field in (("CreateTime", "CreateTime"), ("LastAccessTime", "LastAccessTime")):
        if table.get(glue_field) is not None:
            value = table[glue_field]
            answer[field] = value.timestamp() if hasattr(value, "timestamp") else value
    return answer


def _column(column: dict[str, Any]) -> dict[str, Any]:
    answer = {"Name": column["Name"], "Type": column.get("Type", "")}
    if column.get("Comment"):
        answer["Comment"] = column["Comment"]
    return answer


def _page(
    items: list[dict[str, Any]], key: str, request: dict[str, Any], default: int
) -> dict[str, Any]:
    start = int(request.get("NextToken") or 0)
    size = int(request.get("MaxResults", default))
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["NextToken"] = str(start + size)
    return answer


def list_databases(glue: Any, request: dict[str, Any]) -> dict[str, Any]:
    check_catalog(request["CatalogName"])
    pages = glue.get_paginator("get_databases").paginate()
    databases = [_database(item) for page in pages for item in page["DatabaseList"]]
    return _page(databases, "DatabaseList", request, 50)


def get_database(glue: Any, request: dict[str, Any]) -> dict[str, Any]:
    check_catalog(request["CatalogName"])
    name = request["DatabaseName"]
    try:
        return {"Database": _database(glue.get_database(Name=name)["Database"])}
    except glue.exceptions.EntityNotFoundException:
        raise MetadataError(f"Database {name} not found.") from None


def get_table_metadata(glue: Any, request: dict[str, Any]) -> dict[str, Any]:
    check_catalog(request["CatalogName"])
    database, name = request["DatabaseName"], request["TableName"]
    try:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        raise MetadataError(f"Table {database}.{name} not found.") from None
    return {"TableMetadata": _table(table)}


def list_table_metadata(glue: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Tables of a database; Expression is Athena's pattern (* and |)."""
    check_catalog(request["CatalogName"])
    database = request["DatabaseName"]
    patterns = [part.strip() for part in str(request.get("Expression") or "*").split("|")]
    try:
        pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
        tables = [table for page in pages for table in page["TableList"]]
    except glue.exceptions.EntityNotFoundException:
        raise MetadataError(f"Database {database} not found.") from None
    chosen = [
        _table(table)
        for table in sorted(tables, key=lambda table: table["Name"])
        if any(fnmatch.fnmatchcase(table["Name"], pattern.lower()) for pattern in patterns)
    ]
    return _page(chosen, "TableMetadataList", request, 50)


# operation -> (the Glue client's caller, request) -> answer
CATALOG_CALLS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "ListDatabases": list_databases,
    "GetDatabase": get_database,
    "GetTableMetadata": get_table_metadata,
    "ListTableMetadata": list_table_metadata,
}
