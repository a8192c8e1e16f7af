"""Seeding estates: what the estate declares exists in both workload accounts, as AWS reports it."""

from __future__ import annotations

import json

import pytest
import yaml

from sandbox import estate as estate_mod
from sandbox.control import SandboxError

WORKLOAD_A = "210987654321"
WORKLOAD_B = "345678901234"
DEMO = estate_mod.Path(__file__).resolve().parents[3] / "sandbox" / "estates" / "demo.yml"
MINIMAL = DEMO.with_name("minimal.yml")


def instances(ec2, **filters):
    found = []
    for page in ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": k, "Values": v} for k, v in filters.items()]):
        for reservation in page["Reservations"]:
            found.extend(reservation["Instances"])
    return found


def tags_of(item):
    return {tag["Key"]: tag["Value"] for tag in item.get("Tags", [])}


def test_demo_estate_seeds_sources_targets_and_drs_servers(sandbox, demo_estate):
    declared = estate_mod.expand(estate_mod.load(DEMO))["servers"]
    assert set(demo_estate["servers"]) == {s["hostname"] for s in declared}
    for account_id in (WORKLOAD_A, WORKLOAD_B):
        mine = [s for s in declared if s["account_id"] == account_id]
        session_primary = sandbox.session(account_id, "us-east-1")
        session_dr = sandbox.session(account_id, "us-west-2")
        primary_ec2 = session_primary.client("ec2", endpoint_url=sandbox.endpoint)
        dr_ec2 = session_dr.client("ec2", endpoint_url=sandbox.endpoint)
        sources = {tags_of(i)["Name"]: i for i in instances(primary_ec2, **{"tag:dr:enabled": ["true"]})}
        marked = {"tag:AWSDRS": ["AllowLaunchingIntoThisInstance"]}
        targets = {tags_of(i)["Name"]: i for i in instances(dr_ec2, **marked)}
        assert len(sources) == len(mine) and len(targets) == len(mine)
        for server in mine:
            source = sources[server["hostname"]]
            assert source["PrivateIpAddress"] == server["source"]["private_ip"]
            assert source["State"]["Name"] == "running"
            source_tags = tags_of(source)
            assert source_tags["dr:wave"] == str(server["wave"])
            assert source_tags["Customer"] == server["customer"]
            assert source_tags["Environment"] == server["environment"]
            assert source_tags["dr:priority"] == server["priority"]
            target = targets[server["target"]["name"]]
            assert target["State"]["Name"] == "stopped"
            assert target["PrivateIpAddress"] == server["target"]["private_ip"]
            assert target["InstanceId"] == demo_estate["servers"][server["hostname"]]["target_instance_id"]
            assert tags_of(target)["Customer"] == server["customer"]

        drs = session_dr.client("drs", endpoint_url=sandbox.endpoint)
        items = drs.describe_source_servers()["items"]
        by_host = {i["sourceProperties"]["identificationHints"]["hostname"]: i for i in items}
        assert set(by_host) == {s["hostname"] for s in mine}
        for server in mine:
            item = by_host[server["hostname"]]
            assert item["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
            assert item["sourceProperties"]["identificationHints"]["awsInstanceID"] == \
                demo_estate["servers"][server["hostname"]]["source_instance_id"]
            assert item["tags"]["dr:wave"] == str(server["wave"])


def test_drs_tags_may_differ_from_ec2_tags(sandbox, demo_estate):
    entry = demo_estate["servers"]["acme-prod-db02"]
    drs = sandbox.session(WORKLOAD_A, "us-west-2").client("drs", endpoint_url=sandbox.endpoint)
    item = drs.describe_source_servers(filters={"sourceServerIDs": [entry["source_server_id"]]})["items"][0]
    assert item["tags"]["Owner"] == "dba-team"
    ec2 = sandbox.session(WORKLOAD_A, "us-east-1").client("ec2", endpoint_url=sandbox.endpoint)
    source = ec2.describe_instances(InstanceIds=[entry["source_instance_id"]])["Reservations"][0]["Instances"][0]
    assert "Owner" not in tags_of(source)


def test_roles_trust_the_hub_with_the_external_id(sandbox, demo_estate):
    for account_id, external_id in ((WORKLOAD_A, "edr-demo-workload-a"), (WORKLOAD_B, "edr-demo-workload-b")):
        iam = sandbox.session(account_id).client("iam", endpoint_url=sandbox.endpoint)
        role = iam.get_role(RoleName="EnterpriseDRWorkloadRole")["Role"]
        document = role["AssumeRolePolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        (statement,) = document["Statement"]
        assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
        # As cloudformation/workload-account.yml: the external ID, and sessions of at most 900 seconds.
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": external_id},
                                          "NumericLessThanEquals": {"sts:DurationSeconds": "900"}}
        assert role["Arn"] == f"arn:aws:iam::{account_id}:role/EnterpriseDRWorkloadRole"


def test_security_groups_carry_the_replication_egress_rules(sandbox, demo_estate):
    network = demo_estate["networks"]["workload-b"]["us-east-1"]
    ec2 = sandbox.session(WORKLOAD_B, "us-east-1").client("ec2", endpoint_url=sandbox.endpoint)
    group = ec2.describe_security_groups(GroupIds=[network["security_groups"]["dr-replication"]])["SecurityGroups"][0]
    egress = {(rule["IpProtocol"], rule.get("FromPort"), rule["IpRanges"][0]["CidrIp"])
              for rule in group["IpPermissionsEgress"]}
    assert egress == {("tcp", 1500, "10.40.0.0/16"), ("tcp", 443, "0.0.0.0/0")}
    subnet = ec2.describe_subnets(SubnetIds=[network["subnets"]["data"]])["Subnets"][0]
    assert subnet["CidrBlock"] == "10.30.3.0/24"


def test_other_resources_exist_with_dr_tags(sandbox, demo_estate):
    by_name = {r["name"]: r for r in demo_estate["resources"]}
    rds = sandbox.session(WORKLOAD_A).client("rds", endpoint_url=sandbox.endpoint)
    cluster = rds.describe_db_clusters(DBClusterIdentifier="acme-prod-orders")["DBClusters"][0]
    assert {t["Key"]: t["Value"] for t in cluster["TagList"]}["dr:recovery-strategy"] == "switchover"
    assert cluster["DBClusterArn"] == by_name["acme-prod-orders"]["arn"]
    lam = sandbox.session(WORKLOAD_A).client("lambda", endpoint_url=sandbox.endpoint)
    assert lam.list_tags(Resource=by_name["acme-prod-notifier"]["arn"])["Tags"]["Customer"] == "acme"
    ecs = sandbox.session(WORKLOAD_B).client("ecs", endpoint_url=sandbox.endpoint)
    service = ecs.describe_services(cluster="globex-prod-checkout-cluster", services=["globex-prod-checkout"],
                                    include=["TAGS"])["services"][0]
    assert {t["key"]: t["value"] for t in service["tags"]}["dr:wave"] == "2"
    asg = sandbox.session(WORKLOAD_B).client("autoscaling", endpoint_url=sandbox.endpoint)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["globex-prod-workers"])["AutoScalingGroups"][0]
    assert {t["Key"]: t["Value"] for t in group["Tags"]}["Customer"] == "globex"
    for name in ("acme-prod-sessions", "globex-prod-carts", "globex-prod-shared", "acme-prod-nightly-report",
                 "acme-prod-alerts"):
        assert by_name[name]["arn"], name


