"""The data-freshness line every page header and every export marking shows."""

from __future__ import annotations

import pandas as pd

from warehouse import WarehouseReader


def freshness_text(frame: pd.DataFrame) -> str:
    """'Incidents up to 30 Jun 2024 · last ETL batch finished 01 Jul 2024 03:12 UTC (12 batches loaded).'"""
    row = frame.iloc[0] if not frame.empty else None
    if row is None or pd.isna(row["latest_incident_date"]):
        return "No referrals loaded yet."
    latest = pd.Timestamp(row["latest_incident_date"]).strftime("%d %b %Y")
    text = f"Incidents up to {latest}"
    if pd.isna(row["latest_batch_finished_at"]):
        return f"{text} · no ETL batch recorded."
    batch = pd.Timestamp(row["latest_batch_finished_at"]).strftime("%d %b %Y %H:%M")
    count = int(row["batch_count"])
    return f"{text} · last ETL batch finished {batch} UTC ({count:,} batch{'es' if count != 1 else ''} loaded)."


def data_freshness(reader: WarehouseReader) -> str:
    """The freshness line of a warehouse (named query `data_freshness`)."""
    return freshness_text(reader.run("data_freshness"))
