"""PREFLIGHT's operation-state checks through real playbook runs: after a failover, a drill and a second failover
are refused before any change (by the record, and by the estate when the record is elsewhere); a failback without a
completed failover is refused (tests/integration/test_failback.py covers that one)."""

from __future__ import annotations

import json

from tests.integration.test_failover import ACME
from tests.integration.test_failover import DR
from tests.integration.test_failover import instances_by_name
from tests.integration.test_failover import jobs
from tests.integration.test_failover import run
from tests.integration.test_failover import seeded  # noqa: F401 pylint: disable=unused-import


def _records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def test_drill_and_second_failover_are_refused_while_failed_over(sandbox, seeded, tmp_path):  # noqa: F811
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    [failover] = _records(seeded)
    assert failover["status"] == "succeeded"
    launched = len(jobs(sandbox))
    running = {h: instances_by_name(sandbox, DR)[h]["State"]["Name"] for h in ACME}
    assert set(running.values()) == {"running"}

    for playbook, store, expected in (
        ("drill.yml", seeded, f"acme is failed over (execution {failover['execution_id']}"),
        ("failover.yml", seeded, f"acme is failed over (execution {failover['execution_id']}"),
        # Another record store knows nothing: the estate (non-drill recovery instances running) still tells.
        ("drill.yml", tmp_path / "other-store", "DRS recovery instances run as production in the DR region"),
    ):
        sandbox.clear_requests()
        rc, out, _err = run(sandbox, playbook, store, "-e", "customer=acme")
        assert rc != 0, out[-3000:]
        assert expected in out and "playbooks/failback.yml -e customer=acme" in out, out[-3000:]
        assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
        assert len(jobs(sandbox)) == launched
    # Refused in PLAN: no new execution record, the failover's record is untouched.
    assert [r["execution_id"] for r in _records(seeded)] == [failover["execution_id"]]
    assert not (tmp_path / "other-store" / "executions").exists() or _records(tmp_path / "other-store") == []
    assert {h: instances_by_name(sandbox, DR)[h]["State"]["Name"] for h in ACME} == running
