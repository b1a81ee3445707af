"""`grace warehouse check`'s identifier scan: precise enough that a normal demo warehouse passes (analysis
headlines are full of signed numbers such as "+0.045" or "+12.5 %"), sharp enough to catch every planted
identifier."""

from __future__ import annotations

import pytest

from etl.checks import identifier_findings


@pytest.mark.parametrize(
    ("planted", "kind"),
    [
        ("contact someone@example.org", "email"),
        ("call +31 6 5550 0001", "phone"),
        ("+44 (20) 7946 0958", "phone"),
        ("tel:+1-202-555-0143", "phone"),
        ("seen from 192.168.10.7 at noon", "ipv4"),
        ("2001:db8:85a3:0:0:8a2e:370:7334", "ipv6"),
        ("see https://example.org/x", "url"),
        ("www.example.org", "url"),
    ],
)
def test_a_planted_identifier_is_found_whatever_its_kind(fresh_db, planted, kind):
    fresh_db.execute("INSERT INTO warehouse_meta VALUES ('note', ?)", [planted])
    assert [(f.column, f.message.rsplit(" ", 1)[-1]) for f in identifier_findings(fresh_db)] == [("value", kind)]


@pytest.mark.parametrize(
    "headline",
    [
        "Referrals rose +0.045 per day",
        "Files ▲ +12.5 % vs previous",
        "A rise of +1,234 referrals (+0.8 per cent)",
        "Growth +5.2% a year, 95 % interval +3.1% to +7.4%",
        "Backlog reaches 12,345 by Dec 2025",
    ],
)
def test_signed_numbers_in_analysis_text_are_not_phone_numbers(fresh_db, headline):
    fresh_db.execute("INSERT INTO warehouse_meta VALUES ('note', ?)", [headline])
    assert identifier_findings(fresh_db) == []


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_a_demo_warehouse_with_its_first_analysis_passes_the_check(tmp_path, seed):
    from etl.checks import contract_findings
    from grace_cli.demo_warehouse import build_demo_warehouse
    from warehouse import connect

    path = tmp_path / "warehouse.duckdb"
    result = build_demo_warehouse(path, scale=0.004, seed=seed, inputs=tmp_path / "demo")
    assert result.analysis_series > 0
    con = connect(path, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM analytics_finding").fetchone()[0] > 0
        assert identifier_findings(con) == [] and contract_findings(con) == []
    finally:
        con.close()
