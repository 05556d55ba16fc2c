"""The IAM users of the local Athena: each with a policy from deploy/,
rendered for the local account, as an administrator would create them.

The local AWS server enforces their policies (scripts/services/iam_enforcement.py):
the local build runs as the runner, with exactly
deploy/dbt-athena-runner-policy.json; the consumer is the ML team, with
deploy/ml-consumer-policy.json (the curated zone, read-only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.common.project_paths import PROJECT_DIR
from scripts.services.iam_enforcement import ACCOUNT_ID

RUNNER_POLICY = PROJECT_DIR / "deploy" / "dbt-athena-runner-policy.json"
RUNNER_USER = "stedi-dbt-athena-runner"
CONSUMER_POLICY = PROJECT_DIR / "deploy" / "ml-consumer-policy.json"
CONSUMER_USER = "stedi-ml-consumer"


def render_policy(path: Path, values: dict[str, str]) -> dict[str, Any]:
    """A deploy/ policy with its ${Name} placeholders filled in; every
    placeholder must have a value."""
    text = path.read_text(encoding="utf-8")
    missing = set(re.findall(r"\$\{(\w+)\}", text)) - set(values)
    if missing:
        raise ValueError(f"{path.name}: no value for {', '.join(sorted(missing))}")
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return dict(json.loads(text))


def local_policy_values(bucket: str, region: str) -> dict[str, str]:
    """The placeholders' values on the local account."""
    return {
        "Region": region,
        "AccountId": ACCOUNT_ID,
        "Bucket": bucket,
        "WorkGroup": "stedi",
        "DatabasePrefix": "stedi",
        "ConsumerWorkGroup": "stedi-ml",
        "ConsumerResultsPrefix": "athena-results-ml",
    }


@dataclass(frozen=True)
class Principal:
    """An IAM user with one managed policy and an access key."""

    name: str
    arn: str
    policy_arn: str
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # never the secret, should it reach a log
        return f"Principal({self.name!r}, access_key={self.access_key!r})"

    def environment(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


def create_principal(iam: Any, name: str, policy: dict[str, Any]) -> Principal:
    """The user ``name`` with ``policy`` attached and a new access key."""
    user = iam.create_user(UserName=name)["User"]
    policy_arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(policy))["Policy"][
        "Arn"
    ]
    iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Principal(name, user["Arn"], policy_arn, key["AccessKeyId"], key["SecretAccessKey"])


def replace_policy(iam: Any, principal: Principal, policy: dict[str, Any]) -> None:
    """Make ``policy`` the default version of the principal's policy
    (IAM keeps five versions: the oldest other one goes first)."""
    versions = iam.list_policy_versions(PolicyArn=principal.policy_arn)["Versions"]
    old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
    if len(versions) >= 5:
        iam.delete_policy_version(PolicyArn=principal.policy_arn, VersionId=old[0]["VersionId"])
    iam.create_policy_version(
        PolicyArn=principal.policy_arn, PolicyDocument=json.dumps(policy), SetAsDefault=True
    )


def user_policies(iam: Any, access_key: str) -> tuple[str, list[dict[str, Any]]]:
    """The ARN and policy documents (its own and its groups') of the user an
    access key belongs to, read through IAM's API, as an authorizer outside
    the AWS server must. PermissionError: the key is not active."""
    user = iam.get_access_key_last_used(AccessKeyId=access_key)["UserName"]
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    if not any(key["AccessKeyId"] == access_key and key["Status"] == "Active" for key in keys):
        raise PermissionError(f"access key {access_key} is not active")
    arn = iam.get_user(UserName=user)["User"]["Arn"]
    documents: list[dict[str, Any]] = []
    for attached in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
        documents.append(_default_version(iam, attached["PolicyArn"]))
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        inline = iam.get_user_policy(UserName=user, PolicyName=name)
        documents.append(_document(inline["PolicyDocument"]))
    for group in iam.list_groups_for_user(UserName=user)["Groups"]:
        name = group["GroupName"]
        for attached in iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]:
            documents.append(_default_version(iam, attached["PolicyArn"]))
        for policy in iam.list_group_policies(GroupName=name)["PolicyNames"]:
            inline = iam.get_group_policy(GroupName=name, PolicyName=policy)
            documents.append(_document(inline["PolicyDocument"]))
    return arn, documents


def _default_version(iam: Any, policy_arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)
    return _document(document["PolicyVersion"]["Document"])


def _document(document: str | dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(document)) if isinstance(document, str) else document
