"""The IAM policy for the role that runs dbt on Athena is least-privilege."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.common.aws_session import AwsTarget
from scripts.services.local_iam import CONSUMER_POLICY, RUNNER_POLICY, render_policy
from scripts.services.local_s3 import fake_aws_environment, moto_server

VALUES = {
    "Region": "eu-west-1",
    "AccountId": "123456789012",
    "Bucket": "my-stedi-lake",
    "WorkGroup": "stedi",
    "DatabasePrefix": "stedi",
    "ConsumerWorkGroup": "stedi-ml",
    "ConsumerResultsPrefix": "athena-results-ml",
}


def rendered_policy(path: Path = RUNNER_POLICY) -> dict[str, Any]:
    return render_policy(path, VALUES)


def test_a_placeholder_without_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match="no value for Bucket"):
        render_policy(RUNNER_POLICY, {k: v for k, v in VALUES.items() if k != "Bucket"})


def test_the_ml_consumer_reads_the_curated_zone_only() -> None:
    """Its own work group and results; Glue and S3 of the curated zone,
    read-only, but for awswrangler's temporary tables (temp_table_*: its
    default read is a CTAS into the database it reads, whose table it
    deletes from Glue; the files go to the consumer's results)."""
    reads = {
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:ListBucket",
        "glue:BatchGetPartition",
        "glue:GetDatabase",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:GetTable",
        "glue:GetTables",
    }
    results = "arn:aws:s3:::my-stedi-lake/athena-results-ml/*"
    for statement in rendered_policy(CONSUMER_POLICY)["Statement"]:
        actions = set(as_list(statement["Action"]))
        resources = as_list(statement["Resource"])
        for resource in resources:
            assert "_landing" not in resource and "_trusted" not in resource, resource
            assert "restricted" not in resource, resource
        if resources == [results]:
            continue  # its own query results: written, read, aborted
        if actions <= {f"athena:{name}" for name in ATHENA_QUERY_ACTIONS}:
            assert resources == ["arn:aws:athena:eu-west-1:123456789012:workgroup/stedi-ml"]
            continue
        if actions <= {f"athena:{name}" for name in ATHENA_METADATA_ACTIONS}:
            catalog = "arn:aws:athena:eu-west-1:123456789012:datacatalog/AwsDataCatalog"
            assert resources == [catalog]
            continue
        if actions == {"glue:CreateTable", "glue:DeleteTable", "glue:UpdateTable"}:
            assert resources[-1] == (
                "arn:aws:glue:eu-west-1:123456789012:table/stedi_curated/temp_table_*"
            )
            assert all(not resource.startswith("arn:aws:s3") for resource in resources)
        else:
            assert actions <= reads, actions
        for resource in resources:
            assert resource in {
                "arn:aws:s3:::my-stedi-lake",
                "arn:aws:s3:::my-stedi-lake/warehouse/stedi_curated/*",
                "arn:aws:glue:eu-west-1:123456789012:catalog",
                "arn:aws:glue:eu-west-1:123456789012:database/stedi_curated",
                "arn:aws:glue:eu-west-1:123456789012:table/stedi_curated/*",
                "arn:aws:glue:eu-west-1:123456789012:table/stedi_curated/temp_table_*",
            }, resource
        if "s3:ListBucket" in actions:
            prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
            assert set(prefixes) == {"warehouse/stedi_curated/*", "athena-results-ml/*"}


ATHENA_QUERY_ACTIONS = {
    "BatchGetQueryExecution",
    "ListQueryExecutions",
    "GetQueryExecution",
    "GetQueryResults",
    "GetWorkGroup",
    "StartQueryExecution",
    "StopQueryExecution",
}
# what the ML team's clients ask Athena of the Glue catalog
ATHENA_METADATA_ACTIONS = {
    "GetDatabase",
    "GetDataCatalog",
    "GetTableMetadata",
    "ListTableMetadata",
}


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_every_statement_allows_named_actions_on_scoped_resources() -> None:
    policy = rendered_policy()
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, action
        for resource in as_list(statement["Resource"]):
            assert resource != "*"
            assert re.match(r"arn:aws:(s3|glue|athena):", resource), resource


