"""The batch planner, the idempotency decisions, conflict handling and polling of drs_jobs."""

import itertools

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import ReadTimeoutError

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import drs_jobs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import Limits
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import RUN_ID_TAG
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import RecoveryGroup
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import classify
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import next_chunk_size
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import plan_batches

MUTATING = ("start_recovery", "terminate_recovery_instances", "disconnect_recovery_instance",
            "delete_recovery_instance", "stop_instances", "delete_volume")


def _sid(n):
    return f"s-{n:017d}"


def _client_error(code, message="", status=400, **fields):
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    response.update(fields)
    return ClientError(response, "StartRecovery")


class FakeClock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeDRS:
    """An in-memory DRS of one account and region: jobs, quotas, conflicts, launch outcomes.

    Jobs complete ``polls_to_complete`` DescribeJobs calls after they start. ``fail`` maps a
    server ID to the rawError its launch fails with. ``targets`` maps server ID -> launch-into
    instance ID; ``running_targets`` holds targets that are running (StartRecovery conflicts).
    """

    def __init__(self, server_ids, tags=None, account="210987654321", region="us-west-2",
                 polls_to_complete=1, fail=None, targets=None, running_targets=()):
        self.account = account
        self.region = region
        self.servers = {}
        for sid in server_ids:
            self.servers[sid] = {
                "sourceServerID": sid,
                "arn": f"arn:aws:drs:{region}:{account}:source-server/{sid}",
                "tags": dict(tags or {"Customer": "acme", "Environment": "production"}),
                "sourceProperties": {"identificationHints": {"hostname": f"host-{sid[-4:]}"}},
                "lifeCycle": {},
            }
        self.jobs = {}
        self.job_age = {}
        self.recovery_instances = {}
        self.logs = {}
        self.calls = []
        self.polls_to_complete = polls_to_complete
        self.fail = dict(fail or {})
        self.targets = dict(targets or {})
        self.running_targets = set(running_targets)
        self.faults = []  # exceptions raised by the next StartRecovery calls, in order
        self.lose_response = False  # StartRecovery creates the job, then times out
        self.max_active_seen = 0
        self.max_servers_seen = 0
        self._ids = itertools.count(1)
        self._instances = itertools.count(1)

    # -- helpers --
    def _active(self):
        return [j for j in self.jobs.values() if j["status"] in ("PENDING", "STARTED")]

    def add_job(self, server_ids, status="STARTED", tags=None, initiated_by="START_DRILL", job_type="LAUNCH",
                launch_status="IN_PROGRESS"):
        job_id = f"drsjob-{next(self._ids):017d}"
        self.jobs[job_id] = {
            "jobID": job_id, "type": job_type, "initiatedBy": initiated_by, "status": status,
            "creationDateTime": f"2023-11-14T22:13:{len(self.jobs):02d}Z", "tags": dict(tags or {}),
            "participatingServers": [{"sourceServerID": s, "launchStatus": launch_status} for s in server_ids],
        }
        self.job_age[job_id] = 0
        if status == "COMPLETED":
            self._finish(self.jobs[job_id])
        return job_id

    def _finish(self, job):
        job["status"] = "COMPLETED"
        job["endDateTime"] = "2023-11-14T22:20:00Z"
        self.logs.setdefault(job["jobID"], [{"event": "JOB_START", "eventData": {}}])
        for p in job["participatingServers"]:
            sid = p["sourceServerID"]
            if p["launchStatus"] in ("LAUNCHED", "FAILED"):
                status = p["launchStatus"]
            elif sid in self.fail:
                status = "FAILED"
            else:
                status = "LAUNCHED"
            p["launchStatus"] = status
            if status == "FAILED":
                self.logs[job["jobID"]].append(
                    {"event": "LAUNCH_FAILED", "eventData": {"sourceServerID": sid, "rawError": self.fail.get(sid)}})
            else:
                instance = self.targets.get(sid) or f"i-{next(self._instances):017x}"
                p["recoveryInstanceID"] = instance
                self.recovery_instances[sid] = {
                    "recoveryInstanceID": instance, "ec2InstanceID": instance, "sourceServerID": sid,
                    "jobID": job["jobID"], "isDrill": job["initiatedBy"] == "START_DRILL",
                }
            self.servers[sid]["lifeCycle"] = {"lastLaunch": {"initiated": {"jobID": job["jobID"]}, "status": status}}

    # -- API --
    def describe_source_servers(self, filters=None, **kwargs):
        self.calls.append(("describe_source_servers", filters))
        ids = (filters or {}).get("sourceServerIDs")
        items = [s for sid, s in self.servers.items() if ids is None or sid in ids]
        return {"items": items}

    def describe_jobs(self, filters=None, **kwargs):
        self.calls.append(("describe_jobs", filters))
        ids = (filters or {}).get("jobIDs")
        if ids:
            assert len(ids) <= 100
            for job_id in ids:
                job = self.jobs.get(job_id)
                if job and job["status"] != "COMPLETED":
                    self.job_age[job_id] += 1
                    if self.job_age[job_id] >= self.polls_to_complete:
                        self._finish(job)
            items = [self.jobs[j] for j in ids if j in self.jobs]
        else:
            items = list(self.jobs.values())
        return {"items": sorted(items, key=lambda j: j["creationDateTime"], reverse=True)}

    def start_recovery(self, sourceServers, isDrill=None, tags=None):
        ids = [s["sourceServerID"] for s in sourceServers]
        self.calls.append(("start_recovery", ids))
        if self.faults:
            raise self.faults.pop(0)
        if len(ids) > 100:
            raise _client_error("ServiceQuotaExceededException", "too many servers", 402)
        active = self._active()
        if len(active) + 1 > 20 or sum(len(j["participatingServers"]) for j in active) + len(ids) > 500:
            raise _client_error("ServiceQuotaExceededException", "quota", 402)
        busy = {p["sourceServerID"] for j in active for p in j["participatingServers"]}
        if busy & set(ids):
            raise _client_error("ConflictException", "One or more of the Source Servers included in API call "
                                "are currently being processed by a Job", 409)
        for sid in ids:
            if self.targets.get(sid) in self.running_targets:
                raise _client_error("ConflictException", f"Instance {self.targets[sid]} needs to be in a stopped "
                                    "state but is in a running state", 409, resourceId=self.targets[sid])
        job_id = self.add_job(ids, status="PENDING", tags=tags,
                              initiated_by="START_DRILL" if isDrill else "START_RECOVERY", launch_status="PENDING")
        active = self._active()
        self.max_active_seen = max(self.max_active_seen, len(active))
        self.max_servers_seen = max(self.max_servers_seen, sum(len(j["participatingServers"]) for j in active))
        if self.lose_response:
            self.lose_response = False
            raise ReadTimeoutError(endpoint_url="http://127.0.0.1/StartRecovery")
        return {"job": dict(self.jobs[job_id])}

    def describe_job_log_items(self, jobID, **kwargs):
        self.calls.append(("describe_job_log_items", jobID))
        return {"items": self.logs.get(jobID, [])}

    def describe_recovery_instances(self, filters=None, **kwargs):
        self.calls.append(("describe_recovery_instances", filters))
        ids = (filters or {}).get("sourceServerIDs")
        return {"items": [ri for sid, ri in self.recovery_instances.items() if ids is None or sid in ids]}

    def get_launch_configuration(self, sourceServerID):
        self.calls.append(("get_launch_configuration", sourceServerID))
        target = self.targets.get(sourceServerID)
        return {"sourceServerID": sourceServerID,
                "launchIntoInstanceProperties": {"launchIntoEC2InstanceID": target} if target else {}}

    def mutating_calls(self):
        return [c for c in self.calls if c[0] in MUTATING]


