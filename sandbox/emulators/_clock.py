"""Time for the emulators of this package: one time scale for the whole sandbox.

The sandbox has one time-scale knob, the DRS emulator's ``time_scale`` setting (``/_sandbox/drs/settings``, the
estate's ``sandbox.drs.time_scale``): 1 makes emulated transitions take seconds, 60 realistic minutes. Emulators
decide an absolute due time when an action happens and compare it with the clock on every request, so no
background thread is needed.
"""

from __future__ import annotations

import time
from datetime import datetime
from datetime import timezone


def time_scale() -> float:
    try:
        from sandbox.drs import backend
    except ImportError:  # the DRS emulator is optional
        return 1.0
    try:
        return float(backend.SETTINGS.get("time_scale", 1.0))
    except (TypeError, ValueError):
        return 1.0


def now() -> float:
    return time.time()


def start(seconds: float) -> dict:
    """A transition of ``seconds`` (at time scale 1) starting now; see :func:`over`."""
    return {"started": now(), "seconds": seconds}


def over(transition: dict | None) -> bool:
    """Whether the transition is over. The time scale is read now, not when it started, so a test that changes the
    scale mid-transition (slow to interrupt a run, then fast to resume it) sees the change at once."""
    if not transition:
        return True
    return now() >= transition["started"] + transition["seconds"] * time_scale()


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()
