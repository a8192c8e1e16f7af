"""The MemoryDB adapter through the real playbooks on the sandbox, asserting clusters, snapshots and S3 via boto3."""

import json
import subprocess
import time

import pytest

from sandbox.harness import REPO_ROOT
from sandbox.harness import crash

ACCOUNT = "210987654321"
PRIMARY, DR = "us-east-1", "us-west-2"
BUCKETS = {PRIMARY: f"edr-memorydb-{ACCOUNT}-{PRIMARY}", DR: f"edr-memorydb-{ACCOUNT}-{DR}"}
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=3"]


def estate(multi_secondary_tags=None):
    network = {"vpc": {"cidr": "10.10.0.0/16"}, "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
               "security_groups": [{"name": "app"}]}
    dr_network = dict(network, vpc={"cidr": "10.20.0.0/16"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    ledger = {"type": "memorydb_cluster", "name": "acme-prod-ledger", "account": "workload-a", "region": PRIMARY,
              "customer": "acme", "environment": "production", "wave": 1, "priority": "critical",
              "rto_target": 30, "rpo_target": 60}
    feed = {"type": "memorydb_cluster", "name": "acme-prod-feed", "account": "workload-a", "region": PRIMARY,
            "customer": "acme", "environment": "production", "wave": 1, "multi_region": True}
    if multi_secondary_tags:
        feed["secondary_tags"] = multi_secondary_tags
    globex = {"type": "memorydb_cluster", "name": "globex-prod-ledger", "account": "workload-a", "region": PRIMARY,
              "customer": "globex", "environment": "production", "wave": 1}
    return {
        "version": 1, "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR}, "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a", "networks": {PRIMARY: network, DR: dr_network}}],
        "servers": [], "resources": [ledger, feed, globex],
    }


@pytest.fixture
def seeded(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate())
    sandbox.clear_requests()
    return tmp_path


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", "-e", "customer=acme", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def records(store):
    found = []
    for path in sorted((store / "executions").glob("*.json")):
        record = json.loads(path.read_text())
        entries = store / "resources" / path.name
        record["resources"] = json.loads(entries.read_text()) if entries.exists() else {}
        found.append(record)
    return found


def entry(record, name):
    [found] = [e for e in record["resources"].values() if e["name"] == name]
    return found


def cluster(sandbox, region, name):
    client = sandbox.client("memorydb", ACCOUNT, region)
    found = [c for c in client.describe_clusters()["Clusters"] if c["Name"] == name]
    if not found:
        return None
    tags = {t["Key"]: t["Value"] for t in client.list_tags(ResourceArn=found[0]["ARN"])["TagList"]}
    return dict(found[0], TagMap=tags)


def clusters(sandbox, region):
    return sorted(c["Name"] for c in sandbox.client("memorydb", ACCOUNT, region).describe_clusters()["Clusters"])


def objects(sandbox, region):
    s3 = sandbox.client("s3", ACCOUNT, region)
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKETS[region]).get("Contents", []))


def calls(sandbox, operation, service="memorydb"):
    return [r for r in sandbox.requests(service) if r["operation"] == operation]


