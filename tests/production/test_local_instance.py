"""The local dagster.yaml: one op at a time per pool, so one writer of the DuckDB file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from warroom_pipelines.home import LOCAL_INSTANCE_YAML, ensure_local_instance_config


def test_a_fresh_home_gets_the_local_instance_config_and_keeps_its_own(tmp_path: Path) -> None:
    target = ensure_local_instance_config(tmp_path / "home")
    assert target.read_text() == LOCAL_INSTANCE_YAML.read_text()
    target.write_text("telemetry:\n  enabled: false\n")
    ensure_local_instance_config(tmp_path / "home")
    assert target.read_text() == "telemetry:\n  enabled: false\n"


def test_the_warehouse_pool_admits_one_writer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ensure_local_instance_config(home)

    @dg.asset(pool="warehouse")
    def writes_the_duckdb_file() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(home)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 1
        assert config.pool_config.pool_granularity is not None
        assert config.pool_config.pool_granularity.value == "op"
        assert dg.materialize([writes_the_duckdb_file], instance=instance).success
        info = instance.event_log_storage.get_concurrency_info("warehouse")
        assert info.slot_count == 1  # the default limit, applied to the pool on first use
        assert info.active_slot_count == 0  # and released when the op finished
