"""The collection's retry policy through the real ClientFactory against the sandbox's fault injection.

Every assertion reads the sandbox's request log (what was sent and answered) or DRS/EC2 state.
"""

from __future__ import annotations

import os
import time

import pytest

from sandbox.lossy_proxy import LossyProxy
from tests.integration.test_drs_recover_helpers import DR_REGION
from tests.integration.test_drs_recover_helpers import WORKLOAD_A
from tests.integration.test_drs_recover_helpers import account_args
from tests.integration.test_drs_recover_helpers import configure_launch_into
from tests.integration.test_drs_recover_helpers import estate
from tests.integration.test_drs_recover_helpers import jobs_of
from tests.integration.test_drs_recover_helpers import run_module
from tests.integration.test_drs_recover_helpers import server_args

pytest.importorskip("ansible_collections.enterprise_dr.orchestration")

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients  # noqa: E402
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution  # noqa: E402
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import RecoveryGroup  # noqa: E402


class ModuleParams:
    """The part of an Ansible module the factory reads: its connection parameters."""

    def __init__(self, region=DR_REGION):
        self.params = {"region": region, "endpoint_url": None, "access_key": None, "secret_key": None,
                       "session_token": None, "profile": None, "validate_certs": True, "aws_ca_bundle": None,
                       "aws_config": None}
        self.check_mode = False

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def operation_of(entry):
    """The logged operation; a DRS request answered by fault injection is named only by its REST path."""
    if entry["service"] == "drs" and entry["status"] and entry["status"] >= 500:
        return entry["operation"] or (entry.get("path") or "").rstrip("/").rsplit("/", 1)[-1]
    return entry["operation"]


def log_of(sandbox, service, operation):
    return [r for r in sandbox.requests(service) if operation_of(r) == operation]


@pytest.fixture
def seeded(sandbox):
    sandbox.reset()
    result = sandbox.seed(estate(4))
    servers = sorted(result["servers"].values(), key=lambda s: s["hostname"])
    configure_launch_into(sandbox, servers)
    sandbox.set_faults(drs={"time_scale": 0.3})
    sandbox.clear_requests()
    yield servers
    sandbox.clear_faults()
    sandbox.set_faults(drs={"throttle_rate": 0.0})


def factory(sandbox):
    return clients.ClientFactory(ModuleParams(), accounts=account_args(sandbox, [WORKLOAD_A]))


@pytest.mark.parametrize("service, call, operation", [
    ("ec2", lambda c: c.describe_instances(), "DescribeInstances"),
    ("dynamodb", lambda c: c.list_tables(), "ListTables"),
    ("sts", lambda c: c.get_caller_identity(), "GetCallerIdentity"),
])
def test_every_call_is_retried_through_the_factory(sandbox, seeded, service, call, operation):
    """Five throttled answers in a row, then success: one call, six requests, no aws_retry needed."""
    client = clients.ClientFactory(ModuleParams()).client(service)
    sandbox.clear_requests()
    sandbox.set_faults(service=service, throttle_next=5)
    call(client)
    log = log_of(sandbox, service, operation)
    assert [r["status"] >= 400 for r in log] == [True] * 5 + [False]


