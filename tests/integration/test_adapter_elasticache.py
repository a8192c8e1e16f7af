"""The ElastiCache adapter through the real playbooks on the sandbox, asserting global datastore state via boto3."""

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


def estate(acme_secondary_tags=None):
    network = {"vpc": {"cidr": "10.10.0.0/16"}, "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
               "security_groups": [{"name": "app"}]}
    dr_network = dict(network, vpc={"cidr": "10.20.0.0/16"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    acme = {"type": "elasticache_global_datastore", "name": "acme-prod-sessions", "account": "workload-a",
            "region": PRIMARY, "customer": "acme", "environment": "production", "wave": 1, "priority": "high",
            "rto_target": 5, "rpo_target": 1, "replication_lag_seconds": 2}
    if acme_secondary_tags:
        acme["secondary_tags"] = acme_secondary_tags
    globex = {"type": "elasticache_global_datastore", "name": "globex-prod-cache", "account": "workload-a",
              "region": PRIMARY, "customer": "globex", "environment": "production", "wave": 1}
    return {
        "version": 1, "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR}, "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a", "networks": {PRIMARY: network, DR: dr_network}}],
        "servers": [], "resources": [acme, globex],
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
    """Execution records of the file store, each with its resource entries (kept in a file of their own)."""
    found = []
    for path in sorted((store / "executions").glob("*.json")):
        record = json.loads(path.read_text())
        entries = store / "resources" / path.name
        record["resources"] = json.loads(entries.read_text()) if entries.exists() else {}
        found.append(record)
    return found


def datastore(sandbox, name):
    client = sandbox.client("elasticache", ACCOUNT, DR)
    for item in client.describe_global_replication_groups(ShowMemberInfo=True)["GlobalReplicationGroups"]:
        if any(m["ReplicationGroupId"] == name for m in item.get("Members", [])):
            return item
    return None


def roles(item):
    return {m["ReplicationGroupRegion"]: m["Role"] for m in item["Members"]}


def group(sandbox, region, name):
    found = sandbox.client("elasticache", ACCOUNT, region).describe_replication_groups()["ReplicationGroups"]
    return next((g for g in found if g["ReplicationGroupId"] == name), None)


def calls(sandbox, operation):
    return [r for r in sandbox.requests("elasticache") if r["operation"] == operation]


def entry(record, name="acme-prod-sessions"):
    [found] = [e for e in record["resources"].values() if e["name"] == name]
    return found


def kill_once_the_promotion_is_asked(sandbox, store):
    """Start a failover and end every process of it (sandbox.harness.crash) right after its
    FailoverGlobalReplicationGroup call."""
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={store}", *COMMON]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not calls(sandbox, "FailoverGlobalReplicationGroup") and process.poll() is None:
        time.sleep(0.02)
    crash(process)


def test_failover_promotes_the_dr_member_checks_it_and_failback_returns_the_role(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    acme = datastore(sandbox, "acme-prod-sessions")
    assert roles(acme) == {DR: "PRIMARY", PRIMARY: "SECONDARY"} and acme["Status"] == "available"
    assert roles(datastore(sandbox, "globex-prod-cache")) == {PRIMARY: "PRIMARY", DR: "SECONDARY"}
    assert len(calls(sandbox, "FailoverGlobalReplicationGroup")) == 1
    [record] = records(seeded)
    resources = record["resources"]
    assert len(resources) == 1
    cache = entry(record)
    assert cache["status"] == "succeeded" and cache["technology"] == "elasticache"
    assert cache["before"]["primary_region"] == PRIMARY and cache["after"]["primary_region"] == DR
    assert cache["after"]["connectivity"]["reachable"] is True
    assert cache["after"]["recovery_point_time"] and cache["replication_lag_seconds"] == 2.0
    assert cache["rto_target_minutes"] == 5 and cache["rpo_target_minutes"] == 1

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failback.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert roles(datastore(sandbox, "acme-prod-sessions")) == {PRIMARY: "PRIMARY", DR: "SECONDARY"}
    [failback] = list(calls(sandbox, "FailoverGlobalReplicationGroup"))
    assert failback["region"] == PRIMARY


def test_emergency_detaches_the_dr_member_and_replicate_reassociates_the_old_region(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "emergency=true")
    assert rc == 0, out[-4000:] + err[-2000:]
    dr_group = group(sandbox, DR, "acme-prod-sessions-dr")
    assert not (dr_group.get("GlobalReplicationGroupInfo") or {}).get("GlobalReplicationGroupId")
    assert len(calls(sandbox, "DisassociateGlobalReplicationGroup")) == 1
    assert not calls(sandbox, "FailoverGlobalReplicationGroup")
    [record] = records(seeded)
    cache = entry(record)
    assert cache["after"]["target_role"] == "STANDALONE" and cache["after"]["connectivity"]["reachable"] is True

    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", '{"phases": ["replicate"]}')
    assert rc == 0, out[-4000:] + err[-2000:]
    acme = datastore(sandbox, "acme-prod-sessions-dr")
    assert roles(acme) == {DR: "PRIMARY", PRIMARY: "SECONDARY"} and acme["Status"] == "available"
    assert acme["GlobalReplicationGroupId"].startswith("sgaui-")  # the new datastore has the DR region's prefix
    assert group(sandbox, PRIMARY, "acme-prod-sessions") is not None


def test_drill_restores_a_temporary_copy_and_leaves_nothing_behind(sandbox, seeded):
    before = roles(datastore(sandbox, "acme-prod-sessions"))
    groups_before = {g["ReplicationGroupId"] for g in sandbox.client("elasticache", ACCOUNT, DR)
                     .describe_replication_groups()["ReplicationGroups"]}
    rc, out, err = run(sandbox, "drill.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert roles(datastore(sandbox, "acme-prod-sessions")) == before
    assert not calls(sandbox, "FailoverGlobalReplicationGroup") and not calls(
        sandbox, "DisassociateGlobalReplicationGroup")
    created = [c for c in calls(sandbox, "CreateReplicationGroup") if c["region"] == DR]
    assert len(created) == 1  # the temporary copy was made ...
    groups_after = {g["ReplicationGroupId"] for g in sandbox.client("elasticache", ACCOUNT, DR)
                    .describe_replication_groups()["ReplicationGroups"]}
    assert groups_after == groups_before  # ... and removed
    [record] = records(seeded)
    cache = entry(record)
    assert cache["status"] == "succeeded" and cache["after"]["drill_copy_exists"] is False
    assert cache["after"]["removed"] == [cache["after"]["drill_replication_group"]]
    assert cache["after"]["connectivity"]["reachable"] is True


def test_check_mode_prints_each_datastore_and_makes_no_mutating_call(sandbox, seeded):
    rc, out, err = run(sandbox, "failover.yml", seeded, check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "FailoverGlobalReplicationGroup to acme-prod-sessions-dr in us-west-2" in out
    assert list(sandbox.mutating_requests("elasticache")) == []
    assert roles(datastore(sandbox, "acme-prod-sessions")) == {PRIMARY: "PRIMARY", DR: "SECONDARY"}


def test_out_of_scope_member_is_refused_before_any_change(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate(acme_secondary_tags={"Customer": "globex"}))
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path)
    assert rc != 0
    assert "acme-prod-sessions-dr" in out and "globex" in out
    assert sandbox.mutating_requests("elasticache") == []
    assert roles(datastore(sandbox, "acme-prod-sessions")) == {PRIMARY: "PRIMARY", DR: "SECONDARY"}


def test_killed_mid_activate_then_rerun_promotes_once(sandbox, seeded):
    kill_once_the_promotion_is_asked(sandbox, seeded)  # mid-ACTIVATE: the promotion asked, its wait not finished
    assert len(calls(sandbox, "FailoverGlobalReplicationGroup")) == 1
    rc, out, err = run(sandbox, "failover.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert len(calls(sandbox, "FailoverGlobalReplicationGroup")) == 1
    assert roles(datastore(sandbox, "acme-prod-sessions")) == {DR: "PRIMARY", PRIMARY: "SECONDARY"}
    [record] = records(seeded)
    assert entry(record)["after"]["connectivity"]["reachable"] is True


def test_rerun_while_the_killed_runs_promotion_is_still_under_way_waits_for_it(sandbox, seeded):
    """In AWS a promotion takes minutes: the re-run of a run killed right after FailoverGlobalReplicationGroup finds
    the datastore `modifying`. PREFLIGHT must not refuse its own execution's promotion (it did: "the datastore is
    modifying, not available"); ACTIVATE waits for it and never asks for a second one."""
    assert sandbox.emulator_settings("elasticache-global-datastores", polls_per_transition=60) == {
        "polls_per_transition": 60}
    kill_once_the_promotion_is_asked(sandbox, seeded)
    assert len(calls(sandbox, "FailoverGlobalReplicationGroup")) == 1
    rc, out, err = run(sandbox, "failover.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert len(calls(sandbox, "FailoverGlobalReplicationGroup")) == 1
    [record] = records(seeded)
    assert record["status"] == "succeeded" and len(record["resumptions"]) == 1
    # ACTIVATE found the promotion still under way (its before), waited for it and asked nothing new (one call).
    assert entry(record)["before"]["global_status"] == "modifying"
    assert entry(record)["before"]["target_role"] == "SECONDARY"
    assert roles(datastore(sandbox, "acme-prod-sessions")) == {DR: "PRIMARY", PRIMARY: "SECONDARY"}
    assert entry(record)["status"] == "succeeded"
