"""Downloads checked against a pinned SHA-256 (the Trino server, the
hadoop-aws jars): a file is kept only when its digest is the pinned one."""

from __future__ import annotations

import hashlib
import logging
import urllib.request
from pathlib import Path

LOG = logging.getLogger("pinned_download")


class DownloadError(RuntimeError):
    """A download failed or did not match its pin (one line for the user)."""


def download(url: str, sha256: str, destination: Path) -> None:
    """``url`` to ``destination``, through a .partial file that becomes
    ``destination`` only when its SHA-256 is ``sha256``."""
    LOG.info("downloading %s", url)
    digest = hashlib.sha256()
    partial = destination.with_name(destination.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
            while block := response.read(1024 * 1024):
                digest.update(block)
                out.write(block)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"cannot download {url}: {error}") from None
    if digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"{url}: SHA-256 {digest.hexdigest()} is not the pinned {sha256}")
    partial.rename(destination)
