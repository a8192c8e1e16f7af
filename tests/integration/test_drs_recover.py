"""drs_recover against the sandbox: batching, priority order, launch-into, idempotent re-runs, failures."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.integration.test_drs_recover_helpers import DR_REGION
from tests.integration.test_drs_recover_helpers import WORKLOAD_A
from tests.integration.test_drs_recover_helpers import account_args
from tests.integration.test_drs_recover_helpers import configure_launch_into
from tests.integration.test_drs_recover_helpers import estate
from tests.integration.test_drs_recover_helpers import instances
from tests.integration.test_drs_recover_helpers import jobs_of
from tests.integration.test_drs_recover_helpers import module_command
from tests.integration.test_drs_recover_helpers import module_env
from tests.integration.test_drs_recover_helpers import run_module
from tests.integration.test_drs_recover_helpers import server_args
from tests.integration.test_drs_recover_helpers import servers_in_two_jobs

FAST = {"time_scale": 0.3}


def _args(sandbox, servers, run_id, **extra):
    args = {"customer": "acme", "drill": True, "run_id": run_id, "servers": server_args(servers),
            "accounts": account_args(sandbox, sorted({s["drs_account_id"] for s in servers})),
            "region": DR_REGION, "poll_interval": 1, "wait_timeout": 300}
    args.update(extra)
    return args


@pytest.fixture
def estate_250(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(250))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs=FAST)
    sandbox.clear_requests()
    return servers


def test_250_servers_three_jobs_priority_order_launch_into(sandbox, estate_250):
    servers = estate_250
    check = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-250"), check=True)
    assert not check.get("failed"), check.get("msg")
    assert check["changed"] is True
    assert [len(c["source_server_ids"]) for c in check["plan"]] == [100, 100, 50]
    assert not [r for r in sandbox.requests() if r["mutating"] and r["service"] in ("drs", "ec2")]
    assert jobs_of(sandbox, WORKLOAD_A) == []

    result = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-250"))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True

    jobs = sorted((j for j in jobs_of(sandbox, WORKLOAD_A) if j["type"] == "LAUNCH"),
                  key=lambda j: j["creationDateTime"])
    assert [len(j["participatingServers"]) for j in jobs] == [100, 100, 50]
    assert all(j["tags"]["enterprise-dr:execution-id"] == "exec-250" for j in jobs)
    assert all(j["initiatedBy"] == "START_DRILL" and j["status"] == "COMPLETED" for j in jobs)
    assert servers_in_two_jobs(jobs) == {}
    critical = {s["source_server_id"] for s in servers if s["priority"] == "critical"}
    first_job = {p["sourceServerID"] for p in jobs[0]["participatingServers"]}
    assert critical <= first_job
    # Priority never goes backwards from one job to the next.
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    by_id = {s["source_server_id"]: s for s in servers}
    worst = [max(rank[by_id[p["sourceServerID"]]["priority"]] for p in j["participatingServers"]) for j in jobs]
    best = [min(rank[by_id[p["sourceServerID"]]["priority"]] for p in j["participatingServers"]) for j in jobs]
    assert all(worst[i] <= best[i + 1] for i in range(len(jobs) - 1))

    # Launch into the targets: same instance ID, private IP unchanged, now running.
    ec2 = instances(sandbox, WORKLOAD_A, [s["target_instance_id"] for s in servers])
    drs = sandbox.client("drs", WORKLOAD_A, DR_REGION)
    recovery = {}
    for page in drs.get_paginator("describe_recovery_instances").paginate(filters={}):
        recovery.update({ri["sourceServerID"]: ri for ri in page["items"]})
    for server in servers:
        assert recovery[server["source_server_id"]]["ec2InstanceID"] == server["target_instance_id"]
        instance = ec2[server["target_instance_id"]]
        assert instance["PrivateIpAddress"] == server["target_private_ip"]
        assert instance["State"]["Name"] == "running"
    reported = {r["source_server_id"]: r for r in result["servers"]}
    assert all(r["launched_into_target"] is True and r["launch_status"] == "LAUNCHED" for r in reported.values())
    assert result["summary"]["launched"] == 250 and result["summary"]["jobs_started"] == 3

    # Idempotent: a second run with the same execution ID starts nothing.
    sandbox.clear_requests()
    again = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-250"))
    assert again["changed"] is False, again.get("msg")
    assert not [r for r in sandbox.requests() if r["operation"] == "StartRecovery"]
    assert len([j for j in jobs_of(sandbox, WORKLOAD_A) if j["type"] == "LAUNCH"]) == 3


def test_never_more_than_twenty_active_jobs(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(60, priorities=("medium",)))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs={"time_scale": 1.0})
    result = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-small-jobs", max_servers_per_job=2))
    assert not result.get("failed"), result.get("msg")
    jobs = [j for j in jobs_of(sandbox, WORKLOAD_A) if j["type"] == "LAUNCH"]
    assert len(jobs) == 30 and all(len(j["participatingServers"]) <= 2 for j in jobs)
    # At no moment were more than 20 jobs active: count overlaps of [creation, end).

    def ts(value):
        from datetime import datetime
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    events = sorted([(ts(j["creationDateTime"]), 1) for j in jobs] + [(ts(j["endDateTime"]), -1) for j in jobs])
    active = peak = 0
    for _when, delta in events:
        active += delta
        peak = max(peak, active)
    assert 1 < peak <= 20
    assert servers_in_two_jobs(jobs) == {}


def test_rerun_after_kill_starts_no_second_job(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(40))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs={"time_scale": 2.0})
    args = _args(sandbox, servers, "exec-killed", max_servers_per_job=10)
    process = subprocess.Popen(module_command(sandbox, "drs_recover", args), env=module_env(sandbox),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(jobs_of(sandbox, WORKLOAD_A)) < 4:
        time.sleep(0.2)
    process.kill()
    process.wait()
    started_before = {j["jobID"] for j in jobs_of(sandbox, WORKLOAD_A)}
    assert len(started_before) == 4

    result = run_module(sandbox, "drs_recover", args)
    assert not result.get("failed"), result.get("msg")
    jobs = jobs_of(sandbox, WORKLOAD_A)
    assert servers_in_two_jobs(jobs) == {}
    assert {p["sourceServerID"] for j in jobs for p in j["participatingServers"]} == {
        s["source_server_id"] for s in servers}
    assert started_before <= {j["jobID"] for j in jobs}
    assert result["summary"]["launched"] == 40
    assert result["summary"]["already_handled"] == 40 - (len(jobs) - len(started_before)) * 10


def test_wait_false_then_rerun_adopts(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(12))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs={"time_scale": 1.0})
    first = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-nowait", wait=False))
    assert first["changed"] is True and not first.get("failed"), first.get("msg")
    assert {r["launch_status"] for r in first["servers"]} <= {"PENDING", "IN_PROGRESS"}
    second = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-nowait"))
    assert second["changed"] is False
    assert second["summary"]["launched"] == 12
    assert len(jobs_of(sandbox, WORKLOAD_A)) == 1


def test_running_target_fails_that_server_with_drs_error(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(6))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs=FAST)
    culprit = servers[2]
    sandbox.client("ec2", WORKLOAD_A, DR_REGION).start_instances(InstanceIds=[culprit["target_instance_id"]])

    failed = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-fail"))
    assert failed.get("failed") is True
    assert culprit["source_server_id"] in failed["msg"]
    assert "stopped state" in failed["msg"]
    by_id = {r["source_server_id"]: r for r in failed["servers"]}
    assert by_id[culprit["source_server_id"]]["launch_status"] == "FAILED"
    assert "stopped state" in by_id[culprit["source_server_id"]]["raw_error"]
    others = [s["source_server_id"] for s in servers if s is not culprit]
    assert all(by_id[sid]["launch_status"] == "LAUNCHED" for sid in others)
    # DRS state agrees: the culprit is in no job, the others launched.
    jobs = jobs_of(sandbox, WORKLOAD_A)
    in_jobs = {p["sourceServerID"]: p["launchStatus"] for j in jobs for p in j["participatingServers"]}
    assert in_jobs.get(culprit["source_server_id"]) in (None, "FAILED")
    assert all(in_jobs[sid] == "LAUNCHED" for sid in others)

    # failure_policy continue, same run: only the failed server is tried again (its target is still
    # running, so it fails again); the task succeeds and lists it; no launched server is relaunched.
    again = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-fail", failure_policy="continue"))
    assert not again.get("failed"), again.get("msg")
    assert [f["source_server_id"] for f in again["failed_servers"]] == [culprit["source_server_id"]]
    assert "stopped state" in again["failed_servers"][0]["raw_error"]
    assert set(servers_in_two_jobs(jobs_of(sandbox, WORKLOAD_A))) <= {culprit["source_server_id"]}


def test_throttling_30_percent_everything_completes(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(120))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs={**FAST, "throttle_rate": 0.3})
    result = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-throttled", max_servers_per_job=25))
    sandbox.set_faults(drs={"throttle_rate": 0.0})
    assert not result.get("failed"), result.get("msg")
    assert result["summary"]["launched"] == 120
    throttled = [r for r in sandbox.requests("drs") if r["status"] == 429]
    assert throttled, "the fault injection did not throttle anything"
    jobs = jobs_of(sandbox, WORKLOAD_A)
    assert servers_in_two_jobs(jobs) == {}
    assert len([j for j in jobs if j["type"] == "LAUNCH"]) == 5


def test_scope_guard_refuses_other_customer(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(estate(4, customers=("acme", "globex")))
    servers = sorted(seeded["servers"].values(), key=lambda s: s["hostname"])
    sandbox.clear_requests()
    result = run_module(sandbox, "drs_recover", _args(sandbox, servers, "exec-scope"))
    assert result.get("failed") is True
    assert "globex" in result["msg"]
    assert not [r for r in sandbox.requests() if r["mutating"] and r["service"] in ("drs", "ec2")]
    print(json.dumps(result.get("violations"))[:200])
