"""The DRS emulator as hosted by the shared sandbox process: routing by SigV4 service, account
resolution from assumed-role keys, admin settings and seeding, EC2 effects visible through moto."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.sandbox

DR = "us-west-2"
WORKLOAD_A = "210987654321"


def _wait_completed(client, job_id, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        if job["status"] == "COMPLETED":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not complete")


def test_launch_into_through_the_sandbox_server(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.drs_settings(time_scale=0.05)
    hub = sandbox.session(region=DR).client("sts").get_caller_identity()["Account"]
    drs = sandbox.client("drs", region=DR)
    ec2 = sandbox.client("ec2", region=DR)
    with pytest.raises(drs.exceptions.UninitializedAccountException):
        drs.describe_source_servers()
    drs.initialize_service()
    (server,) = sandbox.admin.seed_source_servers([{"account_id": hub, "region": DR, "hostname": "web01",
                                                    "source_instance_id": "i-0123456789abcdef0"}])
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    ami = next(i["ImageId"] for i in images if i.get("Platform") != "windows" and i["Architecture"] == "x86_64")
    target = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, TagSpecifications=[{
        "ResourceType": "instance", "Tags": [{"Key": "AWSDRS", "Value": "AllowLaunchingIntoThisInstance"}]}],
    )["Instances"][0]
    ec2.stop_instances(InstanceIds=[target["InstanceId"]])
    drs.update_launch_configuration(sourceServerID=server["sourceServerID"], launchIntoInstanceProperties={
        "launchIntoEC2InstanceID": target["InstanceId"]})
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server["sourceServerID"]}], isDrill=True)["job"]
    done = _wait_completed(drs, job["jobID"])
    assert done["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    instance = ec2.describe_instances(InstanceIds=[target["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert instance["State"]["Name"] == "running"
    assert instance["PrivateIpAddress"] == target["PrivateIpAddress"]
    logged = [(r["operation"], r["status"]) for r in sandbox.requests(service="drs")]
    assert ("StartRecovery", 202) in logged and ("UpdateLaunchConfiguration", 200) in logged


def test_workload_account_is_isolated_through_the_sandbox(clean_sandbox):
    sandbox = clean_sandbox
    hub = sandbox.client("drs", region=DR)
    hub.initialize_service()
    hub_account = sandbox.session(region=DR).client("sts").get_caller_identity()["Account"]
    sandbox.admin.seed_source_servers([{"account_id": hub_account, "region": DR, "hostname": "hub01"}])
    workload = sandbox.client("drs", account_id=WORKLOAD_A, region=DR)
    with pytest.raises(workload.exceptions.UninitializedAccountException):
        workload.describe_source_servers()
    workload.initialize_service()
    assert workload.describe_source_servers()["items"] == []
    assert [s["sourceProperties"]["identificationHints"]["hostname"]
            for s in hub.describe_source_servers()["items"]] == ["hub01"]
    accounts = {r["account"] for r in sandbox.requests(service="drs")}
    assert accounts == {hub_account, WORKLOAD_A}