def instance_id_filter(filters):
    """The IDs of an ``instance-id`` filter, the way module_utils.ec2.describe_instances asks for instances."""
    return [value for f in filters or [] if f["Name"] == "instance-id" for value in f["Values"]]


class FakePaginator:
    """``get_paginator("describe_instances")``: one page, from the fake's describe_instances."""

    def __init__(self, describe):
        self.describe = describe

    def paginate(self, Filters=None):
        describe = self.describe

        class _Pages:
            def build_full_result(self):
                return describe(Filters=Filters)

        return _Pages()


class FakeEC2:
    def __init__(self):
        self.calls = []

    def get_paginator(self, name):
        assert name == "describe_instances"
        return FakePaginator(self.describe_instances)

    def describe_instances(self, InstanceIds=None, Filters=None):
        InstanceIds = InstanceIds or instance_id_filter(Filters)
        self.calls.append(("describe_instances", InstanceIds))
        return {"Reservations": [{"Instances": [
            {"InstanceId": i, "PrivateIpAddress": f"10.0.{n // 250}.{n % 250 + 1}", "State": {"Name": "running"}}
            for n, i in enumerate(InstanceIds)]}]}


def _servers(n, priorities=None, start=0):
    out = []
    for i in range(start, start + n):
        server = {"source_server_id": _sid(i), "hostname": f"host{i}"}
        if priorities:
            server["priority"] = priorities[i % len(priorities)]
        out.append(server)
    return out


