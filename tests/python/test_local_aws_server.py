"""The local AWS server behaves as AWS where the project depends on it and
moto alone does not: a multipart object is dated when its upload started,
and UpdateWorkGroup applies a work group's configuration updates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from scripts.services.local_s3 import fake_aws_environment, moto_server

pytestmark = [pytest.mark.aws]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(
        Path(tmp_path_factory.mktemp("aws")), "scripts.services.local_aws_server"
    ) as url:
        yield url


def client(endpoint: str, service: str) -> Any:
    credentials = fake_aws_environment({})
    return boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    ).client(service, endpoint_url=endpoint, region_name="us-east-1")


def test_a_multipart_object_is_dated_when_its_upload_started(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="dated")
    s3.put_object(Bucket="dated", Key="before.json", Body=b"{}\n")
    upload = s3.create_multipart_upload(Bucket="dated", Key="large.json")["UploadId"]
    time.sleep(2.2)  # S3's dates have whole seconds
    s3.put_object(Bucket="dated", Key="during.json", Body=b"{}\n")
    part = s3.upload_part(
        Bucket="dated", Key="large.json", UploadId=upload, PartNumber=1, Body=b"{}\n"
    )
    s3.complete_multipart_upload(
        Bucket="dated",
        Key="large.json",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    dates = {
        key: s3.head_object(Bucket="dated", Key=key)["LastModified"]
        for key in ("before.json", "large.json", "during.json")
    }
    # the large object was completed last, but is dated before a file
    # written while it was uploading: S3's rule, which moto alone breaks
    assert dates["before.json"] <= dates["large.json"] < dates["during.json"]
    listed = {
        item["Key"]: item["LastModified"] for item in s3.list_objects_v2(Bucket="dated")["Contents"]
    }
    assert listed["large.json"] == dates["large.json"]


def test_update_work_group_applies_its_configuration_updates(endpoint: str) -> None:
    athena = client(endpoint, "athena")
    athena.create_work_group(
        Name="updated",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://a/results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    athena.update_work_group(
        WorkGroup="updated",
        ConfigurationUpdates={
            "EnforceWorkGroupConfiguration": False,
            "ResultConfigurationUpdates": {"OutputLocation": "s3://b/results/"},
        },
    )
    configuration = athena.get_work_group(WorkGroup="updated")["WorkGroup"]["Configuration"]
    assert configuration["EnforceWorkGroupConfiguration"] is False
    assert configuration["ResultConfiguration"]["OutputLocation"] == "s3://b/results/"
