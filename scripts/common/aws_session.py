"""boto3 sessions and clients for the STEDI scripts.

Credentials come only from the standard AWS chain (environment, shared
config and credentials files, an optional named profile, instance or
container roles): no script takes a key on its command line, and nothing
here logs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

# Retries with backoff on throttling and 5xx: botocore's adaptive mode adds
# client-side rate limiting on top of the standard exponential backoff.
RETRY_CONFIG = {"mode": "adaptive", "max_attempts": 10}


@dataclass(frozen=True)
class AwsTarget:
    """Where the scripts talk to: region, optional endpoint and profile."""

    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None

    def session(self) -> boto3.session.Session:
        # boto3 is imported when first needed, not with this module: the
        # loader starts its validation workers before it pays for the import.
        import boto3

        return boto3.session.Session(profile_name=self.profile, region_name=self.region)

    def client(
        self,
        service: str,
        max_pool_connections: int = 10,
        *,
        session: boto3.session.Session | None = None,
        hash_bodies_for_signature: bool = True,
    ) -> Any:
        """A client with retries; ``session`` shares one session's loaded
        service models between clients.

        ``hash_bodies_for_signature=False`` is for S3 clients whose every
        request body carries a checksum header (e.g. ChecksumSHA256): the
        signature then covers that header instead of a second hash of the
        body. botocore does so by itself over HTTPS; this does it over plain
        HTTP too (a local endpoint), where it would hash each body again.
        S3 still verifies the body against the signed checksum.
        """
        from botocore.config import Config

        s3_options: dict[str, Any] = {}
        if self.endpoint_url:
            s3_options["addressing_style"] = "path"
        if not hash_bodies_for_signature:
            s3_options["payload_signing_enabled"] = False
        config = Config(
            retries=RETRY_CONFIG,  # type: ignore[arg-type]
            max_pool_connections=max_pool_connections,
            s3=s3_options or None,
        )
        return (session or self.session()).client(
            service, endpoint_url=self.endpoint_url, config=config
        )

    def describe(self) -> str:
        """Where we talk to, for logs (no credentials)."""
        parts = [f"region {self.session().region_name or '(default)'}"]
        if self.endpoint_url:
            parts.append(f"endpoint {self.endpoint_url}")
        if self.profile:
            parts.append(f"profile {self.profile}")
        return ", ".join(parts)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError ("" if it has none):
    "NoSuchKey", "AccessDenied", or an HTTP status such as "404" for a
    HEAD request, which has no body to name one."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def object_encryption(kms_key_id: str | None) -> dict[str, str]:
    """Extra arguments of an S3 upload: SSE-KMS with the key, else SSE-S3."""
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {"ServerSideEncryption": "AES256"}


def add_aws_arguments(parser: Any) -> None:
    """The options every AWS script shares."""
    parser.add_argument("--region", help="AWS region (default: from the AWS config chain)")
    parser.add_argument(
        "--endpoint-url",
        help="S3-compatible or local endpoint, e.g. http://127.0.0.1:5000 (default: AWS)",
    )
    parser.add_argument(
        "--profile",
        help="named AWS profile; credentials always come from the standard AWS chain",
    )
