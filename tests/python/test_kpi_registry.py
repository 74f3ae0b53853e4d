"""The KPI registry (dbt_project/seeds/kpi_registry.csv) is the one place a KPI is declared: the files
derived from it are current, a bad row is refused with its line, and a KPI added there alone reaches
int_kpi_monthly, the three manager-KPI marts (contract, tests, value), the published registry and the semantic
layer's metrics."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from amokpi import kpi_codegen, kpi_semantic
from amokpi.kpis import REGISTRY_CSV, UNITS, RegistryError, parse, registry
from amokpi.settings import PROJECT_ROOT
from ingestion.demo.account import generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.pipeline import runner

KPI_MARTS = ("mart_manager_kpi_monthly", "mart_team_kpi_monthly", "mart_department_kpi_monthly",
             "mart_manager_kpi_periods")


def test_generated_files_match_the_registry() -> None:
    stale = kpi_codegen.stale()
    assert not stale, f"run `make kpis`: stale {sorted(str(p.relative_to(PROJECT_ROOT)) for p in stale)}"


def test_every_kpi_has_both_labels_a_unit_and_a_mart_contract_column() -> None:
    kpis = registry()
    assert len(kpis) >= 50
    for kpi in kpis.values():
        assert kpi.label_ru and kpi.label_en and kpi.label_ru != kpi.name and kpi.unit in UNITS
    for relative in kpi_codegen.KPI_MARTS:
        text = (PROJECT_ROOT / relative).read_text(encoding="utf-8")
        assert all(f"- name: {name}\n" in text for name in kpis)


def _registry_with(tmp_path: Path, **changes: str) -> Path:
    rows = list(csv.DictReader(REGISTRY_CSV.open(encoding="utf-8", newline="")))
    rows.append({**rows[-1], **changes})
    path = tmp_path / "kpi_registry.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("changes", "message"), [
    ({}, "declared twice"),
    ({"kpi_name": "x_rate", "unit": "percent"}, "unit 'percent'"),
    ({"kpi_name": "x_rate", "numerator": "deals_won_count", "denominator": ""}, "both a numerator and a denominator"),
    ({"kpi_name": "x_rate", "is_additive": "yes"}, "is_additive must be true or false"),
    ({"kpi_name": "x_rate", "label_en": ""}, "needs label_ru, label_en"),
])
def test_a_bad_row_is_refused_with_its_line(tmp_path: Path, changes: dict[str, str], message: str) -> None:
    path = _registry_with(tmp_path, **changes)
    with pytest.raises(RegistryError, match=message) as raised:
        parse(path)
    assert f"line {len(registry()) + 2}" in str(raised.value)


def _copy_project(root: Path) -> None:
    """The dbt project alone (what `make kpis` and dbt read), without its build output."""
    shutil.copy(PROJECT_ROOT / "dbt_project.yml", root / "dbt_project.yml")
    for folder in ("dbt_project", "models", "tests/dbt"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("target", "logs"))


@pytest.mark.slow  # copies the project and builds its KPI marts: a heavier check, in `make bench`
def test_a_kpi_added_in_the_registry_alone_reaches_every_kpi_mart(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    _copy_project(project)
    # the one edit: a new ratio KPI, a row in the registry
    registry_csv = project / REGISTRY_CSV.relative_to(PROJECT_ROOT)
    with registry_csv.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow([
            "deals_lost_rate", "Доля проигранных", "Loss rate", "rate", "down", "false", "false", "true", "0", "1",
            "deals_lost_count", "deals_won_count + deals_lost_count", "", "", "false",
            "deals_lost_count / (deals_won_count + deals_lost_count); NULL when none closed.",
        ])
    generate = subprocess.run([sys.executable, "-m", "amokpi.kpi_codegen", "--root", str(project)],
                              capture_output=True, text=True, check=True)
    # the macro, the doc blocks, four KPI marts, the pipeline mart, ranges and the semantic layer's metrics
    assert generate.stdout.count("wrote ") == 9
    metrics = {m["name"]: m for m in yaml.safe_load((project / kpi_semantic.SEMANTIC).read_text())["metrics"]}
    assert metrics["deals_lost_rate"]["type"] == "ratio"  # a rate is a ratio of sums, never an average
    assert metrics["deals_lost_rate"]["type_params"] == {"numerator": "deals_lost_count",
                                                         "denominator": "deals_lost_rate_denominator"}

    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(generate_account(seed=7, months=2, leads_per_month=30)) as server:
        monkeypatch.setenv("SOURCES__AMOCRM__BASE_URL", server.base_url)
        monkeypatch.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", server.token)
        runner.ingest(warehouse, requests_per_second=0)
    # the copied project: the marts and what they stand on built, contracts enforced (the upstream models'
    # tests are not the subject; the new column's bounds are a constraint of each mart, checked as it is written)
    dbt = Path(sys.executable).with_name("dbt")
    common = ["--project-dir", str(project), "--profiles-dir", str(project / "dbt_project"),
              "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse)}
    build = subprocess.run(
        [str(dbt), "build", *common, "--select", "kpi_registry", *(f"+{mart}" for mart in KPI_MARTS),
         "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
        env=env, cwd=project, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:]

    with duckdb.connect(str(warehouse)) as con:  # the registry's bounds, enforced by the warehouse itself
        for mart in KPI_MARTS:
            (check,) = con.execute("""select constraint_text from duckdb_constraints() where schema_name = 'marts'
                                      and table_name = ? and constraint_type = 'CHECK'
                                      and constraint_text like '%deals_lost_rate%'""", [mart]).fetchone()
            assert "BETWEEN 0 AND 1" in check.upper(), check
            with pytest.raises(duckdb.ConstraintException, match="deals_lost_rate"):
                con.execute(f"update marts.{mart} set deals_lost_rate = 1.5")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart in KPI_MARTS:
            rows = con.execute(f"""
                select deals_lost_rate, deals_won_count, deals_lost_count from marts.{mart}""").fetchall()
            assert rows, mart
            for rate, won, lost in rows:
                assert rate == (None if won + lost == 0 else pytest.approx(lost / (won + lost))), mart
            assert any(rate is not None and rate > 0 for rate, _, _ in rows), mart
        label = con.execute("select label_en from staging.kpi_registry where kpi_name = 'deals_lost_rate'").fetchone()
    assert label == ("Loss rate",)
    assert parse(registry_csv)["deals_lost_rate"].label("ru") == "Доля проигранных"
