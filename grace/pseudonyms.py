"""Pseudonyms the ETL computes in SQL, computed again in Python for one identifier a user types.

The ETL turns a case-system report number into the referral key in SQL (`sql/etl/check_referrals.sql`):
HMAC-SHA256 with the deployment's key over `referral` + U+001F + the trimmed report number, its first 128
bits as an unsigned integer. `referral_key` is the same function, for the triage page's "find by report
number": the server computes the pseudonym and looks it up; the number itself is never stored, shown or
logged, and nothing turns a key back into a number. A test holds the two definitions together.
"""

from __future__ import annotations

import hashlib
import hmac

from grace.config import PseudonymKey

REFERRAL_NAMESPACE = b"referral\x1f"
MAX_REPORT_ID_CHARS = 200


def referral_key(key: PseudonymKey, report_id: str) -> str | None:
    """The referral key (decimal text) of a case-system report number, or None for an empty one."""
    text = (report_id or "").strip()
    if not text or len(text) > MAX_REPORT_ID_CHARS:
        return None
    digest = hmac.new(key.secret, REFERRAL_NAMESPACE + text.encode("utf-8"), hashlib.sha256).hexdigest()
    return str(int(digest[:32], 16))