def test_s3_access_is_limited_to_the_lake_prefixes() -> None:
    allowed = {
        "arn:aws:s3:::my-stedi-lake",
        "arn:aws:s3:::my-stedi-lake/landing/*",
        "arn:aws:s3:::my-stedi-lake/warehouse/*",
        "arn:aws:s3:::my-stedi-lake/athena-results/*",
        "arn:aws:s3:::my-stedi-lake/restricted/pseudonym_key/*",
    }
    writes = {"s3:PutObject", "s3:DeleteObject"}
    for statement in rendered_policy()["Statement"]:
        actions = as_list(statement["Action"])
        if not actions[0].startswith("s3:"):
            continue
        resources = set(as_list(statement["Resource"]))
        assert resources <= allowed, resources
        if writes & set(actions):
            # the landing zone and the pseudonym key are read-only
            assert "arn:aws:s3:::my-stedi-lake/landing/*" not in resources
            assert "arn:aws:s3:::my-stedi-lake/restricted/pseudonym_key/*" not in resources
        if "s3:ListBucket" in actions:
            prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
            assert set(prefixes) == {
                "landing/*",
                "warehouse/*",
                "athena-results/*",
                "restricted/pseudonym_key/*",
            }


def test_glue_and_athena_are_limited_to_the_zones_and_workgroup() -> None:
    for statement in rendered_policy()["Statement"]:
        actions = as_list(statement["Action"])
        service = actions[0].split(":")[0]
        assert all(action.startswith(service + ":") for action in actions)
        resources = as_list(statement["Resource"])
        if service == "athena":
            assert resources == ["arn:aws:athena:eu-west-1:123456789012:workgroup/stedi"]
        if service == "glue":
            restricted = [resource for resource in resources if "_restricted" in resource]
            if restricted:
                # the key table: read, never change, and nothing else there
                assert set(actions) <= {
                    "glue:GetDatabase",
                    "glue:GetPartitions",
                    "glue:GetTable",
                    "glue:GetTables",
                }
                assert restricted == [
                    "arn:aws:glue:eu-west-1:123456789012:database/stedi_restricted",
                    "arn:aws:glue:eu-west-1:123456789012:table/stedi_restricted/pseudonym_key",
                ]
            for resource in set(resources) - set(restricted):
                assert resource == "arn:aws:glue:eu-west-1:123456789012:catalog" or re.fullmatch(
                    r"arn:aws:glue:eu-west-1:123456789012:(database|table)/"
                    r"stedi_(landing|trusted|curated)(/\*)?",
                    resource,
                ), resource


@pytest.fixture(scope="module")
def iam_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsTarget]:
    saved = dict(os.environ)
    os.environ.update(fake_aws_environment())
    try:
        with moto_server(Path(tmp_path_factory.mktemp("moto-iam"))) as endpoint:
            yield AwsTarget(region="eu-west-1", endpoint_url=endpoint)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.aws
def test_policy_is_accepted_by_an_iam_api(iam_target: AwsTarget) -> None:
    iam = iam_target.client("iam")
    created = iam.create_policy(
        PolicyName="stedi-dbt-athena-runner", PolicyDocument=json.dumps(rendered_policy())
    )
    assert created["Policy"]["PolicyName"] == "stedi-dbt-athena-runner"
    consumer = iam.create_policy(
        PolicyName="stedi-ml-consumer",
        PolicyDocument=json.dumps(rendered_policy(CONSUMER_POLICY)),
    )
    assert consumer["Policy"]["PolicyName"] == "stedi-ml-consumer"
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_policy(
            PolicyName="broken", PolicyDocument=json.dumps({"Statement": [{"Effect": "Allow"}]})
        )
