"""Delivering an archived report run: a copy into a shared folder, and an e-mail with the PDF attached.

Delivery reads the archive folder (`reporting/archive.py`), so what is delivered is exactly what was
archived and checksummed. A folder copy is written under a hidden name and renamed into place, so a
reader of the shared folder never sees half a report. E-mail goes through the SMTP server of
`$GRACE_SMTP_HOST` (optional STARTTLS and login); the message carries the marking in its subject and body,
the manifest's checksums, and the PDF (else the HTML) as attachment — never the warehouse's data beyond
what the report itself holds.
"""

from __future__ import annotations

import json
import shutil
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from grace.errors import GraceError
from grace.settings import SmtpSettings, smtp_settings

ATTACHMENTS = (("report.pdf", "application", "pdf"), ("report.html", "text", "html"))
SMTP_TIMEOUT_S = 30


class DeliveryError(GraceError):
    """A report could not be delivered (no SMTP server configured, refused, unreachable, folder not writable)."""


def deliver_to_folder(run_folder: Path, target: Path) -> Path:
    """Copy the run's folder into `target` (atomically: hidden copy, then rename); returns the copy."""
    final = target / run_folder.name
    partial = target / f".{run_folder.name}.partial"
    try:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copytree(run_folder, partial)
        partial.rename(final)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise DeliveryError(f"cannot deliver {run_folder.name} to {target}: {error.strerror or error}") from error
    return final


def report_message(run_folder: Path, recipients: Sequence[str], sender: str) -> EmailMessage:
    """The e-mail of one run: marked subject and body, checksums, the PDF (or HTML) attached."""
    manifest = json.loads((run_folder / "manifest.json").read_text(encoding="utf-8"))
    message = EmailMessage()
    message["Subject"] = f"[{manifest['marking']}] {manifest['title']} — {manifest['period']}, {manifest['scope']}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    lines = [
        manifest["marking"],
        "",
        f"{manifest['title']}",
        f"Period: {manifest['period']} · Scope: {manifest['scope']} · Small-cell rule k = {manifest['k']}",
        f"Data: {manifest['data_freshness']}",
        f"Generated: {manifest['generated_at']} ({manifest['triggered_by']})",
        "",
        "Files in the archive (SHA-256):",
        *(f"  {name}  {entry['sha256']}" for name, entry in sorted(manifest["files"].items())),
        "",
        manifest["marking"],
    ]
    message.set_content("\n".join(lines))
    for name, kind, subtype in ATTACHMENTS:
        path = run_folder / name
        if path.is_file():
            message.add_attachment(path.read_bytes(), maintype=kind, subtype=subtype, filename=name)
            break
    return message


def send_report(run_folder: Path, recipients: Sequence[str], settings: SmtpSettings | None = None) -> None:
    """E-mail the run to `recipients` through the configured SMTP server."""
    settings = settings or smtp_settings()
    if settings is None:
        raise DeliveryError("no SMTP server configured: set $GRACE_SMTP_HOST to e-mail reports")
    message = report_message(run_folder, recipients, settings.sender)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(
            f"e-mail to {', '.join(recipients)} via {settings.host}:{settings.port} failed: {error}"
        ) from error
    if refused:
        raise DeliveryError(f"the SMTP server refused: {', '.join(sorted(refused))}")
