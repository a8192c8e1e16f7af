"""Round trip against the sandbox: failover (with REPLICATE), blocked failbacks, failback to the original instances,
and a second failover - asserted through boto3 on DRS and EC2 state."""

import json
import time

import pytest

from iam.least_privilege import denials

ACCOUNT = "210987654321"
HUB = "123456789012"
DR = "us-west-2"
PRIMARY = "us-east-1"
ACME = ["acme-prod-db01", "acme-prod-app01"]
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=5", "-e", "customer=acme"]


def _server(hostname, customer, index, wave=1):
    return {
        "hostname": hostname, "account": "workload-a", "customer": customer, "environment": "production",
        "wave": wave, "priority": "high", "recovery_strategy": "launch-into-instance",
        "source": {"private_ip": f"10.10.1.{index}", "subnet": "app", "security_groups": ["app"]},
        "target": {"name": hostname, "private_ip": f"10.20.1.{index}", "subnet": "app", "security_groups": ["app"]},
        "drs": {"replication_state": "CONTINUOUS", "lag_seconds": 3},
    }


def estate():
    network = {
        "vpc": {"cidr": "10.10.0.0/16"}, "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
        "security_groups": [{"name": "app", "egress": [{"protocol": "tcp", "port": 1500, "cidr": "10.0.0.0/8"},
                                                       {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]}],
    }
    dr_network = dict(network, vpc={"cidr": "10.20.0.0/16"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR},
        "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a", "networks": {PRIMARY: network, DR: dr_network}}],
        "servers": [_server("acme-prod-db01", "acme", 11), _server("acme-prod-app01", "acme", 21),
                    _server("globex-prod-web01", "globex", 31)],
        "sandbox": {"drs": {"time_scale": 0.2, "agent_not_ready_seconds": 2}},
    }


@pytest.fixture
def seeded(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate())
    return tmp_path


def run(sandbox, playbook, store, *extra):
    return sandbox.run_ansible([f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra])


def drs_servers(sandbox, region):
    items = sandbox.client("drs", ACCOUNT, region).describe_source_servers(filters={})["items"]
    return {s["sourceProperties"]["identificationHints"]["hostname"]: s for s in items}


def instances(sandbox, region):
    found = {}
    for reservation in sandbox.client("ec2", ACCOUNT, region).describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            found[tags.get("Name", "").strip().lower()] = dict(instance, TagMap=tags)
    return found


def failover_record(store):
    for path in (store / "executions").glob("*.json"):
        record = json.loads(path.read_text())
        if record.get("operation") == "failover" and record.get("status") == "succeeded":
            return record, store / "resources" / path.name
    raise AssertionError("no succeeded failover record")


