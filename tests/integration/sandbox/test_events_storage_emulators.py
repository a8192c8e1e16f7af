"""The sandbox's EventBridge endpoint, EFS replication and FSx backup-copy/restore emulation (Appendix B 9-11),
through boto3: states, transitions on the time scale, validation, and faults applied as for every service."""

import time

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"  # the hub's own credentials: no role needed


@pytest.fixture
def fresh(sandbox):
    sandbox.reset()
    sandbox.drs_settings(time_scale=0.5)
    yield sandbox
    sandbox.clear_faults()


def until(check, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    return check()


def test_eventbridge_endpoint_creating_then_active_and_validation(fresh):
    east, west = fresh.client("events", region="us-east-1"), fresh.client("events", region="us-west-2")
    primary = east.create_event_bus(Name="orders")["EventBusArn"]
    secondary = west.create_event_bus(Name="orders")["EventBusArn"]
    other = west.create_event_bus(Name="billing")["EventBusArn"]
    routing = {"FailoverConfig": {"Primary": {"HealthCheck": "arn:aws:route53:::healthcheck/abc"},
                                  "Secondary": {"Route": "us-west-2"}}}
    with pytest.raises(ClientError, match="same name"):
        east.create_endpoint(Name="ep", RoutingConfig=routing, ReplicationConfig={"State": "DISABLED"},
                             EventBuses=[{"EventBusArn": primary}, {"EventBusArn": other}])
    with pytest.raises(ClientError, match="RoleArn is required"):
        east.create_endpoint(Name="ep", RoutingConfig=routing,
                             EventBuses=[{"EventBusArn": primary}, {"EventBusArn": secondary}])
    created = east.create_endpoint(Name="ep", RoutingConfig=routing, ReplicationConfig={"State": "DISABLED"},
                                   EventBuses=[{"EventBusArn": primary}, {"EventBusArn": secondary}])
    assert created["State"] == "CREATING"
    assert until(lambda: east.describe_endpoint(Name="ep")["State"] == "ACTIVE")
    described = east.describe_endpoint(Name="ep")
    assert described["EndpointId"] and described["EndpointUrl"].startswith("https://")
    east.update_endpoint(Name="ep", Description="changed")
    assert east.describe_endpoint(Name="ep")["State"] == "UPDATING"
    assert until(lambda: east.describe_endpoint(Name="ep")["State"] == "ACTIVE")
    east.delete_endpoint(Name="ep")
    assert until(lambda: east.list_endpoints()["Endpoints"] == [])


def test_eventbridge_rules_in_the_tagging_api(fresh):
    events = fresh.client("events")
    arn = events.put_rule(Name="nightly", ScheduleExpression="rate(5 minutes)", Tags=[{"Key": "dr:enabled",
                                                                                      "Value": "true"}])["RuleArn"]
    found = fresh.client("resourcegroupstaggingapi").get_resources(ResourceTypeFilters=["events:rule"])
    assert [r["ResourceARN"] for r in found["ResourceTagMappingList"]] == [arn]


def test_efs_replication_states_protection_and_errors(fresh):
    east, west = fresh.client("efs", region="us-east-1"), fresh.client("efs", region="us-west-2")
    source = east.create_file_system(CreationToken="src")["FileSystemId"]
    [fs] = east.describe_file_systems(FileSystemId=source)["FileSystems"]
    assert fs["FileSystemProtection"]["ReplicationOverwriteProtection"] == "ENABLED"
    with pytest.raises(ClientError, match="ReplicationNotFound"):
        east.describe_replication_configurations(FileSystemId=source)
    config = east.create_replication_configuration(SourceFileSystemId=source, Destinations=[{"Region": "us-west-2"}])
    destination = config["Destinations"][0]["FileSystemId"]
    assert config["Destinations"][0]["Status"] == "ENABLING"
    [dest] = west.describe_file_systems(FileSystemId=destination)["FileSystems"]
    assert dest["FileSystemProtection"]["ReplicationOverwriteProtection"] == "REPLICATING"  # read-only
    with pytest.raises(ClientError, match="ConflictException"):
        east.create_replication_configuration(SourceFileSystemId=source, Destinations=[{"Region": "us-west-2"}])
    with pytest.raises(ClientError, match="ReplicationAlreadyExists"):
        west.update_file_system_protection(FileSystemId=destination, ReplicationOverwriteProtection="DISABLED")
    seen = until(lambda: west.describe_replication_configurations(FileSystemId=destination)["Replications"][0][
        "Destinations"][0] if west.describe_replication_configurations(FileSystemId=destination)["Replications"][0][
        "Destinations"][0]["Status"] == "ENABLED" else None)
    assert seen["LastReplicatedTimestamp"]
    west.delete_replication_configuration(SourceFileSystemId=destination)  # from the destination side
    assert until(lambda: west.describe_file_systems(FileSystemId=destination)["FileSystems"][0][
        "FileSystemProtection"]["ReplicationOverwriteProtection"] == "ENABLED")
    # Reverse onto the existing original: refused until its protection is DISABLED.
    with pytest.raises(ClientError, match="DISABLED"):
        west.create_replication_configuration(SourceFileSystemId=destination,
                                              Destinations=[{"Region": "us-east-1", "FileSystemId": source}])
    east.update_file_system_protection(FileSystemId=source, ReplicationOverwriteProtection="DISABLED")
    reverse = west.create_replication_configuration(SourceFileSystemId=destination,
                                                    Destinations=[{"Region": "us-east-1", "FileSystemId": source}])
    assert reverse["Destinations"][0]["FileSystemId"] == source


def test_fsx_backup_copy_and_restore(fresh):
    east, west = fresh.client("fsx", region="us-east-1"), fresh.client("fsx", region="us-west-2")
    subnet = fresh.client("ec2", region="us-west-2").describe_subnets()["Subnets"][0]["SubnetId"]
    fs = east.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[subnet],
                                 LustreConfiguration={"DeploymentType": "PERSISTENT_2"})["FileSystem"]
    assert fs["Lifecycle"] == "CREATING"
    backup = east.create_backup(FileSystemId=fs["FileSystemId"])["Backup"]
    assert backup["Lifecycle"] == "CREATING" and backup["Type"] == "USER_INITIATED"
    with pytest.raises(ClientError, match="SourceBackupUnavailable"):
        west.copy_backup(SourceBackupId=backup["BackupId"], SourceRegion="us-east-1")
    assert until(lambda: east.describe_backups(BackupIds=[backup["BackupId"]])["Backups"][0]["Lifecycle"]
                 == "AVAILABLE")
    with pytest.raises(ClientError, match="BackupNotFound"):
        west.copy_backup(SourceBackupId="backup-0000000000", SourceRegion="us-east-1")
    copy = west.copy_backup(SourceBackupId=backup["BackupId"], SourceRegion="us-east-1")["Backup"]
    assert copy["Lifecycle"] == "COPYING" and copy["SourceBackupRegion"] == "us-east-1"
    assert copy["FileSystem"]["FileSystemId"] == fs["FileSystemId"]
    with pytest.raises(ClientError, match="BackupInProgress"):
        west.create_file_system_from_backup(BackupId=copy["BackupId"], SubnetIds=[subnet])
    assert until(lambda: west.describe_backups(BackupIds=[copy["BackupId"]])["Backups"][0]["Lifecycle"]
                 == "AVAILABLE")
    restored = west.create_file_system_from_backup(BackupId=copy["BackupId"], SubnetIds=[subnet],
                                                   ClientRequestToken="once")["FileSystem"]
    again = west.create_file_system_from_backup(BackupId=copy["BackupId"], SubnetIds=[subnet],
                                                ClientRequestToken="once")["FileSystem"]
    assert again["FileSystemId"] == restored["FileSystemId"] and restored["FileSystemType"] == "LUSTRE"
    assert until(lambda: west.describe_file_systems(FileSystemIds=[restored["FileSystemId"]])["FileSystems"][0][
        "Lifecycle"] == "AVAILABLE")


def test_faults_apply_to_emulated_operations(fresh):
    efs = fresh.client("efs")
    source = efs.create_file_system(CreationToken="f")["FileSystemId"]
    fresh.clear_requests()
    fresh.set_faults(service="efs", error_next=1)
    with pytest.raises(ClientError, match="ReplicationNotFound"):  # the 5xx is retried, then the emulator answers
        efs.describe_replication_configurations(FileSystemId=source)
    answers = [r["status"] for r in fresh.requests("efs") if r["operation"] == "DescribeReplicationConfigurations"]
    assert answers == [500, 404]
