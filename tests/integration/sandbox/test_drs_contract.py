"""Contract tests of the DRS emulator with plain boto3: wire format, validation, quotas, the job state
machine, launch into pre-provisioned instances, reverse replication and failback, throttling and
account isolation. EC2 effects are asserted through the EC2 API."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from sandbox import drs
from tests.integration.sandbox._drs_harness import Harness

HUB = "123456789012"
WORKLOAD_A = "210987654321"
PRIMARY = "us-east-1"
DR = "us-west-2"
FAST = 0.05


@pytest.fixture(scope="module")
def harness():
    instance = Harness()
    yield instance
    instance.close()


@pytest.fixture()
def env(harness):
    drs.reset()
    drs.configure(time_scale=FAST)
    yield harness
    drs.reset()


@pytest.fixture()
def client(env):
    c = env.client("drs", DR)
    c.initialize_service()
    return c


@pytest.fixture(scope="module")
def linux_ami(harness):
    images = harness.client("ec2", DR).describe_images(Owners=["amazon"])["Images"]
    return next(i["ImageId"] for i in images if i.get("Platform") != "windows" and i["Architecture"] == "x86_64")


def error_of(excinfo) -> dict:
    return excinfo.value.response


def wait_job(client, job_id, timeout=10.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        if job["status"] == "COMPLETED":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not complete in {timeout} s")


def make_target(ec2, ami, name, stop=True, tagged=True):
    tags = [{"Key": "Name", "Value": name}]
    if tagged:
        tags.append({"Key": "AWSDRS", "Value": "AllowLaunchingIntoThisInstance"})
    instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.small",
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])["Instances"][0]
    if stop:
        ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    volumes = [m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]]
    return instance["InstanceId"], instance["PrivateIpAddress"], volumes


def describe_instance(ec2, instance_id) -> dict:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def seed(hostname, account=HUB, region=DR, **spec):
    return drs.seed_source_server(account, region, {"hostname": hostname, **spec})


def job_log(client, job_id) -> list[dict]:
    return client.get_paginator("describe_job_log_items").paginate(jobID=job_id).build_full_result()["items"]


# --- service initialization and isolation ----------------------------------------------------------------

def test_uninitialized_account_until_initialize_service(env):
    c = env.client("drs", DR)
    for call in (c.describe_source_servers, c.describe_jobs, c.describe_recovery_instances,
                 c.list_staging_accounts, c.describe_launch_configuration_templates):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)["Error"]["Code"] == "UninitializedAccountException"
        assert error_of(excinfo)["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(c.exceptions.UninitializedAccountException):
        c.start_recovery(sourceServers=[{"sourceServerID": "s-0123456789abcdef0"}])
    seed("web01", initialize=False)
    with pytest.raises(c.exceptions.UninitializedAccountException):
        c.describe_source_servers()
    assert c.initialize_service()["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [s["sourceServerID"] for s in c.describe_source_servers()["items"]]
    # Another region of the same account is still uninitialized.
    with pytest.raises(c.exceptions.UninitializedAccountException):
        env.client("drs", PRIMARY).describe_source_servers()


def test_account_b_never_sees_account_a(env):
    a = env.client("drs", DR)
    a.initialize_service()
    seed("app-a1")
    b = env.client("drs", DR, **env.assume(WORKLOAD_A))
    with pytest.raises(b.exceptions.UninitializedAccountException):
        b.describe_source_servers()
    b.initialize_service()
    assert b.describe_source_servers()["items"] == []
    server_b = seed("app-b1", account=WORKLOAD_A)
    seen_b = [s["sourceServerID"] for s in b.describe_source_servers()["items"]]
    seen_a = [s["sourceServerID"] for s in a.describe_source_servers()["items"]]
    assert seen_b == [server_b["sourceServerID"]]
    assert server_b["sourceServerID"] not in seen_a and len(seen_a) == 1
    assert server_b["arn"].split(":")[4] == WORKLOAD_A
    # A's caller cannot read or launch B's server by ID.
    with pytest.raises(a.exceptions.ResourceNotFoundException):
        a.get_launch_configuration(sourceServerID=server_b["sourceServerID"])
    with pytest.raises(a.exceptions.ConflictException):
        a.start_recovery(sourceServers=[{"sourceServerID": server_b["sourceServerID"]}])
    with pytest.raises(a.exceptions.ResourceNotFoundException):
        a.list_tags_for_resource(resourceArn=server_b["arn"])


# --- validation from the model ---------------------------------------------------------------------------

def test_pattern_enum_and_length_violations_name_the_field(client):
    server = seed("web01")
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.update_launch_configuration(sourceServerID=server["sourceServerID"], launchDisposition="SOMETIMES")
    body = error_of(excinfo)
    assert body["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert body["reason"] == "fieldValidationFailed"
    assert body["fieldList"][0]["name"] == "launchDisposition"
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.start_recovery(sourceServers=[{"sourceServerID": "s-!!!!!!!!!!!!!!!!!"}])
    assert error_of(excinfo)["fieldList"][0]["name"] == "sourceServers[0].sourceServerID"
    assert "pattern" in error_of(excinfo)["fieldList"][0]["message"]
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.start_recovery(sourceServers=[{"sourceServerID": server["sourceServerID"]}] * 201)
    assert error_of(excinfo)["fieldList"][0]["name"] == "sourceServers"
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.list_staging_accounts(maxResults=51)  # query-string member, model max 50
    assert error_of(excinfo)["fieldList"][0]["name"] == "maxResults"
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.describe_jobs(filters={"fromDate": "2024-01-01T00:00:00+00:00"})
    assert error_of(excinfo)["fieldList"][0]["name"] == "filters.fromDate"


def test_launch_into_requires_copy_settings_off_and_a_tagged_compatible_target(client, env, linux_ami):
    ec2 = env.client("ec2", DR)
    server = seed("db01", source_instance_id="i-0aaaaaaaaaaaaaaa1")
    sid = server["sourceServerID"]
    tagged, _ip, _vols = make_target(ec2, linux_ami, "db01")
    untagged, _ip, _vols = make_target(ec2, linux_ami, "db01", tagged=False)
    client.update_launch_configuration(sourceServerID=sid, copyPrivateIp=True)
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.update_launch_configuration(sourceServerID=sid,
                                           launchIntoInstanceProperties={"launchIntoEC2InstanceID": tagged})
    assert error_of(excinfo)["fieldList"][0]["name"] == "copyPrivateIp"
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.update_launch_configuration(sourceServerID=sid, copyPrivateIp=False,
                                           launchIntoInstanceProperties={"launchIntoEC2InstanceID": untagged})
    assert "AWSDRS=AllowLaunchingIntoThisInstance" in error_of(excinfo)["Error"]["Message"]
    with pytest.raises(client.exceptions.ValidationException):
        client.update_launch_configuration(sourceServerID=sid, copyPrivateIp=False,
                                           launchIntoInstanceProperties={"launchIntoEC2InstanceID": "i-0123456789"})
    arm = seed("arm01", architecture="arm64")
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.update_launch_configuration(sourceServerID=arm["sourceServerID"],
                                           launchIntoInstanceProperties={"launchIntoEC2InstanceID": tagged})
    assert "Architecture" in error_of(excinfo)["Error"]["Message"]
    config = client.update_launch_configuration(
        sourceServerID=sid, copyPrivateIp=False, copyTags=False, targetInstanceTypeRightSizingMethod="NONE",
        launchIntoInstanceProperties={"launchIntoEC2InstanceID": tagged})
    assert config["launchIntoInstanceProperties"] == {"launchIntoEC2InstanceID": tagged}
    assert client.get_launch_configuration(sourceServerID=sid)["launchIntoInstanceProperties"] == {
        "launchIntoEC2InstanceID": tagged}
    # Clearing the property: an empty structure.
    cleared = client.update_launch_configuration(sourceServerID=sid, launchIntoInstanceProperties={})
    assert cleared["launchIntoInstanceProperties"] == {}


# --- quotas and conflicts --------------------------------------------------------------------------------

def test_more_than_100_servers_in_one_job_is_a_quota_error(client):
    ids = [seed(f"bulk{i:03d}")["sourceServerID"] for i in range(101)]
    with pytest.raises(client.exceptions.ServiceQuotaExceededException) as excinfo:
        client.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids], isDrill=True)
    body = error_of(excinfo)
    assert body["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert body["quotaCode"] == "L-B827C881" and body["serviceCode"] == "drs"
    assert client.describe_jobs()["items"] == []
    job = client.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids[:100]], isDrill=True)["job"]
    assert len(job["participatingServers"]) == 100


def test_21st_concurrent_job_and_500_servers_in_active_jobs_are_refused(client):
    drs.configure(time_scale=100)  # jobs stay PENDING for the whole test
    ids = [seed(f"q{i:03d}")["sourceServerID"] for i in range(501)]
    for index in range(5):
        client.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids[index * 100:(index + 1) * 100]],
                              isDrill=True)
    with pytest.raises(client.exceptions.ServiceQuotaExceededException) as excinfo:
        client.start_recovery(sourceServers=[{"sourceServerID": ids[500]}], isDrill=True)
    assert error_of(excinfo)["quotaCode"] == "L-05AFA8C6"
    drs.reset()
    drs.configure(time_scale=100)
    client.initialize_service()
    ids = [seed(f"c{i:02d}")["sourceServerID"] for i in range(21)]
    for server_id in ids[:20]:
        client.start_recovery(sourceServers=[{"sourceServerID": server_id}], isDrill=True)
    with pytest.raises(client.exceptions.ServiceQuotaExceededException) as excinfo:
        client.start_recovery(sourceServers=[{"sourceServerID": ids[20]}], isDrill=True)
    assert error_of(excinfo)["quotaCode"] == "L-D88FAC3A"
    assert len(client.describe_jobs()["items"]) == 20


def test_server_already_in_an_active_job_is_a_conflict_naming_it(client):
    drs.configure(time_scale=100)
    busy = seed("busy01")["sourceServerID"]
    free = seed("free01")["sourceServerID"]
    client.start_recovery(sourceServers=[{"sourceServerID": busy}], isDrill=True)
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.start_recovery(sourceServers=[{"sourceServerID": free}, {"sourceServerID": busy}], isDrill=True)
    body = error_of(excinfo)
    assert body["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert body["resourceId"] == busy and busy in body["Error"]["Message"]
    assert "currently being processed by a Job" in body["Error"]["Message"]
    # StartRecovery has no client token: a second call for a free server is a second job.
    first = client.start_recovery(sourceServers=[{"sourceServerID": free}])["job"]
    assert first["initiatedBy"] == "START_RECOVERY"
    assert len(client.describe_jobs()["items"]) == 2


# --- launches --------------------------------------------------------------------------------------------

def test_launch_into_a_running_target_fails_with_raw_error(client, env, linux_ami):
    ec2 = env.client("ec2", DR)
    sid = seed("app01", source_instance_id="i-0aaaaaaaaaaaaaaa2")["sourceServerID"]
    target, _ip, volumes = make_target(ec2, linux_ami, "app01")
    client.update_launch_configuration(sourceServerID=sid, launchIntoInstanceProperties={
        "launchIntoEC2InstanceID": target})
    ec2.start_instances(InstanceIds=[target])
    job = client.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=False)["job"]
    done = wait_job(client, job["jobID"])
    assert done["status"] == "COMPLETED"
    assert done["participatingServers"][0]["launchStatus"] == "FAILED"
    failures = [item for item in job_log(client, job["jobID"]) if item["event"] == "LAUNCH_FAILED"]
    assert failures and "stopped state but is in a running state" in failures[0]["eventData"]["rawError"]
    assert failures[0]["eventData"]["sourceServerID"] == sid
    server = client.describe_source_servers(filters={"sourceServerIDs": [sid]})["items"][0]
    assert server["lastLaunchResult"] == "FAILED"
    assert server["lifeCycle"]["lastLaunch"]["status"] == "FAILED"
    assert client.describe_recovery_instances()["items"] == []
    # The target was not touched.
    instance = describe_instance(ec2, target)
    assert [m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]] == volumes


def test_launch_into_stopped_tagged_target_keeps_instance_id_and_private_ip(client, env, linux_ami):
    ec2 = env.client("ec2", DR)
    seeded = seed("web01", source_instance_id="i-0aaaaaaaaaaaaaaa3", private_ip="10.10.0.5", disks=[8, 20],
                  tags={"Customer": "acme"})
    sid = seeded["sourceServerID"]
    target, private_ip, old_volumes = make_target(ec2, linux_ami, "WEB01 ")
    client.update_launch_configuration(sourceServerID=sid, targetInstanceTypeRightSizingMethod="NONE",
                                       launchIntoInstanceProperties={"launchIntoEC2InstanceID": target})
    response = client.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True, tags={"run": "r1"})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    job = response["job"]
    assert job["status"] == "PENDING" and job["type"] == "LAUNCH" and job["initiatedBy"] == "START_DRILL"
    assert job["participatingServers"] == [{"sourceServerID": sid, "launchStatus": "PENDING"}]
    done = wait_job(client, job["jobID"])
    assert done["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    assert done["participatingServers"][0]["recoveryInstanceID"] == target
    assert done["tags"] == {"run": "r1"} and "endDateTime" in done
    events = [item["event"] for item in job_log(client, job["jobID"])]
    assert events == ["JOB_START", "SNAPSHOT_START", "SNAPSHOT_END", "CONVERSION_START", "CONVERSION_END",
                      "LAUNCH_START", "LAUNCH_END", "JOB_END"]
    instance = describe_instance(ec2, target)
    assert instance["State"]["Name"] == "running"
    assert instance["PrivateIpAddress"] == private_ip
    new_volumes = [m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]]
    assert len(new_volumes) == 2 and not set(new_volumes) & set(old_volumes)
    old = ec2.describe_volumes(VolumeIds=old_volumes)["Volumes"]
    assert {v["State"] for v in old} == {"available"} and all(not v.get("Attachments") for v in old)
    recovery = client.describe_recovery_instances(filters={"sourceServerIDs": [sid]})["items"]
    assert len(recovery) == 1
    ri = recovery[0]
    assert ri["recoveryInstanceID"] == ri["ec2InstanceID"] == target
    assert ri["isDrill"] is True and ri["jobID"] == job["jobID"] and ri["ec2InstanceState"] == "RUNNING"
    assert ri["originEnvironment"] == "AWS" and ri["originAvailabilityZone"] == "us-east-1a"
    assert ri["failback"]["state"] == "FAILBACK_NOT_READY_FOR_LAUNCH"
    assert ri["dataReplicationInfo"]["dataReplicationState"] == "NOT_STARTED"
    server = client.describe_source_servers(filters={"sourceServerIDs": [sid]})["items"][0]
    assert server["lastLaunchResult"] == "SUCCEEDED" and server["recoveryInstanceId"] == target
    assert server["lifeCycle"]["lastLaunch"] == {
        "initiated": {"apiCallDateTime": job["creationDateTime"], "jobID": job["jobID"], "type": "DRILL"},
        "status": "LAUNCHED"}


def test_new_instance_launch_creates_a_running_instance(client, env):
    ec2 = env.client("ec2", DR)
    sid = seed("api01", tags={"Customer": "acme", "Name": "api01"})["sourceServerID"]
    client.update_launch_configuration(sourceServerID=sid, copyTags=True)
    job = client.start_recovery(sourceServers=[{"sourceServerID": sid}])["job"]
    done = wait_job(client, job["jobID"])
    instance_id = done["participatingServers"][0]["recoveryInstanceID"]
    instance = describe_instance(ec2, instance_id)
    assert instance["State"]["Name"] == "running"
    tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    assert tags["Customer"] == "acme" and tags["AWSElasticDisasterRecoverySourceServerID"] == sid
    ri = client.describe_recovery_instances()["items"][0]
    assert ri["ec2InstanceID"] == instance_id and ri["isDrill"] is False and ri["tags"]["Customer"] == "acme"
    # A second launch of the same server cleans up the first recovery instance.
    second = wait_job(client, client.start_recovery(sourceServers=[{"sourceServerID": sid}])["job"]["jobID"])
    assert "CLEANUP_START" in [item["event"] for item in job_log(client, second["jobID"])]
    assert describe_instance(ec2, instance_id)["State"]["Name"] == "terminated"
    assert [r["ec2InstanceID"] for r in client.describe_recovery_instances()["items"]] == [
        second["participatingServers"][0]["recoveryInstanceID"]]


def test_injected_launch_failure_and_not_ready_server(client):
    failing = seed("flaky01")["sourceServerID"]
    syncing = seed("new01", replication_state="INITIAL_SYNC")["sourceServerID"]
    drs.configure(launch_failures=["flaky01"])
    job = client.start_recovery(sourceServers=[{"sourceServerID": failing}, {"sourceServerID": syncing}])["job"]
    done = wait_job(client, job["jobID"])
    assert {p["launchStatus"] for p in done["participatingServers"]} == {"FAILED"}
    raw = {i["eventData"]["sourceServerID"]: i["eventData"]["rawError"] for i in job_log(client, job["jobID"])
           if i["event"] == "LAUNCH_FAILED"}
    assert "InsufficientInstanceCapacity" in raw[failing]
    assert "READY_FOR_TEST" in raw[syncing]


def test_terminate_recovery_instances_job(client, env):
    ec2 = env.client("ec2", DR)
    sid = seed("tmp01")["sourceServerID"]
    launch = client.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True)["job"]
    done = wait_job(client, launch["jobID"])
    ri = done["participatingServers"][0]["recoveryInstanceID"]
    job = client.terminate_recovery_instances(recoveryInstanceIDs=[ri])["job"]
    assert job["type"] == "TERMINATE" and job["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
    assert job["participatingServers"] == [{"sourceServerID": sid, "recoveryInstanceID": ri, "launchStatus": "PENDING"}]
    finished = wait_job(client, job["jobID"])
    assert finished["participatingServers"][0]["launchStatus"] == "TERMINATED"
    assert describe_instance(ec2, ri)["State"]["Name"] == "terminated"
    assert client.describe_recovery_instances()["items"] == []
    assert "recoveryInstanceId" not in client.describe_source_servers()["items"][0]
    with pytest.raises(client.exceptions.ConflictException):
        client.terminate_recovery_instances(recoveryInstanceIDs=[ri])


# --- reverse replication and failback --------------------------------------------------------------------

def test_reverse_replication_failback_and_reprotect_round_trip(env, linux_ami):
    drs.configure(agent_not_ready_seconds=20)  # 1 s at this time scale
    west, east = env.client("drs", DR), env.client("drs", PRIMARY)
    west.initialize_service()
    east.initialize_service()
    ec2_west, ec2_east = env.client("ec2", DR), env.client("ec2", PRIMARY)
    original, original_ip, _volumes = make_target(ec2_east, _east_ami(ec2_east), "erp01", stop=False, tagged=False)
    forward = seed("erp01", source_instance_id=original, origin_region=PRIMARY, private_ip=original_ip)
    fid = forward["sourceServerID"]
    target, target_ip, _volumes = make_target(ec2_west, linux_ami, "erp01")
    west.update_launch_configuration(sourceServerID=fid, launchIntoInstanceProperties={
        "launchIntoEC2InstanceID": target})
    wait_job(west, west.start_recovery(sourceServers=[{"sourceServerID": fid}])["job"]["jobID"])
    with pytest.raises(west.exceptions.ConflictException) as excinfo:
        west.reverse_replication(recoveryInstanceID=target)
    assert "not finished initializing" in error_of(excinfo)["Error"]["Message"]
    time.sleep(1.1)
    arn = west.reverse_replication(recoveryInstanceID=target)["reversedDirectionSourceServerArn"]
    assert arn.startswith(f"arn:aws:drs:{PRIMARY}:{HUB}:source-server/s-")
    failback = [s for s in east.describe_source_servers()["items"] if s["replicationDirection"] == "FAILBACK"
                and s["sourceProperties"]["identificationHints"]["awsInstanceID"] == target]
    assert len(failback) == 1 and failback[0]["arn"] == arn
    assert failback[0]["reversedDirectionSourceServerArn"] == forward["arn"]
    assert failback[0]["sourceCloudProperties"]["originRegion"] == DR
    assert failback[0]["stagingArea"]["status"] == "NOT_EXTENDED"
    assert failback[0]["dataReplicationInfo"]["dataReplicationState"] in ("INITIATING", "INITIAL_SYNC")
    assert west.describe_source_servers()["items"][0]["reversedDirectionSourceServerArn"] == arn
    bid = failback[0]["sourceServerID"]
    _wait_state(east, bid, "CONTINUOUS")
    ri = west.describe_recovery_instances()["items"][0]
    assert ri["failback"]["state"] == "FAILBACK_READY_FOR_LAUNCH"
    assert ri["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    # Calling it again answers the same failback server.
    assert west.reverse_replication(recoveryInstanceID=target)["reversedDirectionSourceServerArn"] == arn
    with pytest.raises(west.exceptions.ConflictException) as excinfo:
        west.terminate_recovery_instances(recoveryInstanceIDs=[target])
    assert "cannot be terminated during failback" in error_of(excinfo)["Error"]["Message"]
    with pytest.raises(west.exceptions.ConflictException):
        west.disconnect_recovery_instance(recoveryInstanceID=target)

    # Failback: launch into the original instance, stopped and tagged first.
    ec2_east.stop_instances(InstanceIds=[original])
    ec2_east.create_tags(Resources=[original], Tags=[{"Key": "AWSDRS", "Value": "AllowLaunchingIntoThisInstance"}])
    east.update_launch_configuration(sourceServerID=bid, launchIntoInstanceProperties={
        "launchIntoEC2InstanceID": original})
    done = wait_job(east, east.start_recovery(sourceServers=[{"sourceServerID": bid}])["job"]["jobID"])
    assert done["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    instance = describe_instance(ec2_east, original)
    assert instance["State"]["Name"] == "running" and instance["PrivateIpAddress"] == original_ip
    back = east.describe_recovery_instances()["items"]
    assert [r["ec2InstanceID"] for r in back] == [original]
    assert back[0]["sourceServerID"] == bid and back[0]["originAvailabilityZone"] == f"{DR}a"

    # Re-protect: the existing forward server is pointed at the failed-back instance.
    time.sleep(1.1)
    again = east.reverse_replication(recoveryInstanceID=original)["reversedDirectionSourceServerArn"]
    assert again == forward["arn"]
    forward_now = west.describe_source_servers(filters={"sourceServerIDs": [fid]})["items"][0]
    assert forward_now["sourceProperties"]["identificationHints"]["awsInstanceID"] == original
    assert forward_now["dataReplicationInfo"]["dataReplicationState"] in ("STALLED", "RESCAN")
    _wait_state(west, fid, "CONTINUOUS")

    # Cleanup order: stop the failback server's replication, then terminate the old recovery instance.
    east.stop_replication(sourceServerID=bid)
    job = west.terminate_recovery_instances(recoveryInstanceIDs=[target])["job"]
    wait_job(west, job["jobID"])
    assert describe_instance(ec2_west, target)["State"]["Name"] == "terminated"


def _east_ami(ec2):
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    return next(i["ImageId"] for i in images if i.get("Platform") != "windows" and i["Architecture"] == "x86_64")


def _wait_state(client, server_id, state, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        item = client.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"][0]
        if item["dataReplicationInfo"]["dataReplicationState"] == state:
            return item
        time.sleep(0.05)
    raise AssertionError(f"{server_id} never reached {state}")


# --- throttling and timing -------------------------------------------------------------------------------

def test_injected_throttling_is_429_with_retry_after_and_botocore_retries_it(env):
    no_retry = env.client("drs", DR, retries=0)
    no_retry.initialize_service()
    drs.configure(throttle_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        no_retry.describe_source_servers()
    body = error_of(excinfo)
    assert body["Error"]["Code"] == "ThrottlingException"
    assert body["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert body["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    assert body["retryAfterSeconds"] == "1"
    drs.configure(throttle_rate=0.5)
    retrying = env.client("drs", DR, retries=12)
    attempts = []
    # Half the calls are throttled at random: 20 calls all answered at once has odds of one in a million (with 4, as
    # before, one run in 16 failed for no fault of the code).
    for _attempt in range(20):
        response = retrying.describe_source_servers()
        attempts.append(response["ResponseMetadata"]["RetryAttempts"])
    assert sum(attempts) > 0  # some calls were throttled and retried to success


def test_token_bucket_throttles_bursts(env):
    c = env.client("drs", DR, retries=0)
    c.initialize_service()
    drs.configure(rate_limit_rps=2.0, rate_limit_burst=3)
    statuses = []
    for _attempt in range(6):
        try:
            c.describe_jobs()
            statuses.append(200)
        except ClientError as exc:
            statuses.append(exc.response["ResponseMetadata"]["HTTPStatusCode"])
    assert 429 in statuses and statuses[0] == 200
    patient = env.client("drs", DR, retries=10)
    assert patient.describe_jobs()["items"] == []


def test_time_scale_stretches_job_durations(client):
    assert drs.get_settings()["time_scale"] == FAST
    drs.configure(time_scale=10)  # PENDING lasts 10 s
    sid = seed("slow01")["sourceServerID"]
    job = client.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True)["job"]
    time.sleep(0.3)
    assert client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"] == "PENDING"
    drs.configure(time_scale=FAST)
    sid2 = seed("fast01")["sourceServerID"]
    started = time.time()
    wait_job(client, client.start_recovery(sourceServers=[{"sourceServerID": sid2}], isDrill=True)["job"]["jobID"])
    assert time.time() - started < 2.0


# --- the rest of the surface ------------------------------------------------------------------------------

def test_every_operation_round_trips_through_botocore(client, env):
    ids = [seed(f"rt{i:02d}", tags={"Customer": "acme"}, lag_seconds=12, staging_account_id=WORKLOAD_A if i == 0
                else None)["sourceServerID"] for i in range(5)]
    pages = list(client.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert sorted(s["sourceServerID"] for p in pages for s in p["items"]) == sorted(ids)
    assert pages[0]["items"][0]["dataReplicationInfo"]["lagDuration"] == "PT12S"
    assert client.describe_source_servers(filters={"stagingAccountIDs": [WORKLOAD_A]})["items"][0][
        "sourceServerID"] == ids[0]
    assert client.list_staging_accounts()["accounts"] == [{"accountID": WORKLOAD_A}]
    templates = client.describe_launch_configuration_templates()["items"]
    assert len(templates) == 1 and templates[0]["launchConfigurationTemplateID"].startswith("lct-")
    assert client.get_replication_configuration(sourceServerID=ids[1])["sourceServerID"] == ids[1]
    snapshots = client.describe_recovery_snapshots(sourceServerID=ids[1], order="DESC")["items"]
    assert len(snapshots) == 3 and snapshots[0]["timestamp"] > snapshots[-1]["timestamp"]

    arn = client.describe_source_servers(filters={"sourceServerIDs": [ids[1]]})["items"][0]["arn"]
    client.tag_resource(resourceArn=arn, tags={"dr:wave": "1", "Owner": "ops"})
    client.untag_resource(resourceArn=arn, tagKeys=["Owner"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"Customer": "acme", "dr:wave": "1"}

    job = wait_job(client, client.start_recovery(sourceServers=[{"sourceServerID": ids[1]},
                                                                {"sourceServerID": ids[2]}])["job"]["jobID"])
    log_pages = list(client.get_paginator("describe_job_log_items").paginate(
        jobID=job["jobID"], PaginationConfig={"PageSize": 3}))
    assert len(log_pages) > 2
    created = job["creationDateTime"].replace("+00:00", "Z")
    assert [j["jobID"] for j in client.describe_jobs(filters={"fromDate": created})["items"]] == [job["jobID"]]
    assert client.describe_jobs(filters={"toDate": "2000-01-01T00:00:00Z"})["items"] == []
    instances = client.describe_recovery_instances(filters={"recoveryInstanceIDs": [
        job["participatingServers"][0]["recoveryInstanceID"]]})["items"]
    assert len(instances) == 1
    ri = instances[0]["recoveryInstanceID"]
    failback_config = client.get_failback_replication_configuration(recoveryInstanceID=ri)
    assert failback_config["recoveryInstanceID"] == ri

    with pytest.raises(client.exceptions.ConflictException):
        client.disconnect_source_server(sourceServerID=ids[1])  # it has a recovery instance
    client.disconnect_recovery_instance(recoveryInstanceID=ri)
    client.delete_recovery_instance(recoveryInstanceID=ri)
    ec2 = env.client("ec2", DR)
    assert describe_instance(ec2, ri)["State"]["Name"] == "running"  # delete leaves EC2 alone
    client.delete_job(jobID=job["jobID"])
    assert client.describe_jobs()["items"] == []

    stopped = client.stop_replication(sourceServerID=ids[3])["sourceServer"]
    assert stopped["dataReplicationInfo"]["dataReplicationState"] == "STOPPED"
    assert client.describe_recovery_snapshots(sourceServerID=ids[3])["items"] == []
    restarted = client.start_replication(sourceServerID=ids[3])["sourceServer"]
    assert restarted["dataReplicationInfo"]["dataReplicationState"] == "INITIATING"
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_source_server(sourceServerID=ids[4])
    disconnected = client.disconnect_source_server(sourceServerID=ids[4])
    assert disconnected["dataReplicationInfo"]["dataReplicationState"] == "DISCONNECTED"
    assert disconnected["dataReplicationInfo"]["replicatedDisks"][0]["totalStorageBytes"] == 0
    assert "lagDuration" not in disconnected["dataReplicationInfo"]
    client.delete_source_server(sourceServerID=ids[4])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_launch_configuration(sourceServerID=ids[4])
