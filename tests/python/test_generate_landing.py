"""The synthetic landing generator: deterministic, realistic in shape, and
never leaves a half-written landing folder."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from scripts import generate_landing
from scripts.generate_landing import GeneratorConfig, generate


def read_dataset(root: Path, name: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted((root / name).glob("*.json"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.json")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "landing"
    generate(GeneratorConfig(out=out, scale=0.5, seed=7, customer_rows_per_file=200))
    return out


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(GeneratorConfig(out=tmp_path / "a", scale=0.05, seed=3))
    generate(GeneratorConfig(out=tmp_path / "b", scale=0.05, seed=3))
    generate(GeneratorConfig(out=tmp_path / "c", scale=0.05, seed=4))
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_layout_has_several_files_per_dataset(landing: Path) -> None:
    for name in generate_landing.DATASETS:
        assert len(list((landing / name).glob("*.json"))) >= 2, name
    assert generate_landing.has_landing_data(landing)


def test_row_counts_scale_like_the_public_data(landing: Path) -> None:
    customers = read_dataset(landing, "customer")
    readings = read_dataset(landing, "accelerometer")
    steps = read_dataset(landing, "step_trainer")
    assert len(customers) == 500
    assert len(steps) == 500 * generate_landing.STEP_INSTANTS_PER_CUSTOMER
    # 2 to 4 readings per instant, about 2.8 on average
    assert 2.6 < len(readings) / len(steps) < 3.0


def test_about_half_consent_and_absent_keys_are_never_null(landing: Path) -> None:
    customers = read_dataset(landing, "customer")
    consenting = [c for c in customers if "shareWithResearchAsOfDate" in c]
    assert 0.4 < len(consenting) / len(customers) < 0.6
    for customer in customers:
        assert all(value is not None for value in customer.values())
    assert len({c["email"].lower() for c in customers}) == len(customers)


def test_consent_falls_mostly_inside_the_reading_window(landing: Path) -> None:
    customers = read_dataset(landing, "customer")
    times: dict[str, list[int]] = defaultdict(list)
    for reading in read_dataset(landing, "accelerometer"):
        times[reading["user"]].append(reading["timestamp"])
    positions = Counter()
    for customer in customers:
        consent = customer.get("shareWithResearchAsOfDate")
        if consent is None:
            continue
        window = times[customer["email"]]
        if consent < min(window):
            positions["before"] += 1
        elif consent > max(window):
            positions["after"] += 1
        else:
            positions["inside"] += 1
    total = sum(positions.values())
    assert positions["inside"] / total > 0.6
    assert positions["before"] > 0 and positions["after"] > 0


def test_step_instants_match_owner_readings_and_are_shared_across_devices(
    landing: Path,
) -> None:
    owner = {c["serialNumber"]: c["email"] for c in read_dataset(landing, "customer")}
    reading_keys = {(r["user"], r["timestamp"]) for r in read_dataset(landing, "accelerometer")}
    devices_per_instant: dict[int, set[str]] = defaultdict(set)
    for step in read_dataset(landing, "step_trainer"):
        assert (owner[step["serialNumber"]], step["sensorReadingTime"]) in reading_keys
        devices_per_instant[step["sensorReadingTime"]].add(step["serialNumber"])
    shared = sum(1 for devices in devices_per_instant.values() if len(devices) > 1)
    assert shared > 0


def test_readings_at_one_instant_are_distinct(landing: Path) -> None:
    keys = Counter(
        (r["user"], r["timestamp"], r["x"], r["y"], r["z"])
        for r in read_dataset(landing, "accelerometer")
    )
    assert max(keys.values()) == 1


def test_failed_generation_keeps_the_previous_landing_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "landing"
    generate(GeneratorConfig(out=out, scale=0.02, seed=1))
    before = tree_digest(out)
    original_write = generate_landing.RollingJsonWriter.write
    calls = {"n": 0}

    def failing_write(self: generate_landing.RollingJsonWriter, line: str) -> None:
        calls["n"] += 1
        if calls["n"] > 100:
            raise OSError("disk full")
        original_write(self, line)

    monkeypatch.setattr(generate_landing.RollingJsonWriter, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        generate(GeneratorConfig(out=out, scale=0.02, seed=2))
    assert tree_digest(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["landing"]


def test_cli_writes_the_requested_scale(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    assert generate_landing.main(["--out", str(out), "--scale", "0.01", "--seed", "5"]) == 0
    assert len(read_dataset(out, "customer")) == 10


def test_cli_rejects_a_non_positive_scale(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        generate_landing.main(["--scale", "0"])
    assert exit_info.value.code == 2
    assert "--scale must be positive" in capsys.readouterr().err


def test_an_appended_batch_adds_new_people_on_a_new_day(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    generate(GeneratorConfig(out=out, scale=0.05, seed=3))
    base = {path: path.read_bytes() for path in out.rglob("*.json")}
    base_customers = read_dataset(out, "customer")
    base_latest = max(row["sensorReadingTime"] for row in read_dataset(out, "step_trainer"))
    start = generate_landing.next_day_after_readings_ms(out)
    assert start % 86_400_000 == 0 and start > base_latest
    generate(GeneratorConfig(out=out, scale=0.02, seed=3, append="day2", start_ms=start))

    assert {path: path.read_bytes() for path in base} == base  # the base is untouched
    added = sorted(path.name for path in out.rglob("*.json") if path not in base)
    assert added == [
        "accelerometer-day2-00000.json",
        "customer-day2-00000.json",
        "step_trainer-day2-00000.json",
    ]
    customers = read_dataset(out, "customer")[len(base_customers) :]
    assert len(customers) == 20
    assert {row["email"] for row in customers}.isdisjoint(row["email"] for row in base_customers)
    assert {row["serialNumber"] for row in customers}.isdisjoint(
        row["serialNumber"] for row in base_customers
    )
    new_steps = json.loads(
        (out / "step_trainer" / "step_trainer-day2-00000.json").open().readline()
    )
    assert new_steps["sensorReadingTime"] >= start
    with pytest.raises(FileExistsError):
        generate(GeneratorConfig(out=out, scale=0.02, seed=3, append="day2", start_ms=start))
    assert not list(tmp_path.glob(".landing.partial*"))


def test_append_needs_an_existing_landing_zone(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        generate(GeneratorConfig(out=tmp_path / "none", scale=0.02, append="day2"))


def test_days_spreads_the_readings_over_that_many_dates(tmp_path: Path) -> None:
    """--days: one build then writes more reading dates than Athena's 100
    partitions per query allow."""
    out = tmp_path / "landing"
    assert generate_landing.main(["--out", str(out), "--scale", "0.2", "--days", "150"]) == 0
    day_ms = 86_400_000
    dates = {row["timestamp"] // day_ms for row in read_dataset(out, "accelerometer")}
    assert 140 <= len(dates) <= 151
    assert max(dates) - min(dates) <= 150
    default = tmp_path / "default"
    generate(GeneratorConfig(out=default, scale=0.2))
    assert len({row["timestamp"] // day_ms for row in read_dataset(default, "accelerometer")}) <= 2


def test_cli_rejects_non_positive_days(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        generate_landing.main(["--days", "0"])
    assert exit_info.value.code == 2
    assert "--days must be positive" in capsys.readouterr().err
