"""Crash points: kill -9 of the whole ansible-playbook process group at each phase boundary and in the middle of a
wave in each phase, then the same command again. It must finish the same execution (one record), launch no server
twice, and leave every resource as a finished failover does. Figures go to RELIABILITY_RESULTS."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from sandbox.harness import REPO_ROOT
from sandbox.harness import crash
from tests.integration.test_failover import ACME
from tests.integration.test_failover import COMMON
from tests.integration.test_failover import estate
from tests.integration.test_failover import jobs
from tests.reliability.campaign import keep
from tests.reliability.campaign import records
from tests.reliability.campaign import run_playbook
from tests.reliability.campaign import start_recovery_accepted
from tests.reliability.campaign import states


def _step(record, key, group="phases"):
    return ((record or {}).get(group) or {}).get(key, {}).get("status")


# (crash point, condition on the record (and DRS jobs) at which the controller is killed). A phase's own status
# becomes "succeeded" only when the run closes, so a boundary is the phase's last wave (wave 2 of acme) succeeded.
CRASH_POINTS = [
    ("after-PREFLIGHT", lambda r, j: _step(r, "PREFLIGHT") == "succeeded"),
    ("mid-INSTANTIATE-wave-1", lambda r, j: _step(r, "INSTANTIATE/1", "waves") == "running" and j > 0),
    ("INSTANTIATE-to-ACTIVATE", lambda r, j: _step(r, "INSTANTIATE/2", "waves") == "succeeded"),
    ("mid-ACTIVATE-wave-1", lambda r, j: _step(r, "ACTIVATE/1", "waves") == "running"),
    ("ACTIVATE-to-CLEANUP", lambda r, j: _step(r, "ACTIVATE/2", "waves") == "succeeded"),
    ("mid-CLEANUP-wave-1", lambda r, j: _step(r, "CLEANUP/1", "waves") == "running"),
    ("CLEANUP-to-REPLICATE", lambda r, j: _step(r, "CLEANUP/2", "waves") == "succeeded"),
    ("mid-REPLICATE-wave-1", lambda r, j: _step(r, "REPLICATE/1", "waves") == "running"),
]


def _latest(store):
    found = records(store) if (store / "executions").exists() else []
    return found[-1] if found else None


@pytest.mark.parametrize("point, reached", CRASH_POINTS, ids=[c[0] for c in CRASH_POINTS])
def test_kill_and_rerun_finishes_the_same_execution(sandbox, tmp_path, point, reached):
    run_crash_case(sandbox, tmp_path, point, reached)


def run_crash_case(sandbox, tmp_path, point, reached):
    """One crash point (also used by the representative subset in tests/integration/test_faults.py)."""
    sandbox.reset()
    sandbox.seed(estate())
    store = tmp_path / "store"
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={store}", *COMMON]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    killed_at = None
    try:
        deadline = time.time() + 900
        while time.time() < deadline and process.poll() is None:
            record = _latest(store)
            if record and reached(record, len(jobs(sandbox))):
                crash(process)  # the controller, its workers and their modules, no cleanup
                killed_at = round(time.monotonic() - started, 1)
                break
            time.sleep(0.3)
    finally:
        if process.poll() is None and killed_at is None:
            crash(process)
    assert killed_at is not None, f"the run ended before reaching {point}"
    before = json.loads(json.dumps(_latest(store)))
    # Killed while it ran: a run that had already closed its record proves nothing about resuming.
    assert before["status"] in ("running", "waiting_approval"), f"the run had finished before {point}"

    rc, out, err, seconds = run_playbook(sandbox, "failover.yml", store, "-e", "customer=acme")
    accepted = start_recovery_accepted(sandbox)
    all_records = records(store)
    keep({"suite": "crash", "case": point, "operation": "failover", "killed_after_seconds": killed_at,
          "rerun_seconds": seconds, "rc": rc, "records": len(all_records),
          "max_jobs_per_server": max(accepted.values() or [0]),
          "status": all_records[-1]["status"] if all_records else None})
    assert rc == 0, out[-4000:] + err[-2000:]
    assert [r["execution_id"] for r in all_records] == [before["execution_id"]]
    assert all_records[0]["status"] == "succeeded" and all_records[0]["resumptions"]
    assert all(count == 1 for count in accepted.values()) and len(accepted) == len(ACME), accepted
    assert set(states(sandbox, ACME).values()) == {"running"}
    assert set(states(sandbox, ACME, region="us-east-1").values()) == {"stopped"}
