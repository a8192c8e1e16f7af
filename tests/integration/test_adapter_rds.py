"""The RDS cross-region read replica adapter through the real playbooks on the sandbox (state read through boto3)."""

import json

import pytest

ACCOUNT = "210987654321"
PRIMARY, DR = "us-east-1", "us-west-2"
LEDGER = "acme-prod-ledger"
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=5",
          "-e", '{"dr_technologies": ["rds"]}']

pytestmark = [pytest.mark.sandbox, pytest.mark.playbook]


def estate(replica_tags=None):
    ledger = {"type": "rds_instance", "name": LEDGER, "account": "workload-a", "region": PRIMARY,
              "customer": "acme", "environment": "production", "wave": 1, "priority": "high", "replica": True,
              "rpo_target": 5, "lag_seconds": 2}
    if replica_tags:
        ledger["replica_tags"] = replica_tags
    return {
        "version": 1, "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR}, "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a"}],
        "servers": [], "resources": [ledger],
    }


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    return sandbox.run_ansible(args + (["--check"] if check else []))


def instance(sandbox, region, identifier=LEDGER):
    rds = sandbox.client("rds", ACCOUNT, region)
    found = rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [identifier]}])["DBInstances"]
    return found[0] if found else None


def instances(sandbox, region):
    return {i["DBInstanceIdentifier"] for i in sandbox.client("rds", ACCOUNT, region).describe_db_instances()[
        "DBInstances"]}


def calls(sandbox, operation):
    return [r for r in sandbox.requests("rds") if r["operation"] == operation]


@pytest.fixture
def seeded(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate())
    sandbox.clear_requests()
    return tmp_path


def test_emergency_promotes_the_replica_and_defers_replicate(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "emergency=true")
    assert rc == 0, out[-5000:] + err[-2000:]
    [call] = calls(sandbox, "PromoteReadReplica")
    assert call["region"] == DR
    west = instance(sandbox, DR)
    assert west["DBInstanceStatus"] == "available" and not west.get("ReadReplicaSourceDBInstanceIdentifier")
    assert not west.get("StatusInfos")
    assert not calls(sandbox, "CreateDBInstanceReadReplica")  # REPLICATE deferred
    [path] = (seeded / "resources").glob("*.json")
    [entry] = json.loads(path.read_text()).values()
    assert entry["after"]["primary_region"] == DR and entry["after"]["endpoint_answered"] is True
    assert entry["replication_lag_seconds"] == 2.0


def test_drill_restores_a_temporary_instance_and_leaves_the_replica_as_it_was(sandbox, seeded):
    before = instances(sandbox, DR)
    rc, out, err = run(sandbox, "drill.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-5000:] + err[-2000:]
    assert not calls(sandbox, "PromoteReadReplica")
    assert len(calls(sandbox, "RestoreDBInstanceFromDBSnapshot")) == 1 and calls(sandbox, "DeleteDBInstance")
    assert instances(sandbox, DR) == before
    assert instance(sandbox, DR)["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{LEDGER}")
    assert not sandbox.client("rds", ACCOUNT, DR).describe_db_snapshots(DBInstanceIdentifier=LEDGER,
                                                                        SnapshotType="manual")["DBSnapshots"]


def test_check_mode_changes_nothing_and_prints_the_plan(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", check=True)
    assert rc == 0, out[-5000:] + err[-2000:]
    assert [r for r in sandbox.requests() if r["mutating"] and r["service"] != "sts"] == []
    assert f"{LEDGER} ({DR}): PromoteReadReplica in {DR}" in out
    assert instance(sandbox, DR).get("ReadReplicaSourceDBInstanceIdentifier")


def test_a_replica_of_another_customer_refuses_the_pair_before_any_change(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate(replica_tags={"Customer": "globex"}))
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path, "-e", "customer=acme")
    assert rc != 0 and "globex" in out
    assert [r for r in sandbox.requests() if r["mutating"] and r["service"] == "rds"] == []
    assert instance(sandbox, DR).get("ReadReplicaSourceDBInstanceIdentifier")