def _group(fake, servers, run_id="exec-1", drill=True, **kwargs):
    clock = FakeClock()
    kwargs.setdefault("poll_interval", 1)
    return RecoveryGroup(fake, fake, FakeEC2(), "210987654321", "us-west-2", servers, run_id, drill,
                         sleep=clock.sleep, clock=clock, **kwargs), clock


# ---------------------------------------------------------------------------------------------
# The pure planner
# ---------------------------------------------------------------------------------------------

def test_plan_250_servers_three_chunks_critical_first():
    servers = _servers(250, priorities=["low", "medium", "high", "critical", "medium"])
    chunks = plan_batches(servers, [])
    assert [len(c["servers"]) for c in chunks] == [100, 100, 50]
    assert all(c["starts"] == "now" for c in chunks)
    ranks = [drs_jobs.priority_rank(s) for c in chunks for s in c["servers"]]
    assert ranks == sorted(ranks)
    assert all(s["priority"] == "critical" for s in chunks[0]["servers"][:50])
    # Input order is kept within one priority.
    criticals = [s["source_server_id"] for s in chunks[0]["servers"] if s["priority"] == "critical"]
    assert criticals == sorted(criticals)


def test_plan_counts_jobs_already_running():
    running = [{"jobID": f"drsjob-{i:017d}", "status": "STARTED",
                "participatingServers": [{"sourceServerID": _sid(1000 + i * 100 + k)} for k in range(90)]}
               for i in range(5)]  # 5 jobs, 450 servers
    chunks = plan_batches(_servers(120), running)
    assert [(len(c["servers"]), c["starts"]) for c in chunks] == [(50, "now"), (70, "when_capacity_frees")]


def test_plan_respects_twenty_active_jobs():
    running = [{"jobID": f"drsjob-{i:017d}", "status": "PENDING",
                "participatingServers": [{"sourceServerID": _sid(1000 + i)}]} for i in range(19)]
    running.append({"jobID": "drsjob-done0000000000000", "status": "COMPLETED",
                    "participatingServers": [{"sourceServerID": _sid(999)}]})
    chunks = plan_batches(_servers(150), running)
    assert [(len(c["servers"]), c["starts"]) for c in chunks] == [(100, "now"), (50, "when_capacity_frees")]


def test_plan_custom_limits_and_empty():
    assert plan_batches([], []) == []
    chunks = plan_batches(_servers(7), [], Limits(per_job=3, active_jobs=2, servers_in_active_jobs=5))
    assert [(len(c["servers"]), c["starts"]) for c in chunks] == [(3, "now"), (2, "now"), (2, "when_capacity_frees")]


@pytest.mark.parametrize("jobs,servers,expected", [(0, 0, 100), (19, 400, 100), (20, 0, 0), (3, 450, 50), (3, 500, 0)])
def test_next_chunk_size(jobs, servers, expected):
    assert next_chunk_size(jobs, servers, Limits()) == expected


# ---------------------------------------------------------------------------------------------
# Idempotency decisions
# ---------------------------------------------------------------------------------------------

def _job(job_id, servers, status="COMPLETED", run_id=None, initiated_by="START_DRILL", job_type="LAUNCH"):
    return {"jobID": job_id, "status": status, "type": job_type, "initiatedBy": initiated_by,
            "tags": {RUN_ID_TAG: run_id} if run_id else {},
            "participatingServers": [{"sourceServerID": s, "launchStatus": st} for s, st in servers]}


