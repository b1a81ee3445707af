"""NCMEC-style JSON referral packages: a second delivery channel for some referrals.

One JSON object per line, nested like the clearing house's referral reports (reporter,
incidentSummary, personOrUserReported, victim, routing, fileDetails). Packages duplicate
export rows and are built from the clean values; missing values are left out.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from etl.simulator.malformed import BAD_UTF8_BYTES, BAD_UTF8_MARKER


def _split(codes):
    return codes.split(";") if codes else None


def _boolean(text):
    return None if text is None else text == "true"


def _integer(text):
    return None if text is None else int(text)


def _object(*pairs) -> dict:
    """A JSON object from (key, value) pairs, leaving out missing values and empty objects."""
    return {key: value for key, value in pairs if value is not None and value != {}}


def package(referral: dict, files: list[dict]) -> dict:
    """One referral package from an export row and its file rows."""
    r = referral
    ip_event = _object(
        ("ipAddress", r["reported_ip"]), ("eventName", r["reported_ip_event"]), ("dateTime", r["reported_ip_datetime"])
    )
    return _object(
        ("reportId", r["report_id"]),
        ("reporter", {"espName": r["esp_name"], "espService": r["esp_service"]}),
        (
            "incidentSummary",
            _object(
                ("incidentType", r["incident_type"]),
                ("incidentDateTime", r["incident_datetime"]),
                ("reportAnnotations", _split(r["report_annotations"])),
                ("additionalInfo", r["additional_info"]),
                ("url", r["incident_url"]),
            ),
        ),
        (
            "personOrUserReported",
            _object(
                ("screenName", r["reported_screen_name"]),
                ("displayName", r["reported_display_name"]),
                ("email", r["reported_email"]),
                ("phone", r["reported_phone"]),
                ("ipCaptureEvent", [ip_event] if ip_event else None),
                ("estimatedLocation", _object(("countryCode", r["estimated_location_country"]))),
            ),
        ),
        ("victim", _object(("estimatedAge", _integer(r["victim_age"])))),
        (
            "routing",
            {
                "reportingCountry": r["reporting_country"],
                "receivingAgency": r["receiving_agency"],
                "actionable": _boolean(r["is_actionable"]),
                "escalated": _boolean(r["is_escalated"]),
                "bundleSize": _integer(r["bundle_size"]),
                "receivedDate": r["received_date"],
            },
        ),
        ("fileDetails", [_file_detail(row) for row in files]),
    )


def _file_detail(f: dict) -> dict:
    return _object(
        ("fileId", f["file_id"]),
        ("originalFileHash", _object(("md5", f["md5"]), ("sha1", f["sha1"]))),
        ("pdq", f["pdq"]),
        ("pdqQuality", _integer(f["pdq_quality"])),
        ("fileAnnotations", _split(f["file_annotations"])),
        ("industryClassification", f["industry_classification"]),
        ("publiclyAvailable", _boolean(f["publicly_available"])),
        ("fileViewedByEsp", _boolean(f["viewed_by_esp"])),
        ("originalFileName", f["original_file_name"]),
    )


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def package_lines(
    referrals: pa.Table, files: pa.Table, file_offsets: np.ndarray, rows: np.ndarray, broken: set
) -> list[bytes]:
    """JSON lines (UTF-8, newline-terminated) for the sorted referral `rows`.

    Rows in `broken` get invalid UTF-8 bytes inside their additionalInfo.
    """
    if len(rows) == 0:
        return []
    chosen = referrals.take(pa.array(rows)).to_pylist()
    counts = file_offsets[rows + 1] - file_offsets[rows]
    starts = np.repeat(file_offsets[rows], counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    file_rows = files.take(pa.array(starts + within)).to_pylist()
    lines, position = [], 0
    for row, referral, count in zip(rows.tolist(), chosen, counts.tolist()):
        document = package(referral, file_rows[position : position + count])
        position += count
        if row in broken:
            info = document["incidentSummary"].get("additionalInfo") or "Automated report"
            middle = len(info) // 2
            document["incidentSummary"]["additionalInfo"] = info[:middle] + BAD_UTF8_MARKER + info[middle:]
        text = _encode(document).encode("utf-8")
        lines.append(text.replace(BAD_UTF8_MARKER.encode(), BAD_UTF8_BYTES) + b"\n")
    return lines
