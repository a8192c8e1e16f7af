"""Unit tests of the DRS emulator through its in-process interface (no HTTP): routing, error shapes,
model-driven validation, pagination, settings and the job clock."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote

import pytest

from sandbox import drs
from sandbox.drs import backend
from sandbox.drs.state import iso_duration
from sandbox.drs.state import parse_iso

ACCOUNT = "111122223333"
REGION = "us-west-2"


@pytest.fixture(autouse=True)
def fresh():
    drs.reset()
    yield
    drs.reset()


def call(operation_path, body=None, method="POST", query="", account=ACCOUNT, region=REGION):
    payload = json.dumps(body).encode() if body is not None else b""
    status, headers, out, operation = drs.handle(method, operation_path, query, {}, payload, account, region)
    return status, headers, (json.loads(out) if out else None), operation


def init(account=ACCOUNT, region=REGION):
    status, _h, body, _op = call("/InitializeService", {}, account=account, region=region)
    assert status == 204 and body is None


def test_unknown_route_and_wrong_method_answer_404():
    status, headers, body, operation = call("/NoSuchOperation", {})
    assert (status, operation, body) == (404, "Unknown", {"message": "Not Found"})
    assert headers["x-amzn-ErrorType"]
    status, _h, _b, _op = call("/StartRecovery", method="GET")
    assert status == 404


def test_uninitialized_error_shape():
    status, headers, body, operation = call("/DescribeJobs", {})
    assert status == 400 and operation == "DescribeJobs"
    assert headers["x-amzn-ErrorType"] == "UninitializedAccountException"
    assert headers["Content-Type"] == "application/json" and headers["x-amzn-RequestId"]
    assert ACCOUNT in body["message"]


def test_malformed_json_is_a_cannot_parse_validation_error():
    init()
    status, _h, _b, _op = drs.handle("POST", "/DescribeJobs", "", {}, b"{not json", ACCOUNT, REGION)
    assert status == 400
    status, headers, out, _op = drs.handle("POST", "/DescribeJobs", "", {}, b"[1]", ACCOUNT, REGION)
    assert headers["x-amzn-ErrorType"] == "ValidationException" and json.loads(out)["reason"] == "cannotParse"


@pytest.mark.parametrize("path,body,field", [
    ("/GetLaunchConfiguration", {}, "sourceServerID"),
    ("/GetLaunchConfiguration", {"sourceServerID": 5}, "sourceServerID"),
    ("/StartRecovery", {"sourceServers": "s-0123456789abcdef0"}, "sourceServers"),
    ("/StartRecovery", {"sourceServers": [{"sourceServerID": "s-0123456789abcdef0"}], "isDrill": "yes"}, "isDrill"),
    ("/StartRecovery", {"sourceServers": [{"sourceServerID": "s-0123456789abcdef0",
                                           "recoverySnapshotID": "snap-1234567890abcdef0"}]},
     "sourceServers[0].recoverySnapshotID"),
    ("/StartRecovery", {"sourceServers": [{"sourceServerID": "s-0123456789abcdef0"}], "tags": {"k" * 257: "v"}},
     "tags.key"),
    ("/UpdateLaunchConfiguration", {"sourceServerID": "s-0123456789abcdef0",
                                    "launchIntoInstanceProperties": {"launchIntoEC2InstanceID": "vol-123"}},
     "launchIntoInstanceProperties.launchIntoEC2InstanceID"),
    ("/UpdateLaunchConfiguration", {"sourceServerID": "s-0123456789abcdef0", "recoveryMode": "SLOW"},
     "recoveryMode"),
    ("/DescribeJobs", {"filters": {"jobIDs": ["job-1"]}}, "filters.jobIDs[0]"),
    ("/DescribeJobs", {"maxResults": 0}, "maxResults"),
])
def test_model_constraints_name_the_failing_field(path, body, field):
    init()
    status, headers, out, _op = call(path, body)
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    assert out["reason"] == "fieldValidationFailed"
    assert out["fieldList"][0]["name"] == field, out


def test_query_string_members_are_validated():
    init()
    status, _h, out, op = call("/ListStagingAccounts", method="GET", query="maxResults=0")
    assert op == "ListStagingAccounts" and status == 400 and out["fieldList"][0]["name"] == "maxResults"
    status, _h, out, _op = call("/ListStagingAccounts", method="GET", query="maxResults=abc")
    assert status == 400
    status, _h, out, _op = call("/ListStagingAccounts", method="GET", query="maxResults=10")
    assert status == 200 and out == {"accounts": []}


def test_tags_are_addressed_by_url_encoded_arn():
    init()
    server = drs.seed_source_server(ACCOUNT, REGION, {"hostname": "web01", "tags": {"a": "1"}})
    encoded = "/tags/" + quote(server["arn"], safe="")
    status, _h, out, op = call(encoded, method="GET")
    assert (status, op, out) == (200, "ListTagsForResource", {"tags": {"a": "1"}})
    status, _h, out, op = call(encoded, {"tags": {"b": "2"}})
    assert (status, op, out) == (200, "TagResource", None)
    status, _h, out, op = call("/tags/" + server["arn"], method="DELETE", query="tagKeys=a&tagKeys=zz")
    assert (status, op) == (200, "UntagResource")
    assert call(encoded, method="GET")[2] == {"tags": {"b": "2"}}
    status, headers, _out, _op = call(encoded, method="GET", account="444455556666")
    assert status == 404 and headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    status, _h, out, _op = call(encoded, {"tags": {f"k{i}": "v" for i in range(50)}})
    assert status == 400 and out["fieldList"][0]["name"] == "tags"


def test_pagination_tokens_are_bound_to_their_operation():
    init()
    for index in range(3):
        drs.seed_source_server(ACCOUNT, REGION, {"hostname": f"h{index}"})
    _s, _h, first, _op = call("/DescribeSourceServers", {"maxResults": 2})
    assert len(first["items"]) == 2 and first["nextToken"]
    _s, _h, second, _op = call("/DescribeSourceServers", {"maxResults": 2, "nextToken": first["nextToken"]})
    assert len(second["items"]) == 1 and "nextToken" not in second
    status, _h, out, _op = call("/DescribeJobs", {"nextToken": first["nextToken"]})
    assert status == 400 and out["fieldList"][0]["name"] == "nextToken"
    status, _h, out, _op = call("/DescribeSourceServers", {"nextToken": "garbage"})
    assert status == 400


def test_job_state_machine_follows_the_clock_without_threads():
    init()
    drs.configure(time_scale=1.0)
    server = drs.seed_source_server(ACCOUNT, REGION, {"hostname": "app01"})
    status, _h, out, _op = call("/StartRecovery", {"sourceServers": [{"sourceServerID": server["sourceServerID"]}]})
    assert status == 202 and out["job"]["status"] == "PENDING"
    job_id = out["job"]["jobID"]
    _s, _h, jobs, _op = call("/DescribeJobs", {})
    assert jobs["items"][0]["status"] == "PENDING"
    backend.advance(time.time() + 1.5)  # past PENDING, inside conversion
    job = drs.jobs_snapshot(ACCOUNT, REGION)[0]
    assert job["status"] == "STARTED" and job["participatingServers"][0]["launchStatus"] == "IN_PROGRESS"
    backend.advance(time.time() + 60)
    _s, _h, jobs, _op = call("/DescribeJobs", {"filters": {"jobIDs": [job_id]}})
    job = jobs["items"][0]
    assert job["status"] == "COMPLETED" and job["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    assert parse_iso(job["endDateTime"]) > parse_iso(job["creationDateTime"])
    _s, _h, log, _op = call("/DescribeJobLogItems", {"jobID": job_id})
    times = [parse_iso(item["logDateTime"]) for item in log["items"]]
    assert times == sorted(times) and log["items"][-1]["event"] == "JOB_END"
    status, headers, _out, _op = call("/DescribeJobLogItems", {"jobID": "drsjob-0123456789abcdef0"})
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    status, _h, out, _op = call("/DeleteJob", {"jobID": job_id})
    assert status == 204 and out is None


def test_active_job_cannot_be_deleted():
    init()
    drs.configure(time_scale=100)
    server = drs.seed_source_server(ACCOUNT, REGION, {"hostname": "app01"})
    _s, _h, out, _op = call("/StartRecovery", {"sourceServers": [{"sourceServerID": server["sourceServerID"]}]})
    status, headers, body, _op = call("/DeleteJob", {"jobID": out["job"]["jobID"]})
    assert status == 409 and headers["x-amzn-ErrorType"] == "ConflictException"
    assert body["resourceId"] == out["job"]["jobID"]


def test_quota_limits_are_settings():
    init()
    drs.configure(time_scale=100, max_servers_per_job=2)
    ids = [drs.seed_source_server(ACCOUNT, REGION, {"hostname": f"h{i}"})["sourceServerID"] for i in range(3)]
    status, headers, body, _op = call("/StartRecovery", {"sourceServers": [{"sourceServerID": i} for i in ids]})
    assert status == 402 and headers["x-amzn-ErrorType"] == "ServiceQuotaExceededException"
    assert body["quotaCode"] == "L-B827C881"


def test_token_bucket_and_retry_after():
    init()
    drs.configure(rate_limit_rps=0.5, rate_limit_burst=2)
    statuses = [call("/DescribeJobs", {})[0] for _attempt in range(4)]
    assert statuses[:1] == [200] and 429 in statuses
    status, headers, body, _op = call("/DescribeJobs", {})
    assert status == 429 and headers["x-amzn-ErrorType"] == "ThrottlingException"
    assert headers["Retry-After"] == "2" and body["retryAfterSeconds"] == "2"
    # Buckets are per account and region.
    assert call("/InitializeService", {}, region="eu-west-1")[0] == 204


def test_settings_round_trip_and_reject_unknown_names():
    defaults = drs.get_settings()
    assert defaults["time_scale"] == 1.0 and defaults["rate_limit_rps"] == 200.0
    drs.configure(time_scale=60, launch_failures=["web01"])
    assert drs.get_settings()["time_scale"] == 60 and drs.get_settings()["launch_failures"] == ["web01"]
    with pytest.raises(ValueError):
        drs.configure(timescale=2)
    drs.reset()
    assert drs.get_settings() == defaults


def test_seed_spec_checks_and_shape():
    with pytest.raises(ValueError):
        drs.seed_source_server(ACCOUNT, REGION, {})
    with pytest.raises(ValueError):
        drs.seed_source_server(ACCOUNT, REGION, {"hostname": "x", "architecture": "sparc"})
    item = drs.seed_source_server(ACCOUNT, REGION, {
        "hostname": "db01", "source_instance_id": "i-0123456789abcdef0", "origin_region": "us-east-1",
        "private_ip": "10.0.0.9", "replication_state": "BACKLOG", "lag_seconds": 3725, "os": "windows",
        "staging_account_id": "999988887777", "tags": {"Customer": "acme"}, "initialize": False})
    assert item["sourceServerID"].startswith("s-") and len(item["sourceServerID"]) == 19
    assert item["dataReplicationInfo"]["dataReplicationState"] == "BACKLOG"
    assert item["dataReplicationInfo"]["lagDuration"] == "PT1H2M5S"
    assert item["sourceProperties"]["identificationHints"]["awsInstanceID"] == "i-0123456789abcdef0"
    assert item["sourceProperties"]["networkInterfaces"][0]["ips"] == ["10.0.0.9"]
    assert item["sourceCloudProperties"]["originRegion"] == "us-east-1"
    assert item["stagingArea"] == {"status": "EXTENDED", "stagingAccountID": "999988887777",
                                   "stagingSourceServerArn": item["arn"].replace(ACCOUNT, "999988887777")}
    assert "Windows" in item["sourceProperties"]["os"]["fullString"]
    # initialize=False leaves the service uninitialized.
    assert call("/DescribeSourceServers", {})[0] == 400


def test_iso_durations():
    assert iso_duration(0) == "P0D"
    assert iso_duration(12) == "PT12S"
    assert iso_duration(660) == "PT11M"
    assert iso_duration(2 * 86400 + 3600 + 5) == "P2DT1H5S"
    assert iso_duration(None) is None


def test_concurrent_requests_are_serialized_safely():
    init()
    drs.configure(time_scale=0.01)
    ids = [drs.seed_source_server(ACCOUNT, REGION, {"hostname": f"t{i}"})["sourceServerID"] for i in range(8)]
    errors = []

    def worker(server_id):
        try:
            for _attempt in range(10):
                status, _h, _b, _op = call("/StartRecovery", {"sourceServers": [{"sourceServerID": server_id}],
                                                              "isDrill": True})
                assert status in (202, 409)
                assert call("/DescribeSourceServers", {})[0] == 200
                assert call("/DescribeRecoveryInstances", {})[0] == 200
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    backend.advance(time.time() + 60)
    jobs = drs.jobs_snapshot(ACCOUNT, REGION)
    assert jobs and all(job["status"] == "COMPLETED" for job in jobs)
