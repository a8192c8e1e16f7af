"""The OpenSearch adapter through the real playbooks on the sandbox, asserting domain replication and index state.

acme has two domain pairs in wave 1: ``acme-prod-search`` with managed domain replication and ``acme-prod-logs``
whose DR domain follows its indexes by cross-cluster replication. globex's pair, in the same account, never changes.
"""

import json
import subprocess
import time

import pytest

from iam.least_privilege import denials
from sandbox.harness import REPO_ROOT
from sandbox.harness import crash
from sandbox.resources import domain_request

ACCOUNT = "210987654321"
HUB = "123456789012"
PRIMARY, DR = "us-east-1", "us-west-2"
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=3"]
SWITCH_ONLY = ["-e", '{"phases": ["activate", "replicate"]}']
ONLY_OPENSEARCH = ["-e", '{"dr_technologies": ["opensearch"]}']


def estate(replica_tags=None):
    search = {"type": "opensearch_domain", "name": "acme-prod-search", "account": "workload-a", "customer": "acme",
              "environment": "production", "wave": 1, "priority": "high", "replication": "managed",
              "indexes": {"products": 30}, "rpo_target": 5}
    if replica_tags is not None:
        search["replica_tags"] = replica_tags
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR},
        "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a"}],
        "servers": [],
        "resources": [
            search,
            {"type": "opensearch_domain", "name": "acme-prod-logs", "account": "workload-a", "customer": "acme",
             "environment": "production", "wave": 1, "priority": "medium", "replication": "ccr",
             "indexes": {"orders": 50, "audit": 20}},
            {"type": "opensearch_domain", "name": "globex-prod-search", "account": "workload-a", "customer": "globex",
             "environment": "production", "wave": 1, "replication": "managed"},
        ],
        "sandbox": {"drs": {"time_scale": 0.2}},
    }


class Seeder:
    """Enough of sandbox.estate.Seeder for domain_request (the test's own signed calls to a domain)."""

    def __init__(self, sandbox):
        import boto3

        self.endpoint = sandbox.endpoint
        self._session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


def seed(sandbox, document):
    sandbox.reset()
    sandbox.seed(document)
    assert wait_for(lambda: replication(sandbox, "acme-prod-search", PRIMARY)[1] == "ACTIVE")
    assert wait_for(lambda: followers(sandbox, "acme-prod-logs-dr", DR) == {"audit": "SYNCING", "orders": "SYNCING"})
    sandbox.clear_requests()


