"""Fault matrix: failover, drill and failback under injected faults, through the real client factory (the
playbooks' modules against the sandbox). Each case completes, or stops with a precise reason; no server is ever in
two recovery jobs. Figures go to RELIABILITY_RESULTS for docs/reliability.md. Run with `make reliability`."""

from __future__ import annotations

import pytest

from tests.integration.test_failover import ACME
from tests.integration.test_failover import estate
from tests.integration.test_failover import servers_by_hostname
from tests.reliability.campaign import fault_figures
from tests.reliability.campaign import keep
from tests.reliability.campaign import records
from tests.reliability.campaign import resources
from tests.reliability.campaign import run_playbook
from tests.reliability.campaign import start_recovery_accepted
from tests.reliability.campaign import states

# (case, service or None for every service, fault settings, DRS emulator settings, expected outcome)
FAULTS = [
    ("drs-throttle-30", None, {}, {"throttle_rate": 0.3}, "complete"),
    ("drs-ec2-sts-throttle-30", ("ec2", "sts"), {"throttle_rate": 0.3}, {"throttle_rate": 0.3}, "complete"),
    ("drs-throttle-60", None, {}, {"throttle_rate": 0.6}, "complete"),
    ("ec2-throttle-30", "ec2", {"throttle_rate": 0.3}, {}, "complete"),
    ("ec2-throttle-60", "ec2", {"throttle_rate": 0.6}, {}, "complete"),
    ("sts-throttle-60", "sts", {"throttle_rate": 0.6}, {}, "complete"),
    ("dynamodb-throttle-60", "dynamodb", {"throttle_rate": 0.6}, {}, "complete"),
    ("burst-every-service", None, {"throttle_next": 40}, {}, "complete"),
    ("5xx-drs-10", "drs", {"error_rate": 0.1}, {}, "complete"),
    ("5xx-ec2-10", "ec2", {"error_rate": 0.1}, {}, "complete"),
    ("latency-300ms", None, {"latency_ms": 300}, {}, "complete"),
    ("agent-not-ready-20s", None, {}, {"agent_not_ready_seconds": 20}, "complete"),
    ("launch-fails-app02", None, {}, {"launch_failures": ["acme-prod-app02"]}, "stop:acme-prod-app02"),
]
OPERATIONS = ["failover", "drill"]


def _apply(sandbox, service, faults, drs):
    if faults:
        for name in (service if isinstance(service, (list, tuple)) else [service]):
            sandbox.set_faults(service=name, **faults)
    if drs:
        sandbox.drs_settings(**drs)


def _clear(sandbox):
    sandbox.clear_faults()
    sandbox.drs_settings(throttle_rate=0.0, launch_failures=[], agent_not_ready_seconds=0)


def _store_args(sandbox, case, tmp_path):
    if not case.startswith("dynamodb"):
        return []
    rc, out, err = sandbox.run_ansible(["playbooks/setup_hub.yml"])
    assert rc == 0, out[-2000:] + err[-2000:]
    return ["-e", "execution_store=dynamodb"]


def _outcome(sandbox, store, rc, out, expected, dynamodb):
    """(outcome, reason) after a run, read from the record (file store) or the printed failure."""
    if dynamodb:
        from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex

        found = ex.DynamoDBStore(sandbox.client("dynamodb"), ex.DEFAULT_TABLE_NAME).list("acme", limit=1)
        record = ex.DynamoDBStore(sandbox.client("dynamodb"), ex.DEFAULT_TABLE_NAME).get(found[0]["execution_id"])
        entries = record.pop("resources")
    else:
        [record] = records(store)
        entries = resources(store, record["execution_id"])
    if rc == 0 and record["status"] == "succeeded":
        return "complete", record, entries
    return "stopped", record, entries


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("case, service, faults, drs, expected", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault(sandbox, tmp_path, operation, case, service, faults, drs, expected):
    run_fault_case(sandbox, tmp_path, operation, case, service, faults, drs, expected)


def run_fault_case(sandbox, tmp_path, operation, case, service, faults, drs, expected):
    """One case of the matrix (also used by the representative subset in tests/integration/test_faults.py)."""
    sandbox.reset()
    sandbox.seed(estate())
    store = tmp_path / "store"
    extra = _store_args(sandbox, case, tmp_path)
    servers = servers_by_hostname(sandbox)
    sandbox.clear_requests()
    _apply(sandbox, service, faults, drs)
    try:
        rc, out, err, seconds = run_playbook(sandbox, f"{operation}.yml", store, "-e", "customer=acme",
                                             "-e", "failure_policy=continue", *extra)
        figures = fault_figures(sandbox)
    finally:
        _clear(sandbox)
    outcome, record, entries = _outcome(sandbox, store, rc, out, expected, bool(extra))
    accepted = start_recovery_accepted(sandbox)
    keep({"suite": "faults", "case": case, "operation": operation, "outcome": outcome, "expected": expected,
          "seconds": seconds, "status": record["status"], "max_jobs_per_server": max(accepted.values() or [0]),
          **figures})
    # Never a server in two jobs, whatever the fault.
    assert all(count == 1 for count in accepted.values()), accepted
    if expected == "complete":
        assert outcome == "complete", out[-4000:] + err[-2000:]
        after = states(sandbox, ACME)
        assert set(after.values()) == ({"running"} if operation == "failover" else {"stopped"}), after
    else:
        failing = expected.split(":", 1)[1]
        assert outcome == "stopped", out[-3000:]
        failed = [e for e in entries if e.get("status") == "failed"]
        assert [e.get("name") for e in failed] == [failing], failed
        assert failed[0].get("error") and "InsufficientInstanceCapacity" in str(failed[0]["error"])
        others = [e for e in entries if e.get("name") in ACME and e.get("name") != failing]
        assert all(e.get("status") != "failed" for e in others), others
        assert servers[failing]["sourceServerID"] in accepted


FAILBACK_FAULTS = [f for f in FAULTS if f[0] in ("drs-throttle-60", "5xx-drs-10", "latency-300ms",
                                                 "agent-not-ready-20s", "burst-every-service")]


@pytest.mark.parametrize("case, service, faults, drs, expected", FAILBACK_FAULTS, ids=[f[0] for f in FAILBACK_FAULTS])
def test_failback_under_fault(sandbox, tmp_path, case, service, faults, drs, expected):
    """A clean failover, then the failback under the fault: it completes to the original instances."""
    sandbox.reset()
    sandbox.seed(estate())
    store = tmp_path / "store"
    rc, out, err, _seconds = run_playbook(sandbox, "failover.yml", store, "-e", "customer=acme")
    assert rc == 0, out[-3000:] + err[-2000:]
    sources = states(sandbox, ACME, region="us-east-1")
    sandbox.clear_requests()
    _apply(sandbox, service, faults, drs)
    try:
        rc, out, err, seconds = run_playbook(sandbox, "failback.yml", store, "-e", "customer=acme")
        figures = fault_figures(sandbox)
    finally:
        _clear(sandbox)
    failback = [r for r in records(store) if r["operation"] == "failback"]
    keep({"suite": "faults", "case": case, "operation": "failback", "outcome": "complete" if rc == 0 else "stopped",
          "expected": expected, "seconds": seconds, "status": failback[-1]["status"] if failback else None, **figures})
    assert rc == 0 and failback[-1]["status"] == "succeeded", out[-4000:] + err[-2000:]
    assert set(sources.values()) == {"stopped"}
    assert set(states(sandbox, ACME, region="us-east-1").values()) == {"running"}
    assert set(states(sandbox, ACME).values()) == {"stopped"}
