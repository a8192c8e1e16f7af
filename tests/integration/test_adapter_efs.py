"""The EFS adapter through the real playbooks on the sandbox, asserting EFS replication and protection state.

acme's file system replicates us-east-1 -> us-west-2 (wave 1); globex's, in the same account, must never change.
"""

import json
import subprocess
import time

import pytest

from sandbox.harness import REPO_ROOT
from sandbox.harness import crash

ACCOUNT = "210987654321"
PRIMARY, DR = "us-east-1", "us-west-2"
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=3"]
SWITCH_ONLY = ["-e", '{"phases": ["activate", "replicate"]}']


def estate(replica_tags=None):
    acme = {"type": "efs_file_system", "name": "acme-prod-shared", "account": "workload-a", "customer": "acme",
            "environment": "production", "wave": 1, "priority": "high", "replication": True, "rpo_target": 15}
    if replica_tags is not None:
        acme["replica_tags"] = replica_tags
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR},
        "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a"}],
        "servers": [],
        "resources": [
            acme,
            {"type": "efs_file_system", "name": "globex-prod-shared", "account": "workload-a", "customer": "globex",
             "environment": "production", "wave": 1, "replication": True},
        ],
        "sandbox": {"drs": {"time_scale": 0.2}},
    }


def seed(sandbox, document):
    sandbox.reset()
    result = sandbox.seed(document)
    return {r["name"]: r for r in result["resources"]}


@pytest.fixture
def seeded(sandbox, tmp_path):
    return tmp_path, seed(sandbox, estate())


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def replication(sandbox, fs_id, region):
    efs = sandbox.client("efs", ACCOUNT, region)
    try:
        config = efs.describe_replication_configurations(FileSystemId=fs_id)["Replications"][0]
    except efs.exceptions.ReplicationNotFound:
        return None
    destination = config["Destinations"][0]
    return (config["SourceFileSystemId"], destination["FileSystemId"], destination["Status"])


def protection(sandbox, fs_id, region):
    [fs] = sandbox.client("efs", ACCOUNT, region).describe_file_systems(FileSystemId=fs_id)["FileSystems"]
    return fs["FileSystemProtection"]["ReplicationOverwriteProtection"]


