"""The local Spark driver's heap follows the machine's memory."""

from __future__ import annotations

import pytest

from scripts.common.dbt_invoke import GIB, driver_memory


@pytest.mark.parametrize(
    ("total", "heap"),
    [
        (2 * GIB, "1024m"),  # never below 1 GiB
        (6 * GIB, "1536m"),  # a quarter of the machine
        (8 * GIB, "2048m"),
        (64 * GIB, "2048m"),  # never above 2 GiB
    ],
)
def test_driver_heap_is_a_quarter_of_memory_within_bounds(total: int, heap: str) -> None:
    assert driver_memory(total) == heap


def test_this_machine_gets_a_heap_within_bounds() -> None:
    megabytes = int(driver_memory().removesuffix("m"))
    assert 1024 <= megabytes <= 2048
