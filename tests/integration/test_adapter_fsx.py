"""The FSx adapter through the real playbooks on the sandbox, asserting FSx file systems and backups through boto3.

acme's Lustre file system (us-east-1) has a backup copied to us-west-2; globex's, in the same account, must never
be restored or touched.
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
RESTORE_ONLY = ["-e", '{"phases": ["instantiate", "activate"]}']


def estate(copy_tags=None):
    acme = {"type": "fsx_file_system", "name": "acme-prod-scratch", "account": "workload-a", "customer": "acme",
            "environment": "production", "wave": 1, "priority": "medium", "rpo_target": 60}
    if copy_tags is not None:
        acme["copy_tags"] = copy_tags
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
            {"type": "fsx_file_system", "name": "globex-prod-render", "account": "workload-a", "customer": "globex",
             "environment": "production", "wave": 1, "file_system_type": "OPENZFS", "storage_capacity": 64},
        ],
        "sandbox": {"drs": {"time_scale": 0.2}},
    }


def seed(sandbox, document):
    sandbox.reset()
    return {r["name"]: r for r in sandbox.seed(document)["resources"]}


@pytest.fixture
def seeded(sandbox, tmp_path):
    return tmp_path, seed(sandbox, estate())


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def file_systems(sandbox, region):
    return sandbox.client("fsx", ACCOUNT, region).describe_file_systems()["FileSystems"]


def tags(item):
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def entries(store, record):
    data = json.loads((store / "resources" / (record["execution_id"] + ".json")).read_text())
    return list(data.values()) if isinstance(data, dict) else data


def calls(sandbox, operation):
    return [r for r in sandbox.requests("fsx") if r["operation"] == operation and r["status"] == 200]


def test_check_drill_and_failover(sandbox, seeded):
    store, created = seeded
    acme = created["acme-prod-scratch"]
    assert [fs["FileSystemId"] for fs in file_systems(sandbox, DR)] == []

    # --check: the plan per file system, no mutating call.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert f"restore backup {acme['copy_id']}" in out
    assert file_systems(sandbox, DR) == []

    # Drill: a temporary file system restored, checked AVAILABLE, deleted; nothing left behind.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", store / "drill", "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert len(calls(sandbox, "CreateFileSystemFromBackup")) == 1 and len(calls(sandbox, "DeleteFileSystem")) == 1
    assert file_systems(sandbox, DR) == []
    assert [fs["FileSystemId"] for fs in file_systems(sandbox, PRIMARY)] == [acme["id"],
                                                                             created["globex-prod-render"]["id"]]
    [drill] = records(store / "drill")
    [entry] = entries(store / "drill", drill)
    assert entry["status"] == "succeeded" and entry["after"]["restored_lifecycle"] == "deleted"

    # Failover: restored in us-west-2 and AVAILABLE; REPLICATE copies a backup of it back to us-east-1.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    [restored] = file_systems(sandbox, DR)
    assert restored["Lifecycle"] == "AVAILABLE" and restored["FileSystemType"] == "LUSTRE"
    assert tags(restored)["dr:restored-from"] == acme["id"] and tags(restored)["Customer"] == "acme"
    assert tags(restored)["dr:restored-backup"] == acme["copy_id"]
    back = [b for b in sandbox.client("fsx", ACCOUNT, PRIMARY).describe_backups()["Backups"]
            if b.get("SourceBackupRegion") == DR]
    assert len(back) == 1 and back[0]["Lifecycle"] == "AVAILABLE"
    assert back[0]["FileSystem"]["FileSystemId"] == restored["FileSystemId"]
    [record] = records(store)
    assert record["status"] == "succeeded"
    [entry] = entries(store, record)
    assert entry["technology"] == "fsx" and entry["status"] == "succeeded"
    assert entry["after"]["restored_file_system_id"] == restored["FileSystemId"]
    source_backup = sandbox.client("fsx", ACCOUNT, PRIMARY).describe_backups(
        BackupIds=[acme["backup_id"]])["Backups"][0]
    assert entry["after"]["recovery_point_time"] == source_backup["CreationTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert entry["after"]["failback_copy_lifecycle"] == "AVAILABLE"
    assert entry["rpo_target_minutes"] == 60
    assert len(calls(sandbox, "CreateFileSystemFromBackup")) == 1 and len(calls(sandbox, "CopyBackup")) == 1


def test_out_of_scope_backup_copy_is_refused_before_any_change(sandbox, tmp_path):
    created = seed(sandbox, estate(copy_tags={"Customer": "globex", "Environment": "production"}))
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path, "-e", "customer=acme", *RESTORE_ONLY)
    assert rc != 0
    assert created["acme-prod-scratch"]["copy_id"] in out and "Customer='globex'" in out
    assert [r for r in sandbox.mutating_requests() if r["service"] == "fsx"] == []
    assert file_systems(sandbox, DR) == []


def test_killed_activate_resumes_and_restores_once(sandbox, seeded):
    store, _created = seeded
    sandbox.drs_settings(time_scale=500.0)  # the restored file system stays CREATING: ACTIVATE waits for it
    sandbox.clear_requests()
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={store}", *COMMON, *RESTORE_ONLY]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not any(r["phase"] == "ACTIVATE" for r in _wave_entries(store)):
        time.sleep(0.5)
    time.sleep(3)  # ACTIVATE is polling the CREATING file system
    crash(process)
    assert len(calls(sandbox, "CreateFileSystemFromBackup")) == 1
    [restored] = file_systems(sandbox, DR)
    assert restored["Lifecycle"] == "CREATING"
    sandbox.drs_settings(time_scale=0.2)
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", *RESTORE_ONLY)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "(resumed)" in out
    [resumed] = records(store)
    assert resumed["waves"]["ACTIVATE/1"]["status"] == "succeeded"
    assert len(calls(sandbox, "CreateFileSystemFromBackup")) == 1
    [restored] = file_systems(sandbox, DR)
    assert restored["Lifecycle"] == "AVAILABLE"


def _wave_entries(store):
    """The waves the record shows as started (phase of each wave key)."""
    found = []
    for record in records(store) if (store / "executions").exists() else []:
        for key, wave in (record.get("waves") or {}).items():
            found.append({"phase": key.split("/")[0], "status": wave.get("status")})
    return found