def daily_snapshot_time(sandbox):
    snapshot = sandbox.client("memorydb", ACCOUNT, PRIMARY).describe_snapshots(
        SnapshotName="acme-prod-ledger-daily", ShowDetail=True)["Snapshots"][0]
    times = [s["SnapshotCreationTime"] for s in snapshot["ClusterConfiguration"]["Shards"]]
    return max(times).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_failover_restores_promotes_replicates_and_failback_returns_the_primary(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    dr_copy = cluster(sandbox, DR, "acme-prod-ledger-dr")
    assert dr_copy["Status"] == "available" and dr_copy["TagMap"]["dr:memorydb-role"] == "primary"
    assert cluster(sandbox, PRIMARY, "acme-prod-ledger")["TagMap"]["dr:memorydb-role"] == "standby"
    assert "globex-prod-ledger-dr" not in clusters(sandbox, DR)  # another customer's cluster is never touched
    # Multi-Region: nothing promoted, nothing created.
    assert not [c for c in calls(sandbox, "CreateCluster") if "feed" in json.dumps(c)]
    assert len(calls(sandbox, "CreateCluster")) == 1
    # REPLICATE copied a snapshot of the new primary back to the original region.
    assert [k for k in objects(sandbox, PRIMARY) if k.startswith("acme-prod-ledger/") and k.endswith("-back.rdb")]
    [record] = records(seeded)
    assert len(record["resources"]) == 2
    ledger = entry(record, "acme-prod-ledger")
    assert ledger["status"] == "succeeded" and ledger["after"]["connectivity"]["reachable"] is True
    assert ledger["after"]["recovery_point_time"] == daily_snapshot_time(sandbox)  # RPO: the snapshot's time
    assert ledger["before"]["target_cluster"] == "acme-prod-ledger-dr" and ledger["rpo_target_minutes"] == 60
    assert ledger["after"]["seed"].startswith(f"arn:aws:s3:::{BUCKETS[DR]}/acme-prod-ledger/")
    feed = entry(record, "acme-prod-feed")
    assert feed["after"]["connectivity"]["reachable"] is True and feed["after"]["target_cluster"] == "acme-prod-feed-dr"

    rc, out, err = run(sandbox, "failback.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    original = cluster(sandbox, PRIMARY, "acme-prod-ledger")
    assert original["TagMap"]["dr:memorydb-role"] == "primary" and original["Status"] == "available"
    assert cluster(sandbox, DR, "acme-prod-ledger-dr") is None  # the DR copy is retired (final snapshot kept)
    finals = sandbox.client("memorydb", ACCOUNT, DR).describe_snapshots()["Snapshots"]
    assert [s for s in finals if s["Name"].startswith("acme-prod-ledger-dr-final-")]


def test_emergency_restores_from_the_seed_in_the_dr_bucket_and_a_killed_run_restores_once(sandbox, seeded):
    # A seed copied ahead on a schedule: the export of the daily snapshot in the DR region's bucket.
    memorydb, s3 = sandbox.client("memorydb", ACCOUNT, PRIMARY), sandbox.client("s3", ACCOUNT, DR)
    memorydb.copy_snapshot(SourceSnapshotName="acme-prod-ledger-daily", TargetSnapshotName="sched",
                           TargetBucket=BUCKETS[PRIMARY])
    deadline = time.time() + 30
    while time.time() < deadline and "sched.rdb" not in objects(sandbox, PRIMARY):
        memorydb.describe_snapshots()
        time.sleep(0.2)
    s3.copy_object(Bucket=BUCKETS[DR], Key="acme-prod-ledger/scheduled.rdb",
                   CopySource={"Bucket": BUCKETS[PRIMARY], "Key": "sched.rdb"})
    sandbox.clear_requests()
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", "emergency=true", "-e", f"execution_store_path={seeded}", *COMMON]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not calls(sandbox, "CreateCluster"):
        time.sleep(0.05)
    crash(process)  # mid-ACTIVATE: the restore was asked, its wait not finished
    assert len(calls(sandbox, "CreateCluster")) == 1
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "emergency=true")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert len(calls(sandbox, "CreateCluster")) == 1  # restored once
    assert not calls(sandbox, "CopySnapshot")  # nothing asked of the primary region's snapshots
    dr_copy = cluster(sandbox, DR, "acme-prod-ledger-dr")
    assert dr_copy["TagMap"]["dr:memorydb-role"] == "primary"
    records_ = records(seeded)
    ledger = entry(records_[-1], "acme-prod-ledger")
    assert ledger["after"]["seed"].endswith("acme-prod-ledger/scheduled.rdb")
    assert ledger["after"]["recovery_point_time"] == daily_snapshot_time(sandbox)


def test_drill_restores_a_temporary_cluster_and_leaves_nothing_behind(sandbox, seeded):
    before = {r: (clusters(sandbox, r), objects(sandbox, r)) for r in (PRIMARY, DR)}
    snapshots_before = sorted(s["Name"] for s in sandbox.client("memorydb", ACCOUNT, PRIMARY)
                              .describe_snapshots()["Snapshots"])
    rc, out, err = run(sandbox, "drill.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    created = calls(sandbox, "CreateCluster")
    assert len(created) == 1 and created[0]["region"] == DR  # the temporary copy was made ...
    assert {r: (clusters(sandbox, r), objects(sandbox, r)) for r in (PRIMARY, DR)} == before  # ... and removed
    assert sorted(s["Name"] for s in sandbox.client("memorydb", ACCOUNT, PRIMARY)
                  .describe_snapshots()["Snapshots"]) == snapshots_before
    assert not calls(sandbox, "TagResource")  # no role moved
    [record] = records(seeded)
    ledger = entry(record, "acme-prod-ledger")
    assert ledger["status"] == "succeeded" and ledger["after"]["target_exists"] is False
    assert ledger["after"]["removed_cluster"].startswith("acme-prod-ledger-drill-")
    assert ledger["after"]["connectivity"]["reachable"] is True


def test_check_mode_prints_each_cluster_and_makes_no_mutating_call(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "restore acme-prod-ledger-dr in us-west-2 from the seed" in out
    assert "check acme-prod-feed-dr in us-west-2 (multi-Region: nothing is promoted)" in out
    assert sandbox.mutating_requests("memorydb") == [] and sandbox.mutating_requests("s3") == []


def test_out_of_scope_member_is_refused_before_any_change(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate(multi_secondary_tags={"Customer": "globex"}))
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path)
    assert rc != 0
    assert "acme-prod-feed-dr" in out and "globex" in out
    assert sandbox.mutating_requests("memorydb") == [] and sandbox.mutating_requests("s3") == []