def wait_continuous(sandbox, region, hostname, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        server = drs_servers(sandbox, region).get(hostname)
        if server and server["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS":
            return server
        time.sleep(0.5)
    raise AssertionError(f"{hostname} not CONTINUOUS in {region}")


def test_failback_without_a_failover_record_is_refused_before_any_change(sandbox, seeded):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failback.yml", seeded)
    assert rc != 0
    assert "No succeeded failover of customer=acme" in out and "Fix:" in out
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []


def test_round_trip_back_to_the_original_instances_and_again(sandbox, seeded):
    sandbox.clear_requests()
    sources = instances(sandbox, PRIMARY)
    targets = instances(sandbox, DR)
    forward = drs_servers(sandbox, DR)

    rc, out, err = run(sandbox, "failover.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    # REPLICATE: one FAILBACK server per recovered server, in the original region, found by direction and the
    # DR instance's ID, CONTINUOUS, in the failover's staging account; recorded in the execution record.
    record, resources_path = failover_record(seeded)
    resources = json.loads(resources_path.read_text())
    failback = drs_servers(sandbox, PRIMARY)
    assert set(failback) == set(ACME)  # globex was not failed over
    for hostname in ACME:
        server = failback[hostname]
        assert server["replicationDirection"] == "FAILBACK"
        assert server["sourceProperties"]["identificationHints"]["awsInstanceID"] == targets[hostname]["InstanceId"]
        assert server["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
        entry = resources[forward[hostname]["arn"]]
        assert entry["after"]["failback_source_server_id"] == server["sourceServerID"]
        assert server["arn"].split(":")[4] == entry["before"]["staging_account_id"] == ACCOUNT

    # Blocked: a security group without TCP 1500 egress (names the server and the fix); nothing launched.
    dr_ec2 = sandbox.client("ec2", ACCOUNT, DR)
    group_id = targets["acme-prod-db01"]["SecurityGroups"][0]["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 1500, "ToPort": 1500, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    dr_ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[rule])
    rc, out, err = run(sandbox, "failback.yml", seeded)
    assert rc != 0
    assert "acme-prod-db01 [security_groups]" in out and "TCP 1500" in out and "Fix: add egress rules" in out
    assert instances(sandbox, PRIMARY)["acme-prod-db01"]["State"]["Name"] == "stopped"
    dr_ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=[rule])

    # Blocked: FAILBACK replication not CONTINUOUS.
    east = sandbox.client("drs", ACCOUNT, PRIMARY)
    east.stop_replication(sourceServerID=failback["acme-prod-app01"]["sourceServerID"])
    rc, out, err = run(sandbox, "failback.yml", seeded)
    assert rc != 0
    assert "acme-prod-app01 [failback_replication]" in out and "not CONTINUOUS" in out and "start-replication" in out
    east.start_replication(sourceServerID=failback["acme-prod-app01"]["sourceServerID"])
    wait_continuous(sandbox, PRIMARY, "acme-prod-app01")

    # Blocked: the recovery instance's private IP differs from the one the failover recorded.
    original = resources_path.read_text()
    changed = json.loads(original)
    changed[forward["acme-prod-db01"]["arn"]]["before"]["target_private_ip"] = "10.20.1.99"
    resources_path.write_text(json.dumps(changed))
    rc, out, err = run(sandbox, "failback.yml", seeded)
    assert rc != 0
    assert "acme-prod-db01 [private_ip]" in out and "10.20.1.99" in out and "Fix:" in out
    resources_path.write_text(original)
    assert all(instances(sandbox, PRIMARY)[h]["State"]["Name"] == "stopped" for h in ACME)

    # The failback itself.
    rc, out, err = run(sandbox, "failback.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    after_sources = instances(sandbox, PRIMARY)
    after_targets = instances(sandbox, DR)
    for hostname in ACME:
        assert after_sources[hostname]["InstanceId"] == sources[hostname]["InstanceId"]
        assert after_sources[hostname]["PrivateIpAddress"] == sources[hostname]["PrivateIpAddress"]
        assert after_sources[hostname]["State"]["Name"] == "running"
        assert after_targets[hostname]["InstanceId"] == targets[hostname]["InstanceId"]
        assert after_targets[hostname]["State"]["Name"] == "stopped"
        assert after_targets[hostname]["TagMap"]["AWSDRS"] == "AllowLaunchingIntoThisInstance"
    # Forward replication protects the original instances again (same source server IDs), CONTINUOUS.
    now_forward = drs_servers(sandbox, DR)
    for hostname in ACME:
        assert now_forward[hostname]["sourceServerID"] == forward[hostname]["sourceServerID"]
        assert now_forward[hostname]["replicationDirection"] == "FAILOVER"
        hints = now_forward[hostname]["sourceProperties"]["identificationHints"]
        assert hints["awsInstanceID"] == sources[hostname]["InstanceId"]
        assert now_forward[hostname]["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    # The FAILBACK servers and every recovery instance record are gone; globex never moved.
    assert drs_servers(sandbox, PRIMARY) == {}
    assert sandbox.client("drs", ACCOUNT, DR).describe_recovery_instances(filters={})["items"] == []
    assert after_sources["globex-prod-web01"]["State"]["Name"] == "running"
    assert after_targets["globex-prod-web01"]["State"]["Name"] == "stopped"

    # The cycle repeats: a second failover launches into the same targets and reverses replication again.
    rc, out, err = run(sandbox, "failover.yml", seeded)
    assert rc == 0, out[-4000:] + err[-2000:]
    recovery = {r["sourceServerID"]: r for r in
                sandbox.client("drs", ACCOUNT, DR).describe_recovery_instances(filters={})["items"]}
    again = instances(sandbox, DR)
    for hostname in ACME:
        assert recovery[forward[hostname]["sourceServerID"]]["ec2InstanceID"] == targets[hostname]["InstanceId"]
        assert again[hostname]["State"]["Name"] == "running"
        assert again[hostname]["PrivateIpAddress"] == targets[hostname]["PrivateIpAddress"]
    failback = drs_servers(sandbox, PRIMARY)
    assert {h: s["dataReplicationInfo"]["dataReplicationState"] for h, s in failback.items()} == \
        {h: "CONTINUOUS" for h in ACME}
    # Least privilege, proven by the run: failover, failback and the second failover called only what
    # the published discovery and DRS policies grant in the workload account, and the hub policy in the hub.
    # (Leaving out the calls this test made itself to break the prerequisites: the egress rule, the replication.)
    own = {("ec2", "RevokeSecurityGroupEgress"), ("ec2", "AuthorizeSecurityGroupEgress"),
           ("drs", "StopReplication"), ("drs", "StartReplication")}
    run_requests = [r for r in sandbox.requests() if (r["service"], r["operation"]) not in own]
    refused = denials(run_requests, HUB, ["drs"])
    assert not refused, "\n".join(refused)
