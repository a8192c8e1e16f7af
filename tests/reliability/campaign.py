"""Shared pieces of the fault and crash-point campaign: run a playbook, read the outcome from AWS and the record,
and keep the figures (RELIABILITY_RESULTS, default tests/reliability/results.jsonl) for docs/reliability.md."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.integration.test_failover import ACCOUNT
from tests.integration.test_failover import COMMON
from tests.integration.test_failover import DR
from tests.integration.test_failover import PRIMARY
from tests.integration.test_failover import instances_by_name
from tests.integration.test_failover import jobs
from tests.integration.test_failover import server_jobs

RESULTS = Path(os.environ.get("RELIABILITY_RESULTS", Path(__file__).with_name("results.jsonl")))
THROTTLED = (429, 503)


def records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def resources(store, execution_id):
    path = store / "resources" / f"{execution_id}.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    return list(data.values()) if isinstance(data, dict) else data


def start_recovery_accepted(sandbox):
    """{source server ID: number of StartRecovery calls DRS accepted with it} from the DRS emulator's jobs."""
    counts = {}
    for sid, job_list in server_jobs(jobs(sandbox)).items():
        counts[sid] = len(job_list)
    return counts


def run_playbook(sandbox, playbook, store, *extra):
    started = time.monotonic()
    rc, out, err = sandbox.run_ansible([f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON,
                                        *extra], timeout=1500)
    return rc, out, err, round(time.monotonic() - started, 1)


def fault_figures(sandbox):
    log = sandbox.requests()
    answered = [r for r in log if r.get("status")]
    return {
        "requests": len(log),
        "throttled": len([r for r in answered if r["status"] in THROTTLED
                          or (r["status"] == 400 and r["service"] in ("sts", "dynamodb"))]),
        "server_errors": len([r for r in answered if r["status"] >= 500 and r["status"] != 503]),
    }


def keep(figures):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(figures, at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                                sort_keys=True) + "\n")


def states(sandbox, hostnames, region=DR):
    found = instances_by_name(sandbox, region)
    return {h: found[h]["State"]["Name"] for h in hostnames}


__all__ = ["ACCOUNT", "DR", "PRIMARY", "records", "resources", "start_recovery_accepted", "run_playbook",
           "fault_figures", "keep", "states"]
