"""Delivering an archived report: into a shared folder, and by e-mail through a real local SMTP server."""

from __future__ import annotations

import hashlib
import json
import socket
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from grace.settings import SmtpSettings
from reporting.delivery import DeliveryError, deliver_to_folder, send_report
from reporting.schedule import ScheduleError, ScheduleStore

MARKING = "RESTRICTED — law-enforcement use only"


class Mailbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield SmtpSettings("127.0.0.1", controller.port, False, None, None, "grace@test.invalid"), mailbox
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def run_folder(tmp_path):
    """An archived run as `reporting.archive` writes it (a stand-in PDF: bytes, not a document)."""
    folder = tmp_path / "archive" / "weekly-brief_2024-12-23_EU-27_20261206T070000Z"
    folder.mkdir(parents=True)
    pdf = b"%PDF-1.7 synthetic test bytes"
    (folder / "report.pdf").write_bytes(pdf)
    manifest = {
        "title": "Weekly operational brief",
        "period": "week of 23 Dec 2024",
        "scope": "EU-27",
        "k": 10,
        "marking": MARKING,
        "data_freshness": "Incidents up to 31 Dec 2024",
        "generated_at": "2026-12-06T07:00:00Z",
        "triggered_by": "schedule weekly",
        "files": {"report.pdf": {"sha256": hashlib.sha256(pdf).hexdigest(), "bytes": len(pdf)}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_report_is_e_mailed_marked_with_its_checksums_and_the_pdf_attached(run_folder, smtp_server):
    settings, mailbox = smtp_server
    send_report(run_folder, ["analyst@agency.test", "head@agency.test"], settings)
    ((recipients, message),) = mailbox.messages
    assert recipients == ["analyst@agency.test", "head@agency.test"]
    assert message["Subject"] == f"[{MARKING}] Weekly operational brief — week of 23 Dec 2024, EU-27"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith(MARKING) and hashlib.sha256(b"%PDF-1.7 synthetic test bytes").hexdigest() in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "report.pdf" and attachment.get_content() == b"%PDF-1.7 synthetic test bytes"


def test_without_an_smtp_server_or_with_an_unreachable_one_delivery_fails_clearly(run_folder, monkeypatch):
    monkeypatch.delenv("GRACE_SMTP_HOST", raising=False)
    with pytest.raises(DeliveryError, match="set \\$GRACE_SMTP_HOST"):
        send_report(run_folder, ["analyst@agency.test"])
    closed = SmtpSettings("127.0.0.1", _free_port(), False, None, None, "grace@test.invalid")
    with pytest.raises(DeliveryError, match=f"via 127.0.0.1:{closed.port} failed"):
        send_report(run_folder, ["analyst@agency.test"], closed)


def test_a_folder_delivery_is_a_whole_copy_or_nothing(run_folder, tmp_path):
    copy = deliver_to_folder(run_folder, tmp_path / "shared")
    assert sorted(p.name for p in copy.iterdir()) == ["manifest.json", "report.pdf"]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match="cannot deliver"):
        deliver_to_folder(run_folder, blocked)


def test_a_schedule_refuses_an_address_that_is_not_one(tmp_path):
    store = ScheduleStore(tmp_path / "schedule.sqlite")
    with pytest.raises(ScheduleError, match="not an e-mail address: analyst"):
        store.add("weekly", "weekly-brief", "0 6 * * MON", "", ("pdf",), "test", emails=["analyst"])
    added = store.add(
        "weekly", "weekly-brief", "0 6 * * MON", "", ("pdf",), "test", emails=["a@b.test"], deliver_to="/x"
    )
    assert store.schedules() == [added] and added.emails == ("a@b.test",)
