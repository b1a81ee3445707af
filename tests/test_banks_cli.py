"""`grace banks …` and `grace match` through click's runner: readable output, stable JSON, one-line errors,
read-only look-ups. Hashes are synthetic (MD5/SHA1 of made-up item names, seeded random PDQ)."""

from __future__ import annotations

import json

import pytest
from builders import referral_row, write_delivery
from click.testing import CliRunner
from test_banks import BASE, FILES, flipped

from grace_cli import cli


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "wh.duckdb"
    delivery = write_delivery(tmp_path / "in" / "2023-05", [referral_row(n) for n in range(1, 6)], FILES)
    result = CliRunner().invoke(cli, ["etl", "run", str(delivery.parent), "--warehouse", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    bank = tmp_path / "bank.csv"
    bank.write_text(f"md5,pdq,category\n{FILES[0]['md5']},,A1\n,{BASE[0]},B1\n")
    result = grace("banks", "import", str(bank), "--bank", "industry", "--scheme", "industry", "--version", "1",
                   "--source", "test list", "--warehouse", str(path))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 entries (2 new" in result.output and "3 new match(es)" in result.output
    return path


def grace(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_banks_list_shows_each_bank_and_its_json_has_every_count(warehouse):
    human = grace("banks", "list", "--warehouse", str(warehouse))
    assert human.exit_code == 0 and "industry" in human.output and "enabled_entries" in human.output
    (bank,) = json.loads(grace("banks", "list", "--json", "--warehouse", str(warehouse)).output)
    assert bank["entries"] == 2 and bank["md5_entries"] == 1 and bank["pdq_entries"] == 1
    assert bank["matched_clusters"] == 3 and bank["updated_at"].startswith("20")


def test_reimporting_through_the_cli_says_nothing_changed(warehouse, tmp_path):
    result = grace("banks", "import", str(tmp_path / "bank.csv"), "--bank", "industry", "--scheme", "industry",
                   "--version", "1", "--source", "test list", "--warehouse", str(warehouse))  # fmt: skip
    assert result.exit_code == 0 and "nothing changed" in result.output


def test_a_bad_bank_file_is_a_one_line_error_naming_row_and_field(warehouse, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("md5,category\n" + "a" * 32 + ",A1\n" + "a" * 32 + ",Z9\n")
    result = grace("banks", "import", str(bad), "--bank", "x", "--scheme", "industry", "--version", "1",
                   "--source", "s", "--warehouse", str(warehouse))  # fmt: skip
    assert result.exit_code == 2 and "row 2, field 'category'" in result.output and "Traceback" not in result.output


def test_disable_and_enable_by_hash_and_the_history_lists_them(warehouse):
    off = grace("banks", "disable", "industry", "--hash", FILES[0]["md5"], "--warehouse", str(warehouse))
    assert off.exit_code == 0 and "entry 1 of bank industry disabled" in off.output
    on = grace("banks", "enable", "industry", "--entry", "1", "--warehouse", str(warehouse))
    assert on.exit_code == 0 and "enabled" in on.output
    both = grace("banks", "disable", "industry", "--entry", "1", "--hash", "a" * 32, "--warehouse", str(warehouse))
    assert both.exit_code != 0 and "exactly one of --entry" in both.output
    history = json.loads(grace("banks", "history", "industry", "--json", "--warehouse", str(warehouse)).output)
    assert [(c["action"], c["entry_id"]) for c in history] == [("import", None), ("disable", 1), ("enable", 1)]
    human = grace("banks", "history", "industry", "--warehouse", str(warehouse))
    assert human.exit_code == 0 and "disable" in human.output
    unknown = grace("banks", "history", "nope", "--warehouse", str(warehouse))
    assert unknown.exit_code == 2 and "no bank named 'nope'" in unknown.output


@pytest.fixture
def queries(tmp_path):
    path = tmp_path / "queries.csv"
    path.write_text(
        "md5,sha1,pdq\n"
        f"{FILES[0]['md5']},,\n"  # row 1: a bank entry and a media cluster, by MD5
        f",{FILES[1]['sha1']},\n"  # row 2: a media cluster by SHA1 only
        f",,{flipped(BASE[0], 20)}\n"  # row 3: the PDQ entry at 20 bits
        f",,{BASE[2]}\n"  # row 4: nothing
    )
    return path


def test_grace_match_json_has_a_result_per_row_and_says_which_lookups_were_made(warehouse, queries):
    result = grace("match", str(queries), "--json", "--warehouse", str(warehouse))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {"file", "rows", "lookups", "banks", "summary", "results"}
    assert payload["rows"] == 4 and [r["row"] for r in payload["results"]] == [1, 2, 3, 4]
    assert payload["lookups"]["made"] == [
        "banks:md5", "banks:sha1", "banks:pdq", "clusters:md5", "clusters:sha1", "clusters:pdq"
    ]  # fmt: skip
    assert payload["lookups"]["not_made"] == {}
    first, second, third, fourth = payload["results"]
    assert first["bank_matches"] == [
        {"bank_name": "industry", "bank_version": "1", "entry_id": 1, "match_kind": "md5", "distance": 0,
         "category": "A1", "is_suppressed": False, "is_negative": False}
    ]  # fmt: skip
    (cluster,) = first["cluster_matches"]
    assert cluster["match_kind"] == "md5" and cluster["cluster_id"].isdigit() and cluster["occurrences"] == 1
    assert cluster["first_seen_date"] == "2023-05-02" and cluster["country_count"] == 1
    assert second["bank_matches"] == [] and second["cluster_matches"][0]["match_kind"] == "sha1"
    assert third["bank_matches"][0]["distance"] == 20
    # The PDQ near-duplicates among the media clusters: 31, 32 and 0 bits from the base, 20 bits flipped here.
    assert [(c["match_kind"], c["distance"]) for c in third["cluster_matches"]] == [
        ("pdq", 11),
        ("pdq", 12),
        ("pdq", 20),
    ]
    assert len({c["perceptual_id"] for c in third["cluster_matches"]}) == 1
    assert fourth == {"row": 4, "bank_matches": [], "cluster_matches": []}
    assert payload["summary"]["rows_with_active_bank_match"] == 2 and payload["summary"]["rows_without_match"] == 1


def test_grace_match_prints_readable_tables_and_the_lookups_made(warehouse, queries):
    result = grace("match", str(queries), "--warehouse", str(warehouse))
    assert result.exit_code == 0, result.output
    assert "look-ups made: hash banks by md5, sha1, pdq; media clusters by md5, sha1, pdq" in result.output
    assert "not made" not in result.output
    assert "bank matches" in result.output and "media clusters" in result.output
    assert "2 row(s) with an active bank match" in result.output


def test_grace_match_refuses_unknown_columns_and_bad_rows_by_name(warehouse, tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("md5,filename\n" + "a" * 32 + ",x\n")
    result = grace("match", str(extra), "--warehouse", str(warehouse))
    assert result.exit_code == 2 and "unknown column(s) 'filename'" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("pdq\n" + BASE[1] + "\n" + "z" * 64 + "\n")
    result = grace("match", str(bad), "--warehouse", str(warehouse))
    assert result.exit_code == 2 and "row 2, field 'pdq': not hexadecimal" in result.output


def test_grace_match_opens_the_warehouse_read_only(warehouse, queries, monkeypatch):
    import warehouse as warehouse_package

    opened = []
    real = warehouse_package.connect

    def spy(path, read_only=False, **kwargs):
        opened.append(read_only)
        return real(path, read_only=read_only, **kwargs)

    monkeypatch.setattr(warehouse_package, "connect", spy)
    for args in (["match", str(queries)], ["banks", "list"], ["banks", "history", "industry"]):
        assert grace(*args, "--warehouse", str(warehouse)).exit_code == 0
    assert opened == [True, True, True]