def test_classify_launch_adopt_done_blocked():
    a, b, c, d, e, f = (_sid(i) for i in range(6))
    jobs = [
        _job("drsjob-run00000000000001", [(a, "LAUNCHED"), (b, "FAILED")], run_id="exec-1"),
        _job("drsjob-act00000000000002", [(c, "IN_PROGRESS")], status="STARTED"),
        _job("drsjob-ter00000000000003", [(d, "PENDING")], status="STARTED", job_type="TERMINATE",
             initiated_by="TERMINATE_RECOVERY_INSTANCES"),
        _job("drsjob-old00000000000004", [(e, "LAUNCHED")], run_id="exec-0"),
    ]
    source = {f: {"lifeCycle": {"lastLaunch": {"initiated": {"jobID": "drsjob-run00000000000001"},
                                               "status": "LAUNCHED"}}}}
    jobs[0]["participatingServers"].append({"sourceServerID": f, "launchStatus": "PENDING"})
    decisions = classify([a, b, c, d, e, f], jobs, source, "exec-1", drill=True)
    assert {k: v["action"] for k, v in decisions.items()} == {
        a: "done", b: "launch", c: "adopt", d: "blocked", e: "launch", f: "done"}
    assert decisions[c]["job_id"] == "drsjob-act00000000000002"
    assert decisions[d]["job_id"] == "drsjob-ter00000000000003"


def test_classify_recovery_in_progress_blocks_a_drill():
    a = _sid(1)
    jobs = [_job("drsjob-rec00000000000001", [(a, "IN_PROGRESS")], status="STARTED", initiated_by="START_RECOVERY")]
    assert classify([a], jobs, {}, "exec-1", drill=True)[a]["action"] == "blocked"
    assert classify([a], jobs, {}, "exec-1", drill=False)[a]["action"] == "adopt"


# ---------------------------------------------------------------------------------------------
# The submitter and the poller against the fake DRS
# ---------------------------------------------------------------------------------------------

def test_250_servers_three_jobs_batched_polls():
    servers = _servers(250, priorities=["low", "critical", "medium", "high", "medium"])
    fake = FakeDRS([s["source_server_id"] for s in servers], polls_to_complete=2)
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    results = {r["source_server_id"]: r for r in group.collect(fake.get_launch_configuration)}
    starts = [c for c in fake.calls if c[0] == "start_recovery"]
    assert [len(c[1]) for c in starts] == [100, 100, 50]
    criticals = {s["source_server_id"] for s in servers if s["priority"] == "critical"}
    assert criticals <= set(starts[0][1])
    assert all(r["launch_status"] == "LAUNCHED" for r in results.values())
    assert all(r["private_ip"] for r in results.values())
    # Polls batch job IDs: never one DescribeJobs per server.
    polls = [c for c in fake.calls if c[0] == "describe_jobs" and (c[1] or {}).get("jobIDs")]
    assert all(len(c[1]["jobIDs"]) <= 100 for c in polls)
    assert len(polls) <= 4
    assert len(group.job_summaries()) == 3


def test_waits_for_capacity_before_next_chunk():
    servers = _servers(30)
    fake = FakeDRS([s["source_server_id"] for s in servers], polls_to_complete=3)
    group, _clock = _group(fake, servers, limits=Limits(per_job=10, active_jobs=2, servers_in_active_jobs=15))
    group.prepare()
    group.execute(wait=True)
    assert fake.max_active_seen <= 2
    assert fake.max_servers_seen <= 15
    assert not [c for c in fake.calls if c[0] == "start_recovery" and len(c[1]) > 10]
    assert all(j["status"] == "COMPLETED" for j in fake.jobs.values())
    assert len({sid for j in fake.jobs.values() for sid in drs_jobs.job_server_ids(j)}) == 30


def test_rerun_starts_nothing_for_servers_in_or_launched_by_this_run():
    servers = _servers(12)
    fake = FakeDRS([s["source_server_id"] for s in servers], polls_to_complete=5)
    first, _clock = _group(fake, servers, limits=Limits(per_job=5))
    first.prepare()
    first.execute(wait=False)  # killed after submission
    assert len(fake.jobs) == 3
    list(fake.jobs.values())[0]["status"] = "COMPLETED"
    for p in list(fake.jobs.values())[0]["participatingServers"]:
        p["launchStatus"] = "LAUNCHED"
    second, _clock = _group(fake, servers, limits=Limits(per_job=5))
    second.prepare()
    assert second.to_launch() == []
    before = len(fake.jobs)
    second.execute(wait=True)
    assert len(fake.jobs) == before
    results = second.collect()
    assert all(r["already_handled"] and r["launch_status"] == "LAUNCHED" for r in results)
    counts = {}
    for job in fake.jobs.values():
        for sid in drs_jobs.job_server_ids(job):
            counts[sid] = counts.get(sid, 0) + 1
    assert set(counts.values()) == {1}


