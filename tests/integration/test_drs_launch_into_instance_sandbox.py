"""DRS info, launch-into and tag sync modules against the sandbox, asserted through boto3."""

import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DR = "us-west-2"
INFO = "enterprise_dr.orchestration.drs_source_server_info"
LAUNCH_INTO = "enterprise_dr.orchestration.drs_launch_into_instance"
TAG_SYNC = "enterprise_dr.orchestration.drs_tag_sync"


def run_module(sandbox, tmp_path, module, args, check=False):
    """Run one module task through ansible-playbook; returns its registered result."""
    out = tmp_path / f"result-{len(list(tmp_path.iterdir()))}.json"
    play = [{
        "name": "Run one module", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [
            {"name": "Module under test", module: args, "register": "result", "ignore_errors": True,
             "check_mode": check},
            {"name": "Save the result", "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": str(out)},
             "check_mode": False},
        ],
    }]
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    rc, stdout, stderr = sandbox.run_ansible([str(playbook)])
    assert out.exists(), f"rc={rc}\n{stdout[-3000:]}\n{stderr[-3000:]}"
    return json.loads(out.read_text())


def accounts(seed):
    return [{k: a[k] for k in ("account_id", "name", "role_arn", "external_id")} for a in seed["accounts"]]


def servers_of(seed, customer, environment="production", wave=None):
    return [
        {"source_server_id": s["source_server_id"], "account_id": s["drs_account_id"], "region": DR,
         "hostname": s["hostname"]}
        for s in seed["servers"].values()
        if s["customer"] == customer and s["environment"] == environment and (wave is None or s["wave"] == wave)
    ]


