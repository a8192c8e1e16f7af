"""The sandbox server: one port for every service, request log, mutating classification, faults."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.server import is_mutating
from sandbox.server import parse_authorization

WORKLOAD_A = "210987654321"
WORKLOAD_B = "345678901234"
HUB = "123456789012"

# One read-only call per service the collection uses, through AWS_ENDPOINT_URL only.
SERVICE_PROBES = {
    "ec2": ("describe_instances", {}),
    "sts": ("get_caller_identity", {}),
    "iam": ("list_roles", {}),
    "resourcegroupstaggingapi": ("get_resources", {}),
    "rds": ("describe_db_clusters", {}),
    "ecs": ("list_clusters", {}),
    "lambda": ("list_functions", {}),
    "route53": ("list_hosted_zones", {}),
    "autoscaling": ("describe_auto_scaling_groups", {}),
    "elasticache": ("describe_replication_groups", {}),
    "memorydb": ("describe_clusters", {}),
    "opensearch": ("list_domain_names", {}),
    "events": ("list_rules", {}),
    "efs": ("describe_file_systems", {}),
    "fsx": ("describe_file_systems", {}),
    "dynamodb": ("list_tables", {}),
    "sns": ("list_topics", {}),
    "sqs": ("list_queues", {}),
    "cloudwatch": ("list_metrics", {}),
    "ssm": ("describe_parameters", {}),
    "s3": ("list_buckets", {}),
    "drs": ("initialize_service", {}),
}


@pytest.fixture
def fresh(sandbox):
    sandbox.reset()
    yield sandbox
    sandbox.clear_faults()


def no_retry_client(service, region="us-east-1"):
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.client(service, region_name=region, config=config)


def test_every_service_answers_through_aws_endpoint_url(fresh):
    for service, (operation, params) in SERVICE_PROBES.items():
        client = boto3.client(service, region_name="us-west-2")
        assert client.meta.endpoint_url == fresh.endpoint, service
        response = getattr(client, operation)(**params)
        assert response["ResponseMetadata"]["HTTPStatusCode"] in (200, 204), service
    logged = {(entry["service"], entry["region"], entry["status"]) for entry in fresh.requests()}
    for service in SERVICE_PROBES:
        assert (service, "us-west-2", 204 if service == "drs" else 200) in logged, service


def test_concurrent_launches_in_one_subnet_all_succeed(fresh):
    # moto hands out private IPs from one generator per subnet; unserialized threads got HTML 500s.
    ec2 = no_retry_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.90.0.0/20")["Subnet"]["SubnetId"]

    def launch(_index):
        instances = ec2.run_instances(ImageId="ami-760aaa0f", InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                      SubnetId=subnet)["Instances"]
        return instances[0]["PrivateIpAddress"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        addresses = list(pool.map(launch, range(200)))
    assert len(set(addresses)) == 200
    pages = ec2.get_paginator("describe_instances").paginate(Filters=[{"Name": "subnet-id", "Values": [subnet]}])
    assert sum(len(r["Instances"]) for page in pages for r in page["Reservations"]) == 200
    assert not [e for e in fresh.requests(service="ec2") if e["status"] >= 500]


def test_request_log_records_operation_account_region(fresh):
    workload = fresh.session(WORKLOAD_A, "us-west-2")
    workload.client("drs", endpoint_url=fresh.endpoint).initialize_service()
    fresh.clear_requests()
    boto3.client("ec2", region_name="us-east-1").describe_vpcs()
    workload = fresh.session(WORKLOAD_A, "us-west-2")
    ec2 = workload.client("ec2", endpoint_url=fresh.endpoint)
    ec2.create_tags(Resources=[ec2.describe_vpcs()["Vpcs"][0]["VpcId"]], Tags=[{"Key": "k", "Value": "v"}])
    workload.client("drs", endpoint_url=fresh.endpoint).describe_source_servers()
    workload.client("lambda", endpoint_url=fresh.endpoint).list_functions()

    entries = fresh.requests()
    summary = [(e["service"], e["operation"], e["account"], e["region"], e["mutating"]) for e in entries]
    assert summary == [
        ("ec2", "DescribeVpcs", HUB, "us-east-1", False),
        ("sts", "AssumeRole", HUB, "us-west-2", False),
        ("ec2", "DescribeVpcs", WORKLOAD_A, "us-west-2", False),
        ("ec2", "CreateTags", WORKLOAD_A, "us-west-2", True),
        ("drs", "DescribeSourceServers", WORKLOAD_A, "us-west-2", False),
        ("lambda", "ListFunctions", WORKLOAD_A, "us-west-2", False),
    ]
    assume = entries[1]
    assert assume["role_arn"] == f"arn:aws:iam::{WORKLOAD_A}:role/EnterpriseDRWorkloadRole"
    assert assume["external_id"] == "edr-demo-workload-a"
    assert all(entry["status"] == 200 and entry["method"] for entry in entries)
    assert [e["operation"] for e in fresh.requests(service="drs")] == ["DescribeSourceServers"]
    fresh.clear_requests()
    assert fresh.requests() == []


def test_assume_role_without_external_id_is_logged_as_missing(fresh):
    fresh.clear_requests()
    boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{WORKLOAD_B}:role/EnterpriseDRWorkloadRole",
                                    RoleSessionName="no-external-id")
    (entry,) = fresh.requests(service="sts")
    assert entry["external_id"] is None
    assert entry["role_arn"].endswith(":role/EnterpriseDRWorkloadRole")


@pytest.mark.parametrize(
    "service, operation, method, expected",
    [
        ("ec2", "DescribeInstances", "POST", False),
        ("ec2", "StartInstances", "POST", True),
        ("drs", "StartRecovery", "POST", True),
        ("drs", "DescribeJobLogItems", "POST", False),
        ("sts", "GetCallerIdentity", "POST", False),
        ("sts", "AssumeRole", "POST", False),
        ("sts", "GetSessionToken", "POST", False),
        ("dynamodb", "BatchGetItem", "POST", False),
        ("dynamodb", "Query", "POST", False),
        ("dynamodb", "Scan", "POST", False),
        ("dynamodb", "PutItem", "POST", True),
        ("cloudtrail", "LookupEvents", "POST", False),
        ("opensearch", "SearchThings", "GET", False),
        ("route53", "ChangeResourceRecordSets", "POST", True),
        ("s3", None, "GET", False),
        ("s3", None, "PUT", True),
    ],
)
def test_mutating_classification(service, operation, method, expected):
    assert is_mutating(service, operation, method) is expected


def test_parse_authorization_reads_the_credential_scope():
    header = ("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-west-2/drs/aws4_request, "
              "SignedHeaders=host;x-amz-date, Signature=abc")
    assert parse_authorization(header) == {"access_key": "AKIAEXAMPLE", "date": "20260101",
                                           "region": "us-west-2", "service": "drs"}
    assert parse_authorization(None)["service"] is None
    assert parse_authorization("garbage Credential=a/b")["service"] is None


@pytest.mark.parametrize(
    "service, call, code",
    [
        ("ec2", lambda c: c.describe_instances(), "RequestLimitExceeded"),
        ("sts", lambda c: c.get_caller_identity(), "Throttling"),
        ("dynamodb", lambda c: c.list_tables(), "ThrottlingException"),
        ("lambda", lambda c: c.list_functions(), "ThrottlingException"),
        ("route53", lambda c: c.list_hosted_zones(), "Throttling"),
        ("cloudwatch", lambda c: c.list_metrics(), "ThrottlingException"),
        ("s3", lambda c: c.list_buckets(), "SlowDown"),
    ],
)
def test_throttling_uses_the_protocol_error_and_boto3_retries_it(fresh, service, call, code):
    fresh.set_faults(service=service, throttle_next=1)
    with pytest.raises(ClientError) as raised:
        call(no_retry_client(service))
    assert raised.value.response["Error"]["Code"] == code

    fresh.clear_requests()
    fresh.set_faults(service=service, throttle_next=2)
    retrying = boto3.client(service, region_name="us-east-1",
                            config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    response = call(retrying)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    statuses = [entry["status"] for entry in fresh.requests(service=service)]
    assert len(statuses) == 3 and statuses[-1] == 200 and all(s != 200 for s in statuses[:2])


def test_throttle_applies_only_to_the_named_service(fresh):
    fresh.set_faults(service="ec2", throttle_rate=1.0)
    assert no_retry_client("sts").get_caller_identity()["Account"] == HUB
    with pytest.raises(ClientError, match="RequestLimitExceeded"):
        no_retry_client("ec2").describe_vpcs()
    fresh.clear_faults()
    no_retry_client("ec2").describe_vpcs()


def test_server_errors_and_latency(fresh):
    fresh.set_faults(error_next=1)
    with pytest.raises(ClientError) as raised:
        no_retry_client("sqs").list_queues()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    fresh.set_faults(error_rate=1.0, service="ecs")
    with pytest.raises(ClientError):
        no_retry_client("ecs").list_clusters()
    fresh.clear_faults()

    fresh.set_faults(latency_ms=300, service="iam")
    fresh.clear_requests()
    started = time.monotonic()
    no_retry_client("iam").list_roles()
    assert time.monotonic() - started >= 0.3
    no_retry_client("sts").get_caller_identity()
    # The delay is the server's own (its log times each answer) and applies to the named service only;
    # compared with the injected 300 ms, not with the wall clock of a loaded machine.
    durations = {entry["service"]: entry["duration_ms"] for entry in fresh.requests()}
    assert durations["iam"] >= 300
    assert durations["sts"] < 300


def test_invalid_fault_settings_are_refused(fresh):
    from sandbox.control import SandboxError

    with pytest.raises(SandboxError, match="throttle_rate must be between 0 and 1"):
        fresh.set_faults(throttle_rate=3)
    with pytest.raises(SandboxError, match="unknown fault setting"):
        fresh.admin.set_faults({"explode": True})


def test_drs_throttling_and_settings_go_to_the_emulator(fresh):
    document = fresh.set_faults(service="drs", throttle_rate=0.25, drs={"time_scale": 0.5})
    assert document["drs"]["throttle_rate"] == 0.25
    assert document["drs"]["time_scale"] == 0.5
    assert "drs" not in document["services"] or "throttle_rate" not in document["services"]["drs"]
    assert fresh.drs_settings()["time_scale"] == 0.5
    fresh.reset()
    assert fresh.drs_settings()["throttle_rate"] == 0.0
    assert fresh.admin.faults()["services"] == {}


def test_reset_clears_state_log_and_faults(fresh):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    fresh.set_faults(service="sns", latency_ms=10)
    fresh.reset()
    assert vpc not in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    assert [e["operation"] for e in fresh.requests()] == ["DescribeVpcs"]
    assert fresh.admin.faults()["services"] == {}
