"""One copy of botocore's service models per process, shared by every boto3
session: imported at start-up by the dbt processes that run the athena
target against the local stand-in (their PYTHONPATH names this folder).

dbt-athena makes a boto3 session of its own for every connection and every
Glue or S3 call, and a new session reads and parses the JSON of the
endpoints and each service's model again: on the stand-in, where a query
takes milliseconds, that was half of dbt's CPU in a build (about 12 of 25
CPU-seconds of a fixture build). The models are read-only data that one
session already shares between its clients; here every session with the
same search path shares them too. Nothing else changes: the same files,
parsed once. A botocore without the attributes this relies on is left as
it is. A sitecustomize further along the path (the user's own, or the
Python distribution's), which this one would hide, runs after it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from typing import Any

try:
    from botocore import loaders
except ImportError:  # not a Python with botocore: nothing to share
    loaders = None

SHARED: dict[tuple[Any, ...], dict[Any, Any]] = {}


def share_loaded_models() -> bool:
    """Make every botocore Loader with the same search path and extras use
    one cache; False when botocore is missing or has changed shape."""
    if loaders is None or getattr(loaders.Loader, "_stedi_shared", False):
        return False
    initialise = loaders.Loader.__init__

    def shared_init(self: Any, *args: Any, **kwargs: Any) -> None:
        initialise(self, *args, **kwargs)
        if isinstance(getattr(self, "_cache", None), dict):
            key = (tuple(self.search_paths), tuple(getattr(self, "_extras_types", ())))
            self._cache = SHARED.setdefault(key, {})

    loaders.Loader.__init__ = shared_init  # type: ignore[method-assign]
    loaders.Loader._stedi_shared = True  # type: ignore[attr-defined]
    return True


def run_the_hidden_sitecustomize() -> None:
    """Python imports the first sitecustomize on the path only: run the
    next one, as if this folder were not there."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [path for path in sys.path if os.path.abspath(path or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    hidden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hidden)


share_loaded_models()
run_the_hidden_sitecustomize()