def launch_into_id(sandbox, server):
    drs = sandbox.client("drs", server["account_id"], DR)
    config = drs.get_launch_configuration(sourceServerID=server["source_server_id"])
    return (config.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID"), config


def test_info_returns_every_seeded_server_with_its_lag(sandbox, demo_estate, tmp_path):
    estate = yaml.safe_load((REPO / "sandbox/estates/demo.yml").read_text())
    expected_lag = {s["hostname"]: (s.get("drs") or {}).get("lag_seconds") for s in estate["servers"]}
    sandbox.clear_requests()
    result = run_module(sandbox, tmp_path, INFO, {"region": DR, "accounts": accounts(demo_estate),
                                                  "match_targets": True})
    assert not result.get("failed"), result.get("msg")
    by_id = {s["source_server_id"]: s for s in result["source_servers"]}
    assert set(by_id) == {s["source_server_id"] for s in demo_estate["servers"].values()}
    for seeded in demo_estate["servers"].values():
        summary = by_id[seeded["source_server_id"]]
        assert summary["hostname"] == seeded["hostname"]
        assert summary["account_id"] == seeded["drs_account_id"]
        if expected_lag.get(seeded["hostname"]) is not None:
            assert summary["lag_seconds"] == expected_lag[seeded["hostname"]]
        assert summary["matched_target"]["instance_id"] == seeded["target_instance_id"]
    assert result["summary"]["total"] == len(demo_estate["servers"])
    assert [r for r in sandbox.mutating_requests() if r["service"] in ("drs", "ec2")] == []


def test_launch_into_configures_every_server_and_is_idempotent(sandbox, demo_estate, tmp_path):
    wave = servers_of(demo_estate, "acme")
    args = {"region": DR, "accounts": accounts(demo_estate), "customer": "acme", "env": "production",
            "servers": wave}

    sandbox.clear_requests()
    planned = run_module(sandbox, tmp_path, LAUNCH_INTO, args, check=True)
    assert not planned.get("failed"), planned.get("msg")
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert {p["source_server_id"]: p["target"]["instance_id"] for p in planned["plan"]} == {
        s["source_server_id"]: demo_estate["servers"][s["hostname"]]["target_instance_id"] for s in wave}
    assert all(launch_into_id(sandbox, s)[0] is None for s in wave)

    result = run_module(sandbox, tmp_path, LAUNCH_INTO, args)
    assert result["changed"] is True, result.get("msg")
    for server in wave:
        target, config = launch_into_id(sandbox, server)
        assert target == demo_estate["servers"][server["hostname"]]["target_instance_id"], server["hostname"]
        assert config["copyPrivateIp"] is False and config["copyTags"] is False
        assert config["targetInstanceTypeRightSizingMethod"] == "NONE"

    sandbox.clear_requests()
    again = run_module(sandbox, tmp_path, LAUNCH_INTO, args)
    assert again["changed"] is False
    assert [r for r in sandbox.mutating_requests() if r["service"] == "drs"] == []

    cleared = run_module(sandbox, tmp_path, LAUNCH_INTO, dict(args, state="absent"))
    assert cleared["changed"] is True
    assert all(launch_into_id(sandbox, s)[0] is None for s in wave)


def test_running_target_fails_naming_the_server(sandbox, demo_estate, tmp_path):
    wave = servers_of(demo_estate, "acme", wave=1)
    victim = wave[0]
    seeded = demo_estate["servers"][victim["hostname"]]
    sandbox.client("ec2", victim["account_id"], DR).start_instances(InstanceIds=[seeded["target_instance_id"]])
    result = run_module(sandbox, tmp_path, LAUNCH_INTO, {"region": DR, "accounts": accounts(demo_estate),
                                                         "customer": "acme", "servers": wave})
    assert result["failed"] is True
    assert victim["source_server_id"] in result["msg"] and seeded["target_instance_id"] in result["msg"]
    assert all(launch_into_id(sandbox, s)[0] is None for s in wave)


def test_duplicate_target_name_fails_naming_the_server(sandbox, demo_estate, tmp_path):
    wave = servers_of(demo_estate, "acme", wave=1)
    victim = wave[0]
    seeded = demo_estate["servers"][victim["hostname"]]
    ec2 = sandbox.client("ec2", victim["account_id"], DR)
    original = ec2.describe_instances(InstanceIds=[seeded["target_instance_id"]])["Reservations"][0]["Instances"][0]
    twin = ec2.run_instances(ImageId=original["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             SubnetId=original["SubnetId"])["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[twin], Tags=[{"Key": "Name", "Value": victim["hostname"].upper()},
                                            {"Key": "AWSDRS", "Value": "AllowLaunchingIntoThisInstance"},
                                            {"Key": "Customer", "Value": "acme"}])
    ec2.stop_instances(InstanceIds=[twin])
    result = run_module(sandbox, tmp_path, LAUNCH_INTO, {"region": DR, "accounts": accounts(demo_estate),
                                                         "customer": "acme", "servers": wave})
    assert result["failed"] is True
    assert victim["source_server_id"] in result["msg"] and twin in result["msg"]
    assert all(launch_into_id(sandbox, s)[0] is None for s in wave)


def test_out_of_scope_customer_fails_naming_the_server(sandbox, demo_estate, tmp_path):
    wave = servers_of(demo_estate, "acme", wave=1) + servers_of(demo_estate, "globex", wave=1)[:1]
    intruder = wave[-1]
    sandbox.clear_requests()
    result = run_module(sandbox, tmp_path, LAUNCH_INTO, {"region": DR, "accounts": accounts(demo_estate),
                                                         "customer": "acme", "servers": wave})
    assert result["failed"] is True
    assert intruder["source_server_id"] in result["msg"] and "globex" in result["msg"]
    assert [r for r in sandbox.mutating_requests() if r["service"] == "drs"] == []


def test_tag_sync_copies_source_instance_tags(sandbox, demo_estate, tmp_path):
    seeded = demo_estate["servers"]["acme-prod-db02"]
    server = {"source_server_id": seeded["source_server_id"], "account_id": seeded["drs_account_id"], "region": DR}
    ec2 = sandbox.client("ec2", seeded["account_id"], "us-east-1")
    ec2.create_tags(Resources=[seeded["source_instance_id"]], Tags=[{"Key": "dr:rto-target", "Value": "20"}])
    source_tags = {t["Key"]: t["Value"] for t in ec2.describe_instances(
        InstanceIds=[seeded["source_instance_id"]])["Reservations"][0]["Instances"][0]["Tags"]}
    args = {"region": DR, "accounts": accounts(demo_estate), "customer": "acme", "servers": [server]}
    result = run_module(sandbox, tmp_path, TAG_SYNC, args)
    assert result["changed"] is True, result.get("msg")
    drs = sandbox.client("drs", seeded["drs_account_id"], DR)
    tags = drs.list_tags_for_resource(resourceArn=seeded["source_server_arn"])["tags"]
    for key, value in source_tags.items():
        if key.startswith("dr:") or key in ("Customer", "Environment", "Name"):
            assert tags.get(key) == value, key
    assert tags["dr:rto-target"] == "20"
    again = run_module(sandbox, tmp_path, TAG_SYNC, args)
    assert again["changed"] is False


@pytest.mark.parametrize("module", [LAUNCH_INTO, TAG_SYNC])
def test_check_mode_makes_no_drs_change(sandbox, demo_estate, tmp_path, module):
    args = {"region": DR, "accounts": accounts(demo_estate), "customer": "acme",
            "servers": servers_of(demo_estate, "acme", wave=2)}
    sandbox.clear_requests()
    result = run_module(sandbox, tmp_path, module, args, check=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert [r for r in sandbox.mutating_requests() if r["service"] in ("drs", "ec2")] == []


def test_a_pinned_wave_reads_only_its_own_targets_and_still_refuses_a_bad_one(sandbox, demo_estate, tmp_path):
    # As INSTANTIATE calls it: one wave, every server pinned to the target discovery matched, unmatched targets
    # neither warned about nor refused. Another target sharing a server's Name does not block a pinned server.
    wave = [dict(s, target_instance_id=demo_estate["servers"][s["hostname"]]["target_instance_id"])
            for s in servers_of(demo_estate, "acme", wave=1)]
    victim, other = wave[0], wave[1:]
    ec2 = sandbox.client("ec2", victim["account_id"], DR)
    original = ec2.describe_instances(InstanceIds=[victim["target_instance_id"]])["Reservations"][0]["Instances"][0]
    twin = ec2.run_instances(ImageId=original["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             SubnetId=original["SubnetId"])["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[twin], Tags=[{"Key": "Name", "Value": victim["hostname"]},
                                            {"Key": "AWSDRS", "Value": "AllowLaunchingIntoThisInstance"},
                                            {"Key": "Customer", "Value": "acme"}])
    ec2.stop_instances(InstanceIds=[twin])
    args = {"region": DR, "accounts": accounts(demo_estate), "customer": "acme", "servers": wave,
            "warn_on_unmatched_targets": False}
    result = run_module(sandbox, tmp_path, LAUNCH_INTO, args)
    assert not result.get("failed"), result.get("msg")
    assert result["unmatched_targets"] == [] and result["duplicate_targets"] == []
    for server in wave:
        assert launch_into_id(sandbox, server)[0] == server["target_instance_id"], server["hostname"]
    assert twin not in json.dumps(result)
    # Asked about unmatched targets (the default), the same call reads them all and names the twin.
    reported = run_module(sandbox, tmp_path, LAUNCH_INTO, dict(args, warn_on_unmatched_targets=True))
    assert twin in {t["instance_id"] for t in reported["unmatched_targets"]}
    # A pinned target that now runs is still refused, naming the server; with allow_partial the others go on.
    run_module(sandbox, tmp_path, LAUNCH_INTO, dict(args, state="absent"))
    ec2.start_instances(InstanceIds=[victim["target_instance_id"]])
    partial = run_module(sandbox, tmp_path, LAUNCH_INTO, dict(args, allow_partial=True))
    assert not partial.get("failed"), partial.get("msg")
    assert [u["source_server_id"] for u in partial["unmatched_servers"]] == [victim["source_server_id"]]
    assert launch_into_id(sandbox, victim)[0] is None
    assert all(launch_into_id(sandbox, s)[0] == s["target_instance_id"] for s in other)
