"""moto's AWS server with the calls moto lacks that this project makes: the
Glue column-statistics operations of Trino's Glue metastore, and Athena's
UpdateWorkGroup (bootstrap_aws repairs a drifted work group with it); and
S3's dating of a multipart object, which moto gets wrong.

Trino's Hive connector reads and writes column statistics in Glue on every
CREATE TABLE, CTAS and INSERT (even with statistics collection off, it
clears them). moto 5.2 answers those operations with a 500, so the local
Athena stand-in (scripts/services/athena_local.py) runs moto through this launcher:
each statistics call succeeds and keeps nothing, as for a table whose
statistics were never computed. Everything else is moto's.

Usage: python -m scripts.services.local_aws_server -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import json
import sys
from typing import Any

from moto.athena.responses import AthenaResponse
from moto.core.utils import utcnow
from moto.glue.responses import GlueResponse
from moto.s3.models import FakeMultipart, S3Backend


def _no_statistics(self: GlueResponse) -> str:
    """Get*ColumnStatistics*: none known, none missing."""
    return json.dumps({"ColumnStatisticsList": [], "Errors": []})


def _nothing_to_report(self: GlueResponse) -> str:
    """Update*/Delete*ColumnStatistics*: accepted, nothing kept."""
    return json.dumps({"Errors": []})


for _scope in ("table", "partition"):
    setattr(GlueResponse, f"get_column_statistics_for_{_scope}", _no_statistics)
    setattr(GlueResponse, f"update_column_statistics_for_{_scope}", _nothing_to_report)
    setattr(GlueResponse, f"delete_column_statistics_for_{_scope}", _nothing_to_report)


# UpdateWorkGroup's ConfigurationUpdates keys that replace a configuration
# key of the same meaning (AWS's API reference, UpdateWorkGroup)
_WORK_GROUP_UPDATES = {
    "EnforceWorkGroupConfiguration": "EnforceWorkGroupConfiguration",
    "PublishCloudWatchMetricsEnabled": "PublishCloudWatchMetricsEnabled",
    "BytesScannedCutoffPerQuery": "BytesScannedCutoffPerQuery",
    "RequesterPaysEnabled": "RequesterPaysEnabled",
    "EngineVersion": "EngineVersion",
}


def _update_work_group(self: AthenaResponse) -> str:
    """UpdateWorkGroup: the configuration updates applied as AWS applies them."""
    name = self._get_param("WorkGroup")
    group = self.athena_backend.work_groups.get(name)
    if group is None:
        return self.error(f"WorkGroup {name} is not found.", 400)
    updates = self._get_param("ConfigurationUpdates", {})
    configuration = group.configuration
    for key, target in _WORK_GROUP_UPDATES.items():
        if key in updates:
            configuration[target] = updates[key]
    result = dict(configuration.get("ResultConfiguration", {}))
    result_updates = updates.get("ResultConfigurationUpdates", {})
    for key in (
        "OutputLocation",
        "EncryptionConfiguration",
        "ExpectedBucketOwner",
        "AclConfiguration",
    ):
        if result_updates.get(f"Remove{key}"):
            result.pop(key, None)
        elif key in result_updates:
            result[key] = result_updates[key]
    configuration["ResultConfiguration"] = result
    if "Description" in self._get_params():
        group.description = self._get_param("Description")
    return "{}"


AthenaResponse.update_work_group = _update_work_group  # type: ignore[attr-defined]


# S3 dates an object made by a multipart upload by when the upload started
# (its Last-Modified is the CreateMultipartUpload time); moto dates it by
# the completion. The screening models find new landing files by that date,
# so the stand-in dates them as S3 does.
_multipart_init = FakeMultipart.__init__
_complete_multipart_upload = S3Backend.complete_multipart_upload


def _multipart_init_dated(self: FakeMultipart, *args: Any, **kwargs: Any) -> None:
    _multipart_init(self, *args, **kwargs)
    self.initiated = utcnow()  # type: ignore[attr-defined]


def _complete_multipart_upload_dated(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
    bucket_name, multipart_id = args[0], args[1]
    initiated = self.get_bucket(bucket_name).multiparts[multipart_id].initiated
    key = _complete_multipart_upload(self, *args, **kwargs)
    if key is not None:
        key.last_modified = initiated
    return key


FakeMultipart.__init__ = _multipart_init_dated  # type: ignore[method-assign]
S3Backend.complete_multipart_upload = _complete_multipart_upload_dated  # type: ignore[method-assign]


def main() -> None:
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
