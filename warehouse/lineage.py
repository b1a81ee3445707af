"""Batch lineage: the code version that loaded a batch and the row accounting it reports."""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from grace import __version__
from grace.config import REPO_ROOT


@lru_cache(maxsize=1)
def code_version() -> str:
    """`grace <version>` plus the git commit of the checkout, when there is one."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"grace {__version__}" + (f" ({sha})" if sha else "")


@dataclass
class BatchReport:
    """What one batch did: counts in and out, per stage timings, and its status."""

    batch_id: str
    source_kind: str
    source_path: str
    status: str = "pending"
    referrals_in: int = 0
    referrals_loaded: int = 0
    referrals_quarantined: int = 0
    referrals_duplicate: int = 0
    files_in: int = 0
    files_loaded: int = 0
    files_quarantined: int = 0
    files_duplicate: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    message: str = ""
    ignored_columns: list[str] = field(default_factory=list)  # "file: column" the contract does not know
    matching: dict[str, int] = field(default_factory=dict)  # perceptual clustering: placed, indexed, linked, merges
    scored: int = 0  # referrals given a triage score (0 while no model is active)

    @property
    def balanced(self) -> bool:
        """Row accounting holds: in = loaded + quarantined + duplicates, for referrals and files."""
        return (
            self.referrals_in == self.referrals_loaded + self.referrals_quarantined + self.referrals_duplicate
            and self.files_in == self.files_loaded + self.files_quarantined + self.files_duplicate
        )

    def as_dict(self) -> dict:
        return asdict(self)
