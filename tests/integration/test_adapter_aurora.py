"""The Aurora global database adapter through the real playbooks on the sandbox, asserting on RDS state via boto3."""

import json
import subprocess
import time

import pytest

from sandbox.harness import REPO_ROOT
from sandbox.harness import crash

ACCOUNT = "210987654321"
PRIMARY, DR = "us-east-1", "us-west-2"
GLOBAL = "acme-prod-orders"
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=5"]

pytestmark = [pytest.mark.sandbox, pytest.mark.playbook]


def estate(secondary_tags=None, drs=True):
    network = {
        "vpc": {"cidr": "10.10.0.0/16"}, "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
        "security_groups": [{"name": "app", "egress": [{"protocol": "tcp", "port": 1500, "cidr": "10.0.0.0/8"},
                                                       {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]}],
    }
    dr_network = dict(network, vpc={"cidr": "10.20.0.0/16"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    servers = []
    if drs:
        servers.append({
            "hostname": "acme-prod-app01", "account": "workload-a", "customer": "acme", "environment": "production",
            "wave": 2, "priority": "high", "recovery_strategy": "launch-into-instance",
            "source": {"private_ip": "10.10.1.21", "subnet": "app", "security_groups": ["app"]},
            "drs": {"replication_state": "CONTINUOUS", "lag_seconds": 3},
            "target": {"name": "acme-prod-app01", "private_ip": "10.20.1.21", "subnet": "app",
                       "security_groups": ["app"]}})
    ledger = {"type": "rds_instance", "name": "acme-prod-ledger", "account": "workload-a", "region": PRIMARY,
              "customer": "acme", "environment": "production", "wave": 1, "priority": "high", "replica": True,
              "rpo_target": 5, "lag_seconds": 2}
    orders = {"type": "aurora_global_cluster", "name": GLOBAL, "account": "workload-a", "region": PRIMARY,
              "customer": "acme", "environment": "production", "wave": 1, "priority": "critical",
              "rpo_target": 1, "rto_target": 15, "lag_ms": 800}
    if secondary_tags:
        orders["secondary_tags"] = secondary_tags
    return {
        "version": 1, "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR}, "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a", "networks": {PRIMARY: network, DR: dr_network}}],
        "servers": servers,
        "resources": [orders] + ([ledger] if drs else []),
        "sandbox": {"drs": {"time_scale": 0.5, "agent_not_ready_seconds": 0}},
    }


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def global_cluster(sandbox):
    rds = sandbox.client("rds", ACCOUNT, DR)
    return rds.describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0]


def writer_region(sandbox):
    [writer] = [m for m in global_cluster(sandbox)["GlobalClusterMembers"] if m["IsWriter"]]
    return writer["DBClusterArn"].split(":")[3]


def calls(sandbox, operation):
    return [r for r in sandbox.requests("rds") if r["operation"] == operation]


def records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def entries_of(store, record):
    """The record's resource entries (the file store keeps them beside the record, keyed by resource)."""
    return list(json.loads((store / "resources" / f"{record['execution_id']}.json").read_text()).values())


def clusters(sandbox, region):
    found = sandbox.client("rds", ACCOUNT, region).describe_db_clusters()["DBClusters"]
    return {c["DBClusterIdentifier"] for c in found}


@pytest.fixture
def seeded(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate())
    sandbox.clear_requests()
    return tmp_path


def test_failover_switches_the_writer_in_wave_1_then_drs_and_failback_returns_it(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-5000:] + err[-2000:]
    cluster = global_cluster(sandbox)
    members = {m["DBClusterArn"].split(":")[3]: m for m in cluster["GlobalClusterMembers"]}
    assert members[DR]["IsWriter"] is True and members[PRIMARY]["IsWriter"] is False
    assert members[PRIMARY]["SynchronizationStatus"] == "connected"  # the old primary kept as a secondary
    assert members[DR]["Readers"] == [members[PRIMARY]["DBClusterArn"]]
    assert not cluster.get("FailoverState")
    assert len(calls(sandbox, "SwitchoverGlobalCluster")) == 1 and not calls(sandbox, "FailoverGlobalCluster")
    drs = sandbox.client("drs", ACCOUNT, DR)
    [instance] = drs.describe_recovery_instances(filters={})["items"]
    ec2 = sandbox.client("ec2", ACCOUNT, DR)
    target = ec2.describe_instances(InstanceIds=[instance["ec2InstanceID"]])["Reservations"][0]["Instances"][0]
    assert target["State"]["Name"] == "running" and target["PrivateIpAddress"] == "10.20.1.21"
    [record] = records(seeded)
    assert record["status"] == "succeeded"
    # Databases first: in each phase wave 1 (the global database) finished before wave 2 (DRS) started.
    for phase in ("INSTANTIATE", "ACTIVATE"):
        assert record["waves"][f"{phase}/1"]["ended_at"] <= record["waves"][f"{phase}/2"]["started_at"]
    entries = entries_of(seeded, record)
    assert sorted(e["technology"] for e in entries) == ["aurora", "drs", "rds"], entries
    # The RDS replica was promoted in the DR region, and a replica of it re-created in the old region.
    west = sandbox.client("rds", ACCOUNT, DR).describe_db_instances(DBInstanceIdentifier="acme-prod-ledger")
    east = sandbox.client("rds", ACCOUNT, PRIMARY).describe_db_instances(DBInstanceIdentifier="acme-prod-ledger")
    assert not west["DBInstances"][0].get("ReadReplicaSourceDBInstanceIdentifier")
    assert east["DBInstances"][0]["ReadReplicaSourceDBInstanceIdentifier"] == west["DBInstances"][0]["DBInstanceArn"]
    assert len(calls(sandbox, "PromoteReadReplica")) == 1
    aurora = next(e for e in entries if e["technology"] == "aurora")
    assert aurora["after"]["writer_region"] == DR and aurora["after"]["endpoint_answered"] is True
    assert aurora["before"]["writer_region"] == PRIMARY
    assert aurora["rpo_target_minutes"] == 1 and aurora["replication_lag_seconds"] == 0.8

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failback.yml", seeded, "-e", "customer=acme",
                       "-e", '{"dr_technologies": ["aurora", "rds"]}')
    assert rc == 0, out[-5000:] + err[-2000:]
    assert writer_region(sandbox) == PRIMARY
    assert len(calls(sandbox, "SwitchoverGlobalCluster")) == 1
    east = sandbox.client("rds", ACCOUNT, PRIMARY).describe_db_instances(DBInstanceIdentifier="acme-prod-ledger")
    west = sandbox.client("rds", ACCOUNT, DR).describe_db_instances(DBInstanceIdentifier="acme-prod-ledger")
    assert not east["DBInstances"][0].get("ReadReplicaSourceDBInstanceIdentifier")
    assert west["DBInstances"][0]["ReadReplicaSourceDBInstanceIdentifier"] == east["DBInstances"][0]["DBInstanceArn"]


def test_check_mode_changes_nothing_and_prints_each_cluster_plan(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", check=True)
    assert rc == 0, out[-5000:] + err[-2000:]
    assert [r for r in sandbox.requests() if r["mutating"] and r["service"] not in ("sts",)] == []
    assert f"{GLOBAL}: writer {PRIMARY} -> {DR}" in out and "SwitchoverGlobalCluster (planned, no data loss)" in out
    assert writer_region(sandbox) == PRIMARY


def test_drill_clones_the_dr_secondary_never_switches_and_leaves_nothing(sandbox, seeded):
    before = clusters(sandbox, DR)
    rc, out, err = run(sandbox, "drill.yml", seeded, "-e", "customer=acme", "-e", '{"dr_technologies": ["aurora"]}')
    assert rc == 0, out[-5000:] + err[-2000:]
    assert writer_region(sandbox) == PRIMARY
    assert not calls(sandbox, "SwitchoverGlobalCluster") and not calls(sandbox, "FailoverGlobalCluster")
    assert len(calls(sandbox, "RestoreDBClusterToPointInTime")) == 1 and calls(sandbox, "DeleteDBCluster")
    assert clusters(sandbox, DR) == before  # no clone left behind
    assert len(global_cluster(sandbox)["GlobalClusterMembers"]) == 2
    [record] = records(seeded)
    [entry] = entries_of(seeded, record)
    assert entry["status"] == "succeeded" and entry["after"]["clone_deleted"] is True
    assert entry["after"]["endpoint_answered"] is True and entry["after"]["clone"].endswith("-drill")


def test_emergency_fails_over_with_data_loss_allowed_and_skips_instantiate(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "emergency=true",
                       "-e", '{"dr_technologies": ["aurora"]}')
    assert rc == 0, out[-5000:] + err[-2000:]
    [call] = calls(sandbox, "FailoverGlobalCluster")
    assert call["region"] == DR and not calls(sandbox, "SwitchoverGlobalCluster")
    assert writer_region(sandbox) == DR
    [record] = records(seeded)
    assert "INSTANTIATE" not in record["phases"]
    assert "INSTANTIATE" not in out.split("Phases:")[1].split("\n")[0].upper().replace("DEFERRED", "")


def test_kill_mid_activate_then_rerun_switches_once(sandbox, seeded):
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e",
               f"execution_store_path={seeded}", *COMMON, "-e", "customer=acme",
               "-e", '{"dr_technologies": ["aurora"]}']
    sandbox.drs_settings(time_scale=3.0)  # the sandbox's one clock: a switchover now takes about 12 seconds
    rds = sandbox.client("rds", ACCOUNT, DR)

    def in_progress():
        return rds.describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0].get("FailoverState")

    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    try:
        while time.time() < deadline and not in_progress():
            assert process.poll() is None, "the playbook ended before the switchover started"
            time.sleep(0.2)
        assert in_progress(), "no switchover in progress to interrupt"
    finally:
        crash(process)
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", '{"dr_technologies": ["aurora"]}')
    assert rc == 0, out[-5000:] + err[-2000:]
    assert len(calls(sandbox, "SwitchoverGlobalCluster")) == 1
    assert writer_region(sandbox) == DR


def test_a_member_of_another_customer_refuses_the_cluster_before_any_change(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate(secondary_tags={"Customer": "globex"}, drs=False))
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path, "-e", "customer=acme")
    assert rc != 0
    assert f"{GLOBAL}-{DR}" in out and "globex" in out
    assert [r for r in sandbox.requests() if r["mutating"] and r["service"] == "rds"] == []
    assert writer_region(sandbox) == PRIMARY
    # The module's own guard, whatever its caller passed in: every member's live tags are checked.
    rc, out, err = sandbox.run_ansible([
        "localhost", "-m", "enterprise_dr.orchestration.aurora_global_failover", "-a", json.dumps({
            "customer": "acme", "clusters": [{"global_cluster_identifier": GLOBAL, "account_id": ACCOUNT,
                                              "target_region": DR}],
            "accounts": [sandbox.account(ACCOUNT)]})], program="ansible")
    assert rc != 0 and "Refusing to change resources outside the run's scope" in out
    assert not calls(sandbox, "SwitchoverGlobalCluster")