def wait_for(check, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def seeded(sandbox, tmp_path):
    seed(sandbox, estate())
    return tmp_path


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def replication(sandbox, name, region):
    """``(role, status)`` of managed replication as the domain sees it."""
    answer = sandbox.client("opensearch", ACCOUNT, region).describe_domain_replication(DomainName=name)
    return answer.get("Role"), (answer["Peers"][0]["Status"] if answer["Peers"] else None)


def endpoint(sandbox, name, region):
    return sandbox.client("opensearch", ACCOUNT, region).describe_domain(DomainName=name)["DomainStatus"]["Endpoint"]


def rest(sandbox, name, region, method, path, body=None):
    return domain_request(Seeder(sandbox), ACCOUNT, region, endpoint(sandbox, name, region), method, path, body)


def followers(sandbox, name, region):
    status, stats = rest(sandbox, name, region, "GET", "/_plugins/_replication/follower_stats")
    assert status == 200, stats
    return {index: detail["status"] for index, detail in stats["index_stats"].items()}


def indexes(sandbox, name, region):
    status, listed = rest(sandbox, name, region, "GET", "/_cat/indices")
    return {i["index"]: int(i["docs.count"]) for i in listed}


def writable(sandbox, name, region, index):
    return rest(sandbox, name, region, "POST", f"/{index}/_doc", {"probe": True})[0] == 201


def records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def entries(store, record):
    data = json.loads((store / "resources" / (record["execution_id"] + ".json")).read_text())
    return {e["name"]: e for e in (data.values() if isinstance(data, dict) else data)}


def calls(sandbox, operation):
    return [r for r in sandbox.requests("opensearch") if r["operation"] == operation and 200 <= r["status"] < 300]


def mutating(sandbox):
    return [r for r in sandbox.mutating_requests("opensearch") if r["status"] and r["status"] < 400]


def test_check_drill_failover_replicate_and_failback(sandbox, seeded):
    store = seeded
    globex_before = replication(sandbox, "globex-prod-search", PRIMARY)

    # --check: the plan per domain, no mutating call.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert "SwitchoverReplication: promote acme-prod-search-dr in us-west-2 (no write lost)" in out
    assert "stop replication of orders on acme-prod-logs-dr (it becomes writable)" in out
    assert replication(sandbox, "acme-prod-search", PRIMARY) == ("PRIMARY", "ACTIVE")

    # Drill: the DR domains answer, are readable and current; nothing changes, nothing is left behind.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", store / "drill", "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert mutating(sandbox) == []
    assert replication(sandbox, "acme-prod-search-dr", DR) == ("SECONDARY", "ACTIVE")
    assert followers(sandbox, "acme-prod-logs-dr", DR) == {"audit": "SYNCING", "orders": "SYNCING"}
    assert indexes(sandbox, "acme-prod-logs-dr", DR) == {"audit": 20, "orders": 50}
    [drill] = records(store / "drill")
    drilled = entries(store / "drill", drill)
    assert all(e["status"] == "succeeded" and e["after"]["endpoint_answered"] for e in drilled.values())
    assert drilled["acme-prod-logs"]["after"]["lag_operations"] == 0

    # Failover: the DR domains become active (and writable); REPLICATE reverses the replication.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert replication(sandbox, "acme-prod-search-dr", DR) == ("PRIMARY", "ACTIVE")
    assert replication(sandbox, "acme-prod-search", PRIMARY) == ("SECONDARY", "ACTIVE")
    # Least privilege, proven by the run: every call it made is granted by the published policies.
    refused = denials(sandbox.requests(), HUB, ["opensearch"])
    assert not refused, "\n".join(refused)
    [switch] = calls(sandbox, "SwitchoverReplication")
    assert switch["region"] == DR and not calls(sandbox, "FailoverReplication")
    assert followers(sandbox, "acme-prod-logs-dr", DR) == {}
    assert writable(sandbox, "acme-prod-logs-dr", DR, "orders")
    assert not writable(sandbox, "acme-prod-search", PRIMARY, "products")  # the secondary now
    # The original domain follows the DR one; its stale copies are kept, write-blocked.
    assert wait_for(lambda: followers(sandbox, "acme-prod-logs", PRIMARY) == {"audit": "SYNCING",
                                                                              "orders": "SYNCING"})
    [record] = records(store)
    assert record["status"] == "succeeded"
    kept = {i for i in indexes(sandbox, "acme-prod-logs", PRIMARY) if "-pre-" in i}
    suffix = f"-pre-{record['execution_id'][:8].lower()}"
    assert kept == {"orders" + suffix, "audit" + suffix}
    assert replication(sandbox, "globex-prod-search", PRIMARY) == globex_before
    done = entries(store, record)
    search, logs = done["acme-prod-search"], done["acme-prod-logs"]
    assert search["status"] == logs["status"] == "succeeded"
    assert search["after"]["active_domain"] == "acme-prod-search-dr" and search["after"]["endpoint_answered"]
    assert search["after"]["switched_by"] == "switchover" and search["after"]["recovery_point_time"]
    assert logs["after"]["indexes"] == ["audit", "orders"] and logs["after"]["lag_operations"] == 0
    assert search["rpo_target_minutes"] == 5

    # Failback: the mirror - the original domains active again, the DR domains following them.
    rc, out, err = run(sandbox, "failback.yml", store, "-e", "customer=acme", *SWITCH_ONLY)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert replication(sandbox, "acme-prod-search", PRIMARY) == ("PRIMARY", "ACTIVE")
    assert writable(sandbox, "acme-prod-logs", PRIMARY, "orders")
    assert wait_for(lambda: followers(sandbox, "acme-prod-logs-dr", DR) == {"audit": "SYNCING", "orders": "SYNCING"})
    assert replication(sandbox, "globex-prod-search", PRIMARY) == globex_before


def test_emergency_fails_over_with_data_loss_and_replicate_pairs_again_later(sandbox, seeded):
    store = seeded
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", "-e", "emergency=true")
    assert rc == 0, out[-4000:] + err[-2000:]
    [call] = calls(sandbox, "FailoverReplication")
    assert call["region"] == DR and not calls(sandbox, "SwitchoverReplication")
    assert replication(sandbox, "acme-prod-search-dr", DR) == ("PRIMARY", "EJECTED")
    assert not writable(sandbox, "acme-prod-search", PRIMARY, "products")  # ejected: read-only
    assert followers(sandbox, "acme-prod-logs-dr", DR) == {} and writable(sandbox, "acme-prod-logs-dr", DR, "orders")
    [record] = records(store)
    assert "REPLICATE" not in record["phases"]
    # The primary region is back: the deferred REPLICATE pairs the ejected domain again, as the secondary.
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", "-e", '{"phases": ["replicate"]}')
    assert rc == 0, out[-4000:] + err[-2000:]
    assert len(calls(sandbox, "RemoveReplicationPeer")) == 1 and len(calls(sandbox, "AddReplicationPeer")) == 1
    assert replication(sandbox, "acme-prod-search-dr", DR) == ("PRIMARY", "ACTIVE")
    assert replication(sandbox, "acme-prod-search", PRIMARY) == ("SECONDARY", "ACTIVE")
    assert followers(sandbox, "acme-prod-logs", PRIMARY) == {"audit": "SYNCING", "orders": "SYNCING"}


def test_out_of_scope_dr_domain_is_refused_before_any_change(sandbox, tmp_path):
    seed(sandbox, estate(replica_tags={"Customer": "globex", "Environment": "production"}))
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path, "-e", "customer=acme", *SWITCH_ONLY)
    assert rc != 0
    assert "acme-prod-search-dr" in out and "Customer='globex'" in out and "nothing was changed" in out
    assert mutating(sandbox) == []
    assert replication(sandbox, "acme-prod-search", PRIMARY) == ("PRIMARY", "ACTIVE")
    # The module's own guard, whatever its caller passed in: both domains' live tags are checked.
    host = {"dr_arn": f"arn:aws:es:{PRIMARY}:{ACCOUNT}:domain/acme-prod-search", "inventory_hostname": "search",
            "dr_account_id": ACCOUNT, "dr_resource_region": PRIMARY, "dr_dr_region": DR,
            "dr_opensearch": {"domain_name": "acme-prod-search", "peer_domain_name": "acme-prod-search-dr",
                              "peer_region": DR}}
    rc, out, err = sandbox.run_ansible([
        "localhost", "-m", "enterprise_dr.orchestration.opensearch_failover", "-a", json.dumps({
            "customer": "acme", "state": "active", "resources": [host], "accounts": [sandbox.account(ACCOUNT)]})],
        program="ansible")
    assert rc != 0 and "Refusing to change resources outside the run's scope" in out
    assert not calls(sandbox, "SwitchoverReplication")


def test_killed_activate_resumes_and_switches_once(sandbox, seeded):
    store = seeded
    sandbox.drs_settings(time_scale=30.0)  # the switchover stays SWITCHING_OVER: ACTIVATE waits for it
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={store}", *COMMON, *SWITCH_ONLY]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_for(lambda: calls(sandbox, "SwitchoverReplication"), timeout=240), "no switchover to interrupt"
        time.sleep(1)
    finally:
        crash(process)
    assert replication(sandbox, "acme-prod-search-dr", DR)[1] == "SWITCHING_OVER"
    sandbox.drs_settings(time_scale=0.2)
    rc, out, err = run(sandbox, "failover.yml", store, "-e", "customer=acme", *SWITCH_ONLY)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "(resumed)" in out
    assert len(calls(sandbox, "SwitchoverReplication")) == 1
    assert len([r for r in calls(sandbox, "ESHttpPost") if r["path"].endswith("/_stop")]) == 2
    assert replication(sandbox, "acme-prod-search-dr", DR) == ("PRIMARY", "ACTIVE")
    [record] = records(store)
    assert record["waves"]["ACTIVATE/1"]["status"] == "succeeded"
