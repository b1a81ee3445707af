"""The shell's note on work still running on the warehouse in the background (`grace.background`).

A first `python app.py` serves the demo before its first triage model and first analysis exist; this
note tells the reader so, follows the progress, and says when a reload will show the results.
"""

from __future__ import annotations

from typing import NamedTuple

from grace.background import DONE, FAILED, BackgroundStatus


class BackgroundNote(NamedTuple):
    """The note's text (None = hide it) and whether to keep polling."""

    text: str | None
    poll: bool


def background_note(status: BackgroundStatus | None, shown_before: bool) -> BackgroundNote:
    """What the shell says about `status`.

    `shown_before`: the page showed a running note, so a finished task says "reload" instead of vanishing
    (the page's charts were drawn before the results existed).
    """
    if status is None or (status.state == DONE and not shown_before):
        return BackgroundNote(None, poll=False)
    if status.state == DONE:
        return BackgroundNote(
            f"Finished in the background: {status.task}. Reload the page to see the results.", poll=False
        )
    if status.state == FAILED:
        reason = f" ({status.message})" if status.message else ""
        return BackgroundNote(
            f"Stopped in the background: {status.task}{reason}. Restart the server to try again; "
            "the data already shown are complete.",
            poll=False,
        )
    step = f" — now {status.step[:1].lower()}{status.step[1:]}" if status.step else ""
    percent = f" ({status.percent} %)" if status.percent is not None else ""
    return BackgroundNote(
        f"Still running in the background: {status.task}{step}{percent}. Referral figures are complete; "
        "alerts, forecasts and triage scores appear when it is done.",
        poll=True,
    )