def test_a_burst_longer_than_max_attempts_is_outlasted(sandbox, seeded, monkeypatch):
    """Throttling is retried for a time budget, not a count: 30 throttled AssumeRole answers in a row (more than
    MAX_ATTEMPTS) and the workload-account call still completes, through botocore's real request context."""
    monkeypatch.setattr(clients.POLICY, "max_delay", 0.02)  # the same decisions, without minutes of sleeping
    assert clients.MAX_ATTEMPTS < 30
    client = factory(sandbox).client("ec2", account_id=WORKLOAD_A)
    sandbox.clear_requests()
    sandbox.set_faults(service="sts", throttle_next=30)
    client.describe_vpcs()
    assume = log_of(sandbox, "sts", "AssumeRole")
    assert [r["status"] >= 400 for r in assume] == [True] * 30 + [False]
    # The budget still ends: a call throttled for longer than it gives up.
    monkeypatch.setattr(clients.POLICY, "throttling_budget", 0.5)
    sts = factory(sandbox).client("sts")
    sandbox.set_faults(service="sts", throttle_rate=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(Exception, match="Throttling"):
            sts.get_caller_identity()
    finally:
        sandbox.clear_faults()
    assert time.monotonic() - started < 5


def test_paginators_and_assume_role_follow_the_policy(sandbox, seeded):
    """A paginated read in a workload account: the AssumeRole behind its credentials and every page retry."""
    client = factory(sandbox).client("ec2", account_id=WORKLOAD_A)
    sandbox.clear_requests()
    sandbox.set_faults(service="sts", throttle_next=3)
    sandbox.set_faults(service="ec2", throttle_next=3)
    pages = list(client.get_paginator("describe_instances").paginate(MaxResults=5))
    assert sum(len(r["Instances"]) for p in pages for r in p["Reservations"]) == 4  # the targets in the DR region
    assume = log_of(sandbox, "sts", "AssumeRole")
    assert [r["status"] >= 400 for r in assume] == [True] * 3 + [False]
    assert len([r for r in log_of(sandbox, "ec2", "DescribeInstances") if r["status"] >= 400]) == 3


def test_drs_throttling_at_60_percent_is_absorbed(sandbox, seeded):
    drs = factory(sandbox).client("drs", account_id=WORKLOAD_A)
    ids = [s["source_server_id"] for s in seeded]
    sandbox.set_faults(drs={"throttle_rate": 0.6})
    sandbox.clear_requests()
    for sid in ids * 3:
        assert drs.get_launch_configuration(sourceServerID=sid)["sourceServerID"] == sid
    sandbox.set_faults(drs={"throttle_rate": 0.0})
    log = log_of(sandbox, "drs", "GetLaunchConfiguration")
    assert len([r for r in log if r["status"] == 200]) == len(ids) * 3
    assert len([r for r in log if r["status"] == 429]) >= 3  # ~18 expected at 60%


def test_start_recovery_is_not_resent_after_a_5xx(sandbox, seeded):
    """The policy never resends StartRecovery after a 5xx: the caller gets the error after one request."""
    drs = factory(sandbox).client("drs", account_id=WORKLOAD_A)
    sandbox.set_faults(service="drs", error_next=1)
    sandbox.clear_requests()
    with pytest.raises(Exception) as raised:
        drs.start_recovery(sourceServers=[{"sourceServerID": seeded[0]["source_server_id"]}], isDrill=True)
    assert clients.error_code(raised.value) in clients.TRANSIENT_CODES
    assert len(log_of(sandbox, "drs", "StartRecovery")) == 1
    assert jobs_of(sandbox, WORKLOAD_A) == []


def test_lost_start_recovery_answer_is_found_not_resent(sandbox, seeded, monkeypatch):
    """The sandbox starts the job but the answer is lost: the submitter finds the job by its batch tag."""
    with LossyProxy(sandbox.endpoint, lose={"/StartRecovery": 1}) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", proxy.endpoint)
        made = factory(sandbox)
        servers = [{"source_server_id": s["source_server_id"], "account_id": WORKLOAD_A, "region": DR_REGION,
                    "hostname": s["hostname"], "priority": s["priority"]} for s in seeded]
        drs, ec2 = made.client("drs", account_id=WORKLOAD_A), made.client("ec2", account_id=WORKLOAD_A)
        group = RecoveryGroup(drs, None, ec2, WORKLOAD_A, DR_REGION, servers, "exec-lost-answer", True, poll_interval=1,
                              deadline=time.time() + 120)
        group.prepare()
        group.execute(wait=True)
        assert proxy.lost == {"/StartRecovery": 1}
    starts = log_of(sandbox, "drs", "StartRecovery")
    assert len(starts) == 1, starts
    launch_jobs = [j for j in jobs_of(sandbox, WORKLOAD_A) if j["type"] == "LAUNCH"]
    assert len(launch_jobs) == 1
    assert sorted(p["sourceServerID"] for p in launch_jobs[0]["participatingServers"]) == sorted(
        s["source_server_id"] for s in seeded)


def test_start_recovery_once_per_server_under_5xx_and_latency(sandbox, seeded):
    """drs_recover under 30% 5xx and 200 ms latency on DRS: one successful StartRecovery per server, one job each."""
    sandbox.set_faults(service="drs", error_rate=0.3, latency_ms=200)
    args = {"customer": "acme", "drill": True, "run_id": "exec-5xx", "servers": server_args(seeded),
            "accounts": account_args(sandbox, [WORKLOAD_A]), "region": DR_REGION, "poll_interval": 1,
            "wait_timeout": 300, "max_servers_per_job": 1}
    result = run_module(sandbox, "drs_recover", args)
    sandbox.clear_faults()
    assert not result.get("failed"), result.get("msg")
    log = sandbox.requests("drs")
    assert [r for r in log if r["status"] == 500], "the fault injection answered no 5xx"
    accepted = [r for r in log if operation_of(r) == "StartRecovery" and r["status"] < 400]
    assert len(accepted) == len(seeded)
    per_server = {}
    for job in jobs_of(sandbox, WORKLOAD_A):
        for participant in job["participatingServers"]:
            per_server.setdefault(participant["sourceServerID"], []).append(job["jobID"])
    assert {sid: len(j) for sid, j in per_server.items()} == {s["source_server_id"]: 1 for s in seeded}
    # Every resend of StartRecovery came after a look at the jobs.
    for index, entry in enumerate(log):
        if operation_of(entry) == "StartRecovery" and entry["status"] >= 500:
            following = [operation_of(r) for r in log[index + 1:]
                         if operation_of(r) in ("StartRecovery", "DescribeJobs")]
            assert following[:1] == ["DescribeJobs"], following[:3]


def test_dynamodb_throttling_is_not_advised_as_a_missing_table(sandbox, seeded):
    """A store call throttled beyond the policy says throttling, and never 'create the table'."""
    client = clients.ClientFactory(ModuleParams()).client("dynamodb")
    store = execution.DynamoDBStore(client, "edr-missing-table")
    sandbox.set_faults(service="dynamodb", throttle_rate=1.0)
    saved = clients.POLICY.throttling_budget
    clients.POLICY.throttling_budget = 2.0
    try:
        with pytest.raises(execution.StoreUnavailable) as throttled:
            store.latest("acme")
    finally:
        clients.POLICY.throttling_budget = saved
        sandbox.clear_faults()
    assert "throttl" in str(throttled.value).lower()
    assert "setup_hub.yml" not in str(throttled.value)
    with pytest.raises(execution.StoreUnavailable) as missing:
        store.latest("acme")
    assert "setup_hub.yml" in str(missing.value)


def test_policy_counts_retries(sandbox, seeded):
    before = clients.POLICY.total()
    client = clients.ClientFactory(ModuleParams()).client("ec2")
    sandbox.set_faults(service="ec2", throttle_next=2)
    client.describe_vpcs()
    assert clients.POLICY.total() - before == 2
    assert os.environ.get("AWS_ENDPOINT_URL") == sandbox.endpoint