def test_timeout_then_job_found_by_batch_tag_is_not_resubmitted():
    servers = _servers(3)
    fake = FakeDRS([s["source_server_id"] for s in servers])
    fake.lose_response = True
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    assert len([c for c in fake.calls if c[0] == "start_recovery"]) == 1
    assert len(fake.jobs) == 1
    assert group.started_jobs == list(fake.jobs)


def test_5xx_without_job_is_resubmitted_after_looking_for_it():
    servers = _servers(3)
    fake = FakeDRS([s["source_server_id"] for s in servers])
    fake.faults = [_client_error("InternalServerException", "boom", 500)]
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    assert len([c for c in fake.calls if c[0] == "start_recovery"]) == 2
    assert len(fake.jobs) == 1
    # After the 5xx the submitter looked for the job before sending again.
    index_5xx = fake.calls.index(("start_recovery", [s["source_server_id"] for s in servers]))
    assert fake.calls[index_5xx + 1][0] == "describe_jobs"


def test_throttling_that_reaches_the_submitter_is_not_resent_by_it():
    """Throttling is the client's retry policy's job; when it gives up, the chunk fails with that error."""
    servers = _servers(2)
    fake = FakeDRS([s["source_server_id"] for s in servers])
    fake.faults = [_client_error("ThrottlingException", "slow down", 429)]
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    assert len([c for c in fake.calls if c[0] == "start_recovery"]) == 1
    assert not fake.jobs
    assert set(group.failed) == {s["source_server_id"] for s in servers}


def test_conflict_adopts_the_job_of_this_run():
    servers = _servers(4)
    ids = [s["source_server_id"] for s in servers]
    fake = FakeDRS(ids)
    group, _clock = _group(fake, servers)
    group.prepare()
    # A job of this run appears between the read and the submission (another worker of the run).
    ours = fake.add_job(ids[:2], status="STARTED", tags={RUN_ID_TAG: "exec-1"})
    group.execute(wait=True)
    starts = [c[1] for c in fake.calls if c[0] == "start_recovery"]
    assert starts == [ids, ids[2:]]
    assert group.assignment[ids[0]] == ours
    counts = [sid for j in fake.jobs.values() for sid in drs_jobs.job_server_ids(j)]
    assert sorted(counts) == sorted(ids)


def test_running_target_fails_only_that_server():
    servers = _servers(8)
    ids = [s["source_server_id"] for s in servers]
    fake = FakeDRS(ids, targets={ids[5]: "i-0000000000000abcd"}, running_targets={"i-0000000000000abcd"})
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    results = {r["source_server_id"]: r for r in group.collect(fake.get_launch_configuration)}
    assert results[ids[5]]["launch_status"] == "FAILED"
    assert "stopped state" in results[ids[5]]["raw_error"]
    assert [r["launch_status"] for k, r in results.items() if k != ids[5]] == ["LAUNCHED"] * 7


def test_unnamed_conflict_is_isolated_by_splitting():
    servers = _servers(8)
    ids = [s["source_server_id"] for s in servers]
    fake = FakeDRS(ids, targets={ids[2]: "i-0000000000000beef"}, running_targets={"i-0000000000000beef"})
    original = fake.start_recovery

    def anonymous_conflict(**kwargs):
        try:
            return original(**kwargs)
        except ClientError as e:
            raise _client_error(drs_jobs.error_code(e), "Conflict", 409) from None

    fake.start_recovery = anonymous_conflict
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    results = {r["source_server_id"]: r for r in group.collect()}
    assert [k for k, r in results.items() if r["launch_status"] == "FAILED"] == [ids[2]]
    assert sum(1 for r in results.values() if r["launch_status"] == "LAUNCHED") == 7


def test_failed_launch_reports_raw_error_from_job_log():
    servers = _servers(3)
    ids = [s["source_server_id"] for s in servers]
    fake = FakeDRS(ids, fail={ids[1]: "instance not launched because server lifecycle state is not READY_FOR_TEST"})
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    results = {r["source_server_id"]: r for r in group.collect()}
    assert results[ids[1]]["launch_status"] == "FAILED"
    assert "READY_FOR_TEST" in results[ids[1]]["raw_error"]
    assert results[ids[0]]["raw_error"] is None
    assert len([c for c in fake.calls if c[0] == "describe_job_log_items"]) == 1


