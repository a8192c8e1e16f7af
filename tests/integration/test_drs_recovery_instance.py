"""Drill cleanup, recovery-instance and job info against the sandbox, asserting on DRS and EC2 state."""

from __future__ import annotations

from tests.integration.test_drs_recover_helpers import DR_REGION
from tests.integration.test_drs_recover_helpers import WORKLOAD_A
from tests.integration.test_drs_recover_helpers import account_args
from tests.integration.test_drs_recover_helpers import configure_launch_into
from tests.integration.test_drs_recover_helpers import estate
from tests.integration.test_drs_recover_helpers import instances
from tests.integration.test_drs_recover_helpers import run_module
from tests.integration.test_drs_recover_helpers import server_args


def _common(sandbox):
    return {**_where(sandbox), "poll_interval": 1, "wait_timeout": 300}


def _where(sandbox):
    return {"region": DR_REGION, "accounts": account_args(sandbox, [WORKLOAD_A])}


def _recovery_instances(sandbox):
    drs = sandbox.client("drs", WORKLOAD_A, DR_REGION)
    items = []
    for page in drs.get_paginator("describe_recovery_instances").paginate(filters={}):
        items.extend(page["items"])
    return items


def _available_volumes(sandbox):
    ec2 = sandbox.client("ec2", WORKLOAD_A, DR_REGION)
    return ec2.describe_volumes(Filters=[{"Name": "status", "Values": ["available"]}])["Volumes"]


def _drill(sandbox, servers, run_id, drill=True):
    args = {"customer": "acme", "drill": drill, "run_id": run_id, "servers": server_args(servers),
            **_common(sandbox)}
    result = run_module(sandbox, "drs_recover", args)
    assert not result.get("failed"), result.get("msg")
    return result


def test_drill_info_and_cleanup(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(6))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    into, new = servers[:4], servers[4:]
    configure_launch_into(sandbox, into)
    sandbox.set_faults(drs={"time_scale": 0.3})
    drill = _drill(sandbox, servers, "exec-drill-1")
    assert drill["summary"]["launched"] == 6

    # Info: recovery instances with EC2 facts, and the run's jobs with their logs.
    info = run_module(sandbox, "drs_recovery_instance_info", {"is_drill": True, **_where(sandbox)})
    assert info["summary"] == {"total": 6, "drills": 6, "running": 6, "launch_into_targets": 4}
    by_server = {ri["source_server_id"]: ri for ri in info["recovery_instances"]}
    for server in into:
        ri = by_server[server["source_server_id"]]
        assert ri["ec2_instance_id"] == server["target_instance_id"]
        assert ri["private_ip"] == server["target_private_ip"]
        assert ri["launch_into_target"] is True
    jobs = run_module(sandbox, "drs_job_info", {"run_id": "exec-drill-1", "include_log_items": True,
                                                **_where(sandbox)})
    assert jobs["summary"]["total"] == 1 and jobs["summary"]["servers_launched"] == 6
    assert any(item["event"] == "JOB_END" for item in jobs["jobs"][0]["log_items"])
    none = run_module(sandbox, "drs_job_info", {"run_id": "exec-other", **_where(sandbox)})
    assert none["jobs"] == []

    new_instances = [by_server[s["source_server_id"]]["ec2_instance_id"] for s in new]
    left_behind = {v["VolumeId"] for v in _available_volumes(sandbox)}
    assert left_behind, "launching into the targets should leave their original volumes behind"

    cleanup = {"state": "absent", "customer": "acme", "servers": server_args(servers), **_common(sandbox)}
    sandbox.clear_requests()
    check = run_module(sandbox, "drs_recovery_instance", cleanup, check=True, diff=True)
    assert check["changed"] is True and not check.get("failed"), check.get("msg")
    assert {i["action"] for i in check["recovery_instances"]} == {"terminate", "stop_and_release"}
    assert set(v for i in check["recovery_instances"] for v in i["deleted_volume_ids"]) == left_behind
    assert not [r for r in sandbox.requests() if r["mutating"] and r["service"] in ("drs", "ec2")]
    assert len(_recovery_instances(sandbox)) == 6

    done = run_module(sandbox, "drs_recovery_instance", cleanup)
    assert done["changed"] is True and not done.get("failed"), done.get("msg")
    assert _recovery_instances(sandbox) == []
    ec2 = instances(sandbox, WORKLOAD_A, [s["target_instance_id"] for s in into] + new_instances)
    for server in into:
        target = ec2[server["target_instance_id"]]
        assert target["State"]["Name"] == "stopped"
        tags = {t["Key"]: t["Value"] for t in target.get("Tags", [])}
        assert tags.get("AWSDRS") == "AllowLaunchingIntoThisInstance"
        assert target["PrivateIpAddress"] == server["target_private_ip"]
    for instance_id in new_instances:
        assert ec2[instance_id]["State"]["Name"] in ("shutting-down", "terminated")
    assert _available_volumes(sandbox) == []
    # Nothing running from the drill.
    assert not [i for i in ec2.values() if i["State"]["Name"] == "running"]

    again = run_module(sandbox, "drs_recovery_instance", cleanup)
    assert again["changed"] is False and not again.get("failed"), again.get("msg")
    assert sorted(again["not_found"]) == sorted(s["source_server_id"] for s in servers)

    # A second drill into the same targets, then cleanup: the first drill's volumes are found as well.
    _drill(sandbox, into, "exec-drill-2")
    assert _available_volumes(sandbox)
    run_module(sandbox, "drs_recovery_instance", {**cleanup, "servers": server_args(into)})
    assert _available_volumes(sandbox) == []
    assert all(i["State"]["Name"] == "stopped"
               for i in instances(sandbox, WORKLOAD_A, [s["target_instance_id"] for s in into]).values())


def test_production_recovery_instances_are_refused(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(2))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs={"time_scale": 0.3})
    _drill(sandbox, servers, "exec-prod", drill=False)
    sandbox.clear_requests()
    cleanup = {"state": "absent", "customer": "acme", "servers": server_args(servers), **_common(sandbox)}
    refused = run_module(sandbox, "drs_recovery_instance", cleanup)
    assert refused.get("failed") is True
    assert "allow_production" in refused["msg"]
    assert not [r for r in sandbox.requests() if r["mutating"] and r["service"] in ("drs", "ec2")]
    assert len(_recovery_instances(sandbox)) == 2
    allowed = run_module(sandbox, "drs_recovery_instance", {**cleanup, "allow_production": True})
    assert not allowed.get("failed"), allowed.get("msg")
    assert _recovery_instances(sandbox) == []
    ec2 = instances(sandbox, WORKLOAD_A, [s["target_instance_id"] for s in servers])
    assert all(i["State"]["Name"] == "stopped" for i in ec2.values())


def test_cleanup_refuses_other_customer(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(2, customers=("acme", "globex")))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs={"time_scale": 0.3})
    for customer in ("acme", "globex"):
        mine = [s for s in servers if s["customer"] == customer]
        args = {"customer": customer, "drill": True, "run_id": f"exec-{customer}", "servers": server_args(mine),
                **_common(sandbox)}
        assert not run_module(sandbox, "drs_recover", args).get("failed")
    sandbox.clear_requests()
    cleanup = {"state": "absent", "customer": "acme", "servers": server_args(servers), **_common(sandbox)}
    refused = run_module(sandbox, "drs_recovery_instance", cleanup)
    assert refused.get("failed") is True and "globex" in refused["msg"]
    assert not [r for r in sandbox.requests() if r["mutating"] and r["service"] in ("drs", "ec2")]
    assert len(_recovery_instances(sandbox)) == 2