def wait_enabled(sandbox, fs_id, region, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (replication(sandbox, fs_id, region) or (None, None, None))[2] == "ENABLED":
            return True
        time.sleep(0.3)
    return False


def records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def entries(store, record):
    data = json.loads((store / "resources" / (record["execution_id"] + ".json")).read_text())
    return list(data.values()) if isinstance(data, dict) else data


def calls(sandbox, operation):
    return [r for r in sandbox.requests("efs") if r["operation"] == operation and 200 <= r["status"] < 300]


def test_check_drill_failover_replicate_and_failback(sandbox, seeded):
    store, created = seeded
    acme, globex = created["acme-prod-shared"], created["globex-prod-shared"]
    a, b = acme["id"], acme["replica_id"]
    assert wait_enabled(sandbox, a, PRIMARY)
    assert replication(sandbox, a, PRIMARY) == (a, b, "ENABLED")
    assert protection(sandbox, b, DR) == "REPLICATING" and protection(sandbox, a, PRIMARY) == "ENABLED"
    globex_before = replication(sandbox, globex["id"], PRIMARY)

    # --check: the plan per file system, no mutating call.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert f"delete the replication {a} -> {b} (the DR file system becomes writable)" in out
    assert replication(sandbox, a, PRIMARY) == (a, b, "ENABLED")

    # Drill: replication checked current, nothing changes, nothing left behind.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", store / "drill", "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] == "efs"] == []
    assert replication(sandbox, a, PRIMARY) == (a, b, "ENABLED") and protection(sandbox, b, DR) == "REPLICATING"
    assert len(sandbox.client("efs", ACCOUNT, DR).describe_file_systems()["FileSystems"]) == 2
    [drill] = records(store / "drill")
    [entry] = entries(store / "drill", drill)
    assert entry["status"] == "succeeded" and entry["after"]["recovery_point_time"]

    # Failover: ACTIVATE makes B writable, REPLICATE reverses the replication B -> A.
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert replication(sandbox, b, DR) == (b, a, "ENABLED")
    assert protection(sandbox, b, DR) == "ENABLED"  # writable
    assert protection(sandbox, a, PRIMARY) == "REPLICATING"  # the original is now the read-only copy
    assert replication(sandbox, globex["id"], PRIMARY) == globex_before
    [record] = records(store)
    assert record["status"] == "succeeded"
    [entry] = entries(store, record)
    assert entry["technology"] == "efs" and entry["status"] == "succeeded"
    assert entry["after"]["dr_protection_before"] == "REPLICATING"
    assert entry["after"]["recovery_point_time"] and entry["replication_lag_seconds"] is not None
    assert entry["after"]["replication"] == f"{b} -> {a} ENABLED"
    assert entry["rpo_target_minutes"] == 15

    # Failback: the mirror - A writable again, replicating A -> B.
    rc, out, err = run(sandbox, "failback.yml", store, "-e", "customer=acme", *SWITCH_ONLY)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert replication(sandbox, a, PRIMARY) == (a, b, "ENABLED")
    assert protection(sandbox, a, PRIMARY) == "ENABLED" and protection(sandbox, b, DR) == "REPLICATING"
    assert replication(sandbox, globex["id"], PRIMARY) == globex_before


def test_out_of_scope_dr_copy_is_refused_before_any_change(sandbox, tmp_path):
    created = seed(sandbox, estate(replica_tags={"Customer": "globex", "Environment": "production"}))
    a, b = created["acme-prod-shared"]["id"], created["acme-prod-shared"]["replica_id"]
    assert wait_enabled(sandbox, a, PRIMARY)
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path, "-e", "customer=acme", *SWITCH_ONLY)
    assert rc != 0
    assert b in out and "Customer='globex'" in out and "nothing was changed" in out
    assert [r for r in sandbox.mutating_requests() if r["service"] == "efs"] == []
    assert replication(sandbox, a, PRIMARY) == (a, b, "ENABLED")


def test_killed_activate_resumes_and_deletes_and_creates_once(sandbox, seeded):
    store, created = seeded
    a, b = created["acme-prod-shared"]["id"], created["acme-prod-shared"]["replica_id"]
    assert wait_enabled(sandbox, a, PRIMARY)
    sandbox.drs_settings(time_scale=500.0)  # the delete stays DELETING: ACTIVATE waits for it
    sandbox.clear_requests()
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={store}", *COMMON, *SWITCH_ONLY]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not calls(sandbox, "DeleteReplicationConfiguration"):
        time.sleep(0.5)
    assert calls(sandbox, "DeleteReplicationConfiguration"), "ACTIVATE never deleted the replication"
    time.sleep(2)
    crash(process)
    assert replication(sandbox, a, PRIMARY)[2] == "DELETING"
    [interrupted] = records(store)
    assert interrupted["waves"]["ACTIVATE/1"]["status"] == "running"
    sandbox.drs_settings(time_scale=0.2)
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", *SWITCH_ONLY)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "(resumed)" in out
    [resumed] = records(store)
    # Only ACTIVATE and REPLICATE were asked for: the record stays open for the other phases, with both done.
    assert resumed["execution_id"] == interrupted["execution_id"]
    assert resumed["waves"]["ACTIVATE/1"]["status"] == "succeeded"
    assert resumed["waves"]["REPLICATE/1"]["status"] == "succeeded"
    assert len(calls(sandbox, "DeleteReplicationConfiguration")) == 1
    assert len(calls(sandbox, "CreateReplicationConfiguration")) == 1
    assert len(calls(sandbox, "UpdateFileSystemProtection")) == 1
    assert replication(sandbox, b, DR) == (b, a, "ENABLED")