def test_estate_vars_for_playbooks(sandbox, demo_estate):
    variables = yaml.safe_load(sandbox.estate_vars_file.read_text())
    assert variables["hub_account_id"] == "123456789012"
    assert variables["primary_region"] == "us-east-1" and variables["dr_region"] == "us-west-2"
    assert variables["customers"] == ["acme", "globex"]
    assert variables["accounts"] == [
        {"account_id": WORKLOAD_A, "name": "workload-a",
         "role_arn": f"arn:aws:iam::{WORKLOAD_A}:role/EnterpriseDRWorkloadRole", "external_id": "edr-demo-workload-a"},
        {"account_id": WORKLOAD_B, "name": "workload-b",
         "role_arn": f"arn:aws:iam::{WORKLOAD_B}:role/EnterpriseDRWorkloadRole", "external_id": "edr-demo-workload-b"},
    ]


def test_seeding_sets_sandbox_settings_last(sandbox):
    sandbox.reset()
    document = estate_mod.load(MINIMAL)
    document["sandbox"] = {"drs": {"time_scale": 0.5}, "faults": {"services": {"sns": {"latency_ms": 5}}}}
    result = sandbox.seed(document)
    assert result["servers"]["acme-prod-web01"]["target_private_ip"] == "10.20.1.10"
    assert sandbox.drs_settings()["time_scale"] == 0.5
    assert sandbox.admin.faults()["services"] == {"sns": {"latency_ms": 5}}
    sandbox.reset()


def test_invalid_estate_creates_nothing(sandbox):
    sandbox.reset()
    document = estate_mod.load(MINIMAL)
    document["servers"][0]["wave"] = "first"
    with pytest.raises(estate_mod.EstateError, match=r"servers\[0\]\.wave"):
        sandbox.seed(document)
    assert [r for r in sandbox.requests() if r["mutating"]] == []


def test_generated_estate_batches_instances(sandbox):
    sandbox.reset()
    document = estate_mod.load(MINIMAL)
    document["customers"] = ["acme", "globex"]
    document["generate"] = [{"count": 60, "name": "gen-{customer}-{index:03d}", "waves": 3,
                             "priorities": ["critical", "high", "medium", "low"],
                             "subnets": {"primary": "app-a", "dr": "app-a"}}]
    result = sandbox.seed(document)
    generated = {h: s for h, s in result["servers"].items() if h.startswith("gen-")}
    assert len(generated) == 60
    run_calls = [r for r in sandbox.requests("ec2") if r["operation"] == "RunInstances"]
    assert len(run_calls) <= 2 + 2  # one batch per region plus the declared server's two instances
    ec2 = sandbox.session(WORKLOAD_A, "us-west-2").client("ec2", endpoint_url=sandbox.endpoint)
    targets = instances(ec2, **{"tag:AWSDRS": ["AllowLaunchingIntoThisInstance"], "instance-state-name": ["stopped"]})
    assert len(targets) == 61
    names = {tags_of(t)["Name"] for t in targets}
    assert {"gen-acme-001", "gen-globex-060"} <= names
    sample = generated["gen-globex-060"]
    assert sample["wave"] == 3 and sample["source_server_id"].startswith("s-")


def test_seed_reports_sandbox_errors(sandbox):
    from sandbox.control import AdminClient

    broken = AdminClient("http://127.0.0.1:9", timeout=2)
    with pytest.raises(SandboxError, match="not reachable"):
        broken.health()
