"""Locks and cancel through real playbook runs: cancel.yml, approve.yml -e decision=cancel, and a failover refused
in PREFLIGHT. Every assertion reads the execution record (file store or the sandbox's DynamoDB table)."""

from __future__ import annotations

import pytest

from tests.integration.test_failover import ACCOUNT
from tests.integration.test_failover import COMMON
from tests.integration.test_failover import DR
from tests.integration.test_failover import estate
from tests.integration.test_failover import instances_by_name
from tests.integration.test_failover import jobs

pytest.importorskip("ansible_collections.enterprise_dr.orchestration")

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex  # noqa: E402

TABLE = "enterprise-dr-executions"

STUCK_PLAY = """
- name: A run that got stuck in INSTANTIATE
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start
      enterprise_dr.orchestration.execution_record:
        action: start
        customer: acme
        environment: production
        operation: failover
        started_by: ops
        store: "{{ execution_store }}"
        store_path: "{{ execution_store_path | default(omit) }}"
      register: run
    - name: INSTANTIATE ran
      enterprise_dr.orchestration.execution_record:
        action: update
        execution_id: "{{ run.execution_id }}"
        phase: {name: INSTANTIATE, status: running}
        status: "{{ run_status }}"
        store: "{{ execution_store }}"
        store_path: "{{ execution_store_path | default(omit) }}"
"""


def local_inventory(tmp_path):
    path = tmp_path / "local.ini"
    path.write_text('localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n')
    return str(path)


@pytest.fixture(params=["file", "dynamodb"])
def store(request, clean_sandbox, tmp_path):
    """(store, playbook arguments) for the file store and for the hub's DynamoDB table."""
    sandbox = clean_sandbox
    if request.param == "file":
        path = tmp_path / "store"
        return ex.FileStore(str(path)), ["-e", "execution_store=file", "-e", f"execution_store_path={path}"]
    rc, out, err = sandbox.run_ansible(["-i", local_inventory(tmp_path), "playbooks/setup_hub.yml"],
                                       env={"EDR_AUDIT_LOG_DIR": str(tmp_path / "audit")})
    assert rc == 0, out + err
    return ex.DynamoDBStore(sandbox.client("dynamodb"), TABLE), ["-e", "execution_store=dynamodb"]


def stuck_run(sandbox, tmp_path, store_args, status="interrupted"):
    play = tmp_path / "stuck.yml"
    play.write_text(STUCK_PLAY)
    rc, out, err = sandbox.run_ansible(["-i", local_inventory(tmp_path), str(play), *store_args,
                                        "-e", f"run_status={status}"],
                                       env={"EDR_AUDIT_LOG_DIR": str(tmp_path / "audit")})
    assert rc == 0, out[-3000:] + err[-2000:]


def playbook(sandbox, tmp_path, name, *args):
    return sandbox.run_ansible(["-i", local_inventory(tmp_path), f"playbooks/{name}", *args],
                               env={"EDR_AUDIT_LOG_DIR": str(tmp_path / "audit")})


def test_cancel_ends_a_stuck_run_records_who_and_why_and_frees_the_customer(sandbox, store, tmp_path):
    record_store, store_args = store
    stuck_run(sandbox, tmp_path, store_args)
    [stuck] = record_store.active_runs("acme")
    assert stuck["status"] == "interrupted"

    rc, out, err = playbook(sandbox, tmp_path, "cancel.yml", "-e", "customer=acme", "-e", "reason='controller lost'",
                            "-e", "approver=jane.doe", *store_args)
    assert rc == 0, out[-3000:] + err[-2000:]
    record = record_store.get(stuck["execution_id"], with_resources=False)
    assert record["status"] == "cancelled" and record["ended_at"]
    assert {k: record["cancellation"][k] for k in ("by", "reason", "from_status", "phase")} == {
        "by": "jane.doe", "reason": "controller lost", "from_status": "interrupted", "phase": "INSTANTIATE"}
    assert record["phases"]["INSTANTIATE"]["status"] == "cancelled"
    assert record_store.active_runs("acme") == []
    # The customer is free: any operation can start now.
    assert record_store.start("acme", "production", "drill", "ops")["status"] == "running"


def test_cancel_needs_a_reason_and_refuses_another_customers_run(sandbox, clean_sandbox, tmp_path):
    path = tmp_path / "store"
    store_args = ["-e", "execution_store=file", "-e", f"execution_store_path={path}"]
    stuck_run(sandbox, tmp_path, store_args)
    record_store = ex.FileStore(str(path))
    [stuck] = record_store.active_runs("acme")
    rc, out, _err = playbook(sandbox, tmp_path, "cancel.yml", "-e", "customer=acme", *store_args)
    assert rc != 0 and "reason" in out
    rc, out, _err = playbook(sandbox, tmp_path, "cancel.yml", "-e", "customer=globex", "-e", "reason=x",
                             "-e", f"execution_id={stuck['execution_id']}", *store_args)
    assert rc != 0
    assert record_store.get(stuck["execution_id"], with_resources=False)["status"] == "interrupted"
    assert [r["execution_id"] for r in record_store.active_runs("acme")] == [stuck["execution_id"]]


def test_approve_decision_cancel_works_when_no_gate_waits(sandbox, store, tmp_path):
    record_store, store_args = store
    stuck_run(sandbox, tmp_path, store_args, status="running")
    [stuck] = record_store.active_runs("acme")
    rc, out, err = playbook(sandbox, tmp_path, "approve.yml", "-e", f"execution_id={stuck['execution_id']}",
                            "-e", "decision=cancel", "-e", "approver=sam", "-e", "comment='wrong customer'",
                            *store_args)
    assert rc == 0, out[-3000:] + err[-2000:]
    record = record_store.get(stuck["execution_id"], with_resources=False)
    assert record["status"] == "cancelled"
    assert record["cancellation"]["by"] == "sam" and record["cancellation"]["reason"] == "wrong customer"
    assert record_store.active_runs("acme") == []


def test_failover_refused_in_preflight_leaves_no_lock(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate())
    path = tmp_path / "store"
    # A target started by someone: PREFLIGHT refuses the failover before any change.
    target = instances_by_name(sandbox, DR)["acme-prod-app01"]
    sandbox.client("ec2", ACCOUNT, DR).start_instances(InstanceIds=[target["InstanceId"]])
    sandbox.clear_requests()
    rc, out, err = sandbox.run_ansible(["playbooks/failover.yml", "-e", "customer=acme", "-e",
                                        f"execution_store_path={path}", *COMMON])
    assert rc != 0, out[-3000:]
    record_store = ex.FileStore(str(path))
    [record] = record_store.list("acme")
    assert record["status"] == "failed", record
    assert record["refused_before_change"]["phase"] == "PREFLIGHT"
    assert record_store.active_runs("acme") == []
    assert not list((path / "locks").iterdir())
    assert jobs(sandbox) == []  # nothing launched
    mutating = [r for r in sandbox.mutating_requests() if r["service"] not in ("sts",)]
    assert mutating == [], mutating