def test_launched_into_target_compares_with_launch_configuration():
    servers = _servers(2)
    ids = [s["source_server_id"] for s in servers]
    servers[1]["target_instance_id"] = "i-00000000000000999"  # expected, but DRS launched elsewhere
    fake = FakeDRS(ids, targets={ids[0]: "i-0000000000000f00d"})
    group, _clock = _group(fake, servers)
    group.prepare()
    group.execute(wait=True)
    results = {r["source_server_id"]: r for r in group.collect(fake.get_launch_configuration)}
    assert results[ids[0]]["ec2_instance_id"] == "i-0000000000000f00d"
    assert results[ids[0]]["launched_into_target"] is True
    assert results[ids[1]]["launched_into_target"] is False


def test_prepare_makes_no_mutating_call_and_names_missing_servers():
    servers = _servers(3)
    fake = FakeDRS([s["source_server_id"] for s in servers[:2]])
    group, _clock = _group(fake, servers)
    with pytest.raises(drs_jobs.DRSError, match=servers[2]["source_server_id"]):
        group.prepare()
    fake = FakeDRS([s["source_server_id"] for s in servers])
    group, _clock = _group(fake, servers)
    group.prepare()
    chunks, skipped = group.plan_summary()
    assert chunks[0]["source_server_ids"] == [s["source_server_id"] for s in servers]
    assert skipped == []
    assert fake.mutating_calls() == []


def test_timeout_marks_unfinished():
    servers = _servers(2)
    fake = FakeDRS([s["source_server_id"] for s in servers], polls_to_complete=1000)
    group, clock = _group(fake, servers)
    group.deadline = clock() + 5
    group.prepare()
    group.execute(wait=True)
    assert group.timed_out
    assert group.unfinished() == [s["source_server_id"] for s in servers]


class _Failed(Exception):
    pass


class _Module:
    """Records how the module would fail, and stops like fail_json does."""

    def __init__(self):
        self.failure = None

    def fail_json(self, msg, **kwargs):
        self.failure = {"msg": msg, "exception": None}
        raise _Failed(msg)

    def fail_json_aws(self, exception, msg, **kwargs):
        self.failure = {"msg": msg, "exception": exception}
        raise _Failed(msg)


def test_read_each_location_concatenates_in_location_order():
    locations = drs_jobs.read_locations({"regions": ["us-east-1", "us-west-2", "us-east-1"],
                                         "accounts": [{"account_id": "111111111111"}, {"account_id": "222222222222"}]})
    assert locations == [("111111111111", "us-east-1"), ("111111111111", "us-west-2"),
                         ("222222222222", "us-east-1"), ("222222222222", "us-west-2")]
    found = drs_jobs.read_each_location(_Module(), locations, lambda account, region: [f"{account}/{region}"], "x")
    assert found == [f"{a}/{r}" for a, r in locations]


def test_read_locations_defaults_to_module_credentials_and_region():
    assert drs_jobs.read_locations({}, "eu-west-1") == [(None, "eu-west-1")]
    assert drs_jobs.read_locations({"account_ids": ["333333333333"], "region": "us-east-2"}) == [
        ("333333333333", "us-east-2")]


@pytest.mark.parametrize("error, expected", [
    (drs_jobs.AccountAccessError("222222222222", "AccessDenied on sts:AssumeRole"),
     "Could not reach account 222222222222, region us-west-2: AccessDenied on sts:AssumeRole. Fix: check the "
     "account's role_arn"),
    (ClientError({"Error": {"Code": "UninitializedAccountException", "Message": "not initialized"}}, "DescribeJobs"),
     "DRS is not initialized in account 222222222222, region us-west-2. Fix: initialize the service"),
    (ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeJobs"),
     "Could not read DRS jobs in account 222222222222, region us-west-2"),
])
def test_read_each_location_names_the_failed_location_and_the_fix(error, expected):
    calls = []

    def read(account, region):
        calls.append((account, region))
        if (account, region) == ("222222222222", "us-west-2"):
            raise error
        return [account]

    module = _Module()
    locations = [("111111111111", "us-west-2"), ("222222222222", "us-west-2")]
    with pytest.raises(_Failed):
        drs_jobs.read_each_location(module, locations, read, "DRS jobs")
    assert module.failure["msg"].startswith(expected)
    assert sorted(calls) == locations  # every location was read before failing: nothing left running


def test_read_each_location_does_not_hide_programming_errors():
    def read(account, region):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        drs_jobs.read_each_location(_Module(), [(None, "us-east-1")], read, "DRS jobs")
