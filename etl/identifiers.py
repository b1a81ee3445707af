"""What a direct identifier looks like: the patterns the ETL refuses in kept free text and that
`grace warehouse check` scans every text column of the warehouse for.

RE2 syntax (DuckDB's `regexp_matches`). Precise on purpose: analysis text such as "+0.045" or
"+12.5 %" must not look like a phone number.
"""

from __future__ import annotations

# Patterns for identifiers that must never reach the warehouse (RE2 syntax, DuckDB regexp).
IDENTIFIER_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "ipv4": r"(^|[^0-9.])(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}([^0-9.]|$)",
    "ipv6": r"(^|[^0-9A-Fa-f:])([0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}([^0-9A-Fa-f:]|$)",
    # An international number: + and a country code (never starting with 0), then at least six more digits
    # separated only by spaces, hyphens or brackets — so "+0.045" or "+12.5 %" in an analysis headline is not one.
    "phone": r"(^|[^0-9A-Za-z.,+])\+[1-9][0-9]{0,2}([ ()-]{0,2}[0-9]){6,14}([^0-9.,]|$)",
    "url": r"(?i)(https?://|www\.)[^ ]+",
}


def any_identifier_pattern() -> str:
    """One RE2 pattern matching text that contains any kind of identifier above."""
    return "|".join(f"(?:{pattern})" for pattern in IDENTIFIER_PATTERNS.values())
