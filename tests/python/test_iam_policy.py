"""The IAM policy for the role that runs dbt on Athena is least-privilege."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.common import dbt_invoke
from scripts.common.aws_session import AwsTarget
from scripts.services.local_s3 import fake_aws_environment, moto_server

POLICY = dbt_invoke.PROJECT_DIR / "deploy" / "dbt-athena-runner-policy.json"
VALUES = {
    "Region": "eu-west-1",
    "AccountId": "123456789012",
    "Bucket": "my-stedi-lake",
    "WorkGroup": "stedi",
    "DatabasePrefix": "stedi",
}


def rendered_policy() -> dict[str, Any]:
    text = POLICY.read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    assert placeholders == set(VALUES), placeholders
    for name, value in VALUES.items():
        text = text.replace("${" + name + "}", value)
    return json.loads(text)


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
                assert set(actions) <= {"glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"}
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


def test_policy_is_accepted_by_an_iam_api(iam_target: AwsTarget) -> None:
    iam = iam_target.client("iam")
    created = iam.create_policy(
        PolicyName="stedi-dbt-athena-runner", PolicyDocument=json.dumps(rendered_policy())
    )
    assert created["Policy"]["PolicyName"] == "stedi-dbt-athena-runner"
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_policy(
            PolicyName="broken", PolicyDocument=json.dumps({"Statement": [{"Effect": "Allow"}]})
        )
