"""What the local AWS server asks IAM for each request, and IAM's answer
(scripts/services/iam_enforcement.py); the builds under enforcement are in
test_athena_target.py."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.services.athena_local.results import athena_csv
from scripts.services.athena_local.translation import in_catalog
from scripts.services.iam_enforcement import (
    MalformedRequest,
    Request,
    athena_request,
    denial_message,
    evaluate,
    global_context,
    glue_request,
    s3_requests,
)

BUCKET = "arn:aws:s3:::lake"
USER = "arn:aws:iam::123456789012:user/analyst"


def allow(actions: list[str], resources: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Statement": [
            {"Sid": "S", "Effect": "Allow", "Action": actions, **extra}
            | ({"Resource": resources} if resources is not None else {})
        ]
    }


def decision(policy: dict[str, Any], request: Request) -> str:
    return evaluate([policy], request, global_context(USER, "eu-west-1")).decision


def test_a_listing_is_allowed_only_under_the_prefixes_its_condition_names() -> None:
    policy = allow(
        ["s3:ListBucket"], BUCKET, Condition={"StringLike": {"s3:prefix": ["landing/*"]}}
    )
    [inside] = s3_requests(
        "ListObjectsV2", "lake", None, "/lake?list-type=2&prefix=landing/a/", None
    )
    [outside] = s3_requests(
        "ListObjectsV2", "lake", None, "/lake?list-type=2&prefix=warehouse/", None
    )
    [whole] = s3_requests("ListObjectsV2", "lake", None, "/lake?list-type=2", None)
    assert inside == Request("s3:ListBucket", (BUCKET,), {"s3:prefix": "landing/a/"})
    assert decision(policy, inside) == "allowed"
    # a condition that does not hold leaves the statement out: no allow, no deny
    assert decision(policy, outside) == "implicitDeny"
    assert decision(policy, whole) == "implicitDeny"


def test_an_explicit_deny_wins_and_not_resource_excludes() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"{BUCKET}/restricted/*"},
        ]
    }
    [read] = s3_requests("GetObject", "lake", "restricted/key", "/lake/restricted/key", None)
    assert decision(policy, read) == "explicitDeny"
    not_landing = allow(["s3:GetObject"], None, NotResource=f"{BUCKET}/landing/*")
    [landing] = s3_requests("GetObject", "lake", "landing/x", "/lake/landing/x", None)
    [warehouse] = s3_requests("GetObject", "lake", "warehouse/x", "/lake/warehouse/x", None)
    assert decision(not_landing, landing) == "implicitDeny"
    assert evaluate([not_landing], warehouse).grants == (("S", "NotResource"),)


def test_a_copy_reads_its_source_and_a_version_is_its_own_action() -> None:
    put_anywhere = allow(["s3:PutObject"], f"{BUCKET}/*")
    requests = s3_requests(
        "PutObject", "lake", "results/x", "/lake/results/x", None, "PUT", "/lake/landing/a.json"
    )
    assert [item.action for item in requests] == ["s3:PutObject", "s3:GetObject"]
    assert requests[1].resources == (f"{BUCKET}/landing/a.json",)
    assert [decision(put_anywhere, item) for item in requests] == ["allowed", "implicitDeny"]
    [head] = s3_requests("GetObject", "lake", "a", "/lake/a?versionId=3", None, "HEAD")
    assert head.action == "s3:GetObjectVersion"
    [encryption] = s3_requests("ListBucket", "lake", None, "/lake?encryption", None, "GET")
    assert encryption.action == "s3:GetEncryptionConfiguration"


def test_delete_objects_asks_for_each_key_and_each_version() -> None:
    body = (
        b"<Delete><Object><Key>warehouse/a</Key></Object>"
        b"<Object><Key>warehouse/b</Key><VersionId>v1</VersionId></Object></Delete>"
    )
    latest, version = s3_requests("DeleteObject", "lake", None, "/lake?delete", body, "POST")
    assert latest == Request("s3:DeleteObject", (f"{BUCKET}/warehouse/a",))
    assert version == Request("s3:DeleteObjectVersion", (f"{BUCKET}/warehouse/b",))
    with pytest.raises(MalformedRequest):
        s3_requests("DeleteObject", "lake", None, "/lake?delete", b"<Delete>", "POST")


def test_policy_variables_take_the_callers_values() -> None:
    home = allow(["s3:GetObject"], f"{BUCKET}/home/${{aws:username}}/*")
    [own] = s3_requests("GetObject", "lake", "home/analyst/x", "/lake/home/analyst/x", None)
    [other] = s3_requests("GetObject", "lake", "home/admin/x", "/lake/home/admin/x", None)
    assert decision(home, own) == "allowed"
    assert decision(home, other) == "implicitDeny"


def test_glue_asks_for_the_catalog_the_database_and_the_table() -> None:
    request = glue_request("GetTable", {"DatabaseName": "stedi_curated", "Name": "t"}, "eu-west-1")
    assert request is not None
    prefix = "arn:aws:glue:eu-west-1:123456789012"
    assert request.resources == (
        f"{prefix}:catalog",
        f"{prefix}:database/stedi_curated",
        f"{prefix}:table/stedi_curated/t",
    )
    curated_only = allow(
        ["glue:GetTable"], [f"{prefix}:catalog", f"{prefix}:database/stedi_curated"]
    )
    refused = evaluate([curated_only], request)
    assert (refused.decision, refused.resource) == (
        "implicitDeny",
        f"{prefix}:table/stedi_curated/t",
    )
    assert "glue:GetTable on resource: " + f"{prefix}:table/stedi_curated/t" in denial_message(
        USER, request.action, refused
    )
    # Trino's column statistics: never an Athena call, never checked
    assert glue_request("UpdateColumnStatisticsForTable", {}, "eu-west-1") is None


def test_athena_asks_for_the_work_group() -> None:
    group = "arn:aws:athena:eu-west-1:123456789012:workgroup/"
    assert athena_request("StartQueryExecution", {"WorkGroup": "stedi"}, "eu-west-1").resources == (
        group + "stedi",
    )
    assert athena_request("GetWorkGroup", {}, "eu-west-1").resources == (group + "primary",)
    assert athena_request("CreateWorkGroup", {"Name": "x"}, "eu-west-1").resources == (group + "x",)
    assert athena_request("ListWorkGroups", {}, "eu-west-1").resources == ("*",)


def test_a_query_of_another_catalog_is_made_the_callers() -> None:
    sql = 'select * from "awsdatacatalog"."stedi_curated".t join awsdatacatalog.a.b on true'
    assert in_catalog(sql, "ml") == 'select * from "ml"."stedi_curated".t join "ml".a.b on true'
    assert in_catalog("select 'awsdatacatalog.x'", "ml") == "select 'awsdatacatalog.x'"


def test_results_are_written_as_athenas_csv() -> None:
    rows = [["name", "note"], ["a", 'say "hi"'], [None, ""]]
    assert athena_csv(rows) == b'"name","note"\n"a","say ""hi"""\n,""\n'


def test_every_statement_that_allows_is_credited() -> None:
    """What the unused-grant test counts: a resource two statements allow is
    a use of both."""
    catalog = "arn:aws:glue:eu-west-1:123456789012:catalog"
    policy = {
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "glue:GetTable", "Resource": [catalog]},
            {"Sid": "B", "Effect": "Allow", "Action": "glue:*", "Resource": f"{catalog}*"},
        ]
    }
    allowed = evaluate([policy], Request("glue:GetTable", (catalog,)))
    assert allowed.grants == (("A", catalog), ("B", f"{catalog}*"))
