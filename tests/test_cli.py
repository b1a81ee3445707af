"""The `grace` command line through click's runner: documented, helpful, honest exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from builders import file_row, referral_row, write_delivery
from click.testing import CliRunner

from grace_cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def leaf_commands(group: click.Group, prefix: str = "grace") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += leaf_commands(command, path)
        else:
            found.append((path, command))
    return found


COMMANDS = leaf_commands(cli)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS])
def test_every_cli_command_is_documented_in_the_readme(path):
    assert f"`{path}" in README, f"{path} is missing from the README's command table"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS])
def test_every_cli_command_has_a_helpful_help(path):
    result = CliRunner().invoke(cli, [*path.split()[1:], "--help"])
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 4


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "wh.duckdb"


@pytest.fixture
def delivery(tmp_path):
    return write_delivery(
        tmp_path / "in" / "2023-05",
        [referral_row(n) for n in range(1, 4)] + [referral_row(9, status="lost")],
        [file_row(n) for n in range(1, 4)],
    )


def test_etl_run_then_stats_reports_integer_counts(warehouse, delivery):
    runner = CliRunner()
    run = runner.invoke(cli, ["etl", "run", str(delivery.parent), "--warehouse", str(warehouse), "--quiet"])
    assert run.exit_code == 0, run.output
    assert "3 referrals loaded, 1 quarantined" in run.output
    stats = runner.invoke(cli, ["warehouse", "stats", "--json", "--warehouse", str(warehouse)])
    assert stats.exit_code == 0
    payload = json.loads(stats.output)
    assert {k: payload[k] for k in ("referrals", "files", "media_clusters", "quarantined")} == {
        "referrals": 3,
        "files": 3,
        "media_clusters": 3,
        "quarantined": 1,
    }
    assert all(isinstance(v, int) for v in payload["tables"].values())


def test_warehouse_check_passes_on_a_clean_load_and_fails_on_a_planted_identifier(warehouse, delivery):
    from warehouse import connect

    runner = CliRunner()
    runner.invoke(cli, ["etl", "run", str(delivery.parent), "--warehouse", str(warehouse), "--quiet"])
    assert runner.invoke(cli, ["warehouse", "check", "--warehouse", str(warehouse)]).exit_code == 0
    con = connect(warehouse)
    con.execute("INSERT INTO warehouse_meta VALUES ('contact', 'call +31 6 5550 1234')")
    con.close()
    result = runner.invoke(cli, ["warehouse", "check", "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "warehouse_meta.value" in result.output and "phone" in result.output


def test_a_missing_warehouse_is_a_one_line_error(warehouse):
    result = CliRunner().invoke(cli, ["warehouse", "stats", "--warehouse", str(warehouse)])
    assert result.exit_code != 0
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_etl_run_without_sources_is_refused():
    result = CliRunner().invoke(cli, ["etl", "run"])
    assert result.exit_code == 2 and "nothing to load" in result.output


def test_etl_run_continues_past_a_refused_delivery_and_exits_non_zero(tmp_path, warehouse, delivery):
    bad = tmp_path / "in" / "2023-06"
    bad.mkdir()
    (bad / "referrals.csv").write_text("report_id,esp_name\nCT-2023-00000100,Chatterly\n")
    result = CliRunner().invoke(cli, ["etl", "run", str(tmp_path / "in"), "--warehouse", str(warehouse), "--quiet"])
    assert result.exit_code == 1
    assert "required column(s) missing" in result.output
    assert "3 referrals loaded" in result.output


def test_the_readme_configuration_table_lists_exactly_the_settings_the_code_reads():
    """`grace/settings.py` is the one place that reads the environment; the README documents each setting."""
    import re
    from pathlib import Path

    from grace.settings import SETTINGS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration and where data lives", 1)[1].split("\n\n", 2)[1]
    documented = {
        name for row in table.splitlines()[2:] for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }
    assert documented == {setting.name for setting in SETTINGS}


def test_no_module_but_the_settings_reads_the_environment():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readers = sorted(
        str(path.relative_to(root))
        for package in ("grace", "warehouse", "etl", "analytics", "dashboards", "grace_cli")
        for path in (root / package).rglob("*.py")
        if re.search(r"os\.environ|os\.getenv", path.read_text(encoding="utf-8"))
    )
    assert readers == ["grace/settings.py"]
