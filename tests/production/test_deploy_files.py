"""The deployment files say the same thing and each part is valid for its consumer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy" / name).read_text())


def test_the_k8s_run_launcher_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._config import process_config
    from dagster_k8s.job import DagsterK8sJobConfig

    monkeypatch.setenv("DAGSTER_K8S_INSTANCE_CONFIG_MAP", "warroom-instance")
    monkeypatch.setenv("DAGSTER_K8S_JOB_NAMESPACE", "warroom")
    launcher = _load("dagster.yaml")["run_launcher"]
    result = process_config(DagsterK8sJobConfig.config_type_run_launcher(), launcher["config"])
    assert result.success, result.errors
    assert result.value["env_secrets"] == ["warroom-secrets"]  # type: ignore[index]


def test_helm_values_render_the_same_concurrency_as_dagster_yaml() -> None:
    instance = _load("dagster.yaml")["concurrency"]
    helm = _load("helm-values.yaml")["concurrency"]
    assert helm["pools"] == {
        "granularity": instance["pools"]["granularity"],
        "defaultLimit": instance["pools"]["default_limit"],
        "opGranularityRunBuffer": instance["pools"]["op_granularity_run_buffer"],
    }
    assert helm["runs"]["maxConcurrentRuns"] == instance["runs"]["max_concurrent_runs"]
    assert helm["runs"]["tagConcurrencyLimits"] == instance["runs"]["tag_concurrency_limits"]


def test_helm_values_use_the_psycopg2_scheme_and_no_inline_secret() -> None:
    text = (ROOT / "deploy" / "helm-values.yaml").read_text()
    values = yaml.safe_load(text)
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    assert values["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in text
    storage = _load("dagster.yaml")["storage"]["postgres"]["postgres_db"]
    assert storage["scheme"] == "postgresql+psycopg2"
    assert storage["password"] == {"env": "DAGSTER_PG_PASSWORD"}
