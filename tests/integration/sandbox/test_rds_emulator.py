"""The sandbox's Aurora global database and RDS replica emulation (sandbox/emulators/rds.py), through boto3."""

import time

import botocore.exceptions
import pytest

pytestmark = pytest.mark.sandbox


def _global_database(sandbox):
    east, west = sandbox.client("rds", region="us-east-1"), sandbox.client("rds", region="us-west-2")
    primary = east.create_db_cluster(DBClusterIdentifier="orders-east", Engine="aurora-postgresql",
                                     EngineVersion="15.4", MasterUsername="a", MasterUserPassword="password1")
    east.create_db_instance(DBInstanceIdentifier="orders-east-1", DBClusterIdentifier="orders-east",
                            DBInstanceClass="db.r6g.large", Engine="aurora-postgresql")
    east.create_global_cluster(GlobalClusterIdentifier="orders",
                               SourceDBClusterIdentifier=primary["DBCluster"]["DBClusterArn"])
    secondary = west.create_db_cluster(DBClusterIdentifier="orders-west", Engine="aurora-postgresql",
                                       EngineVersion="15.4", GlobalClusterIdentifier="orders")["DBCluster"]
    west.create_db_instance(DBInstanceIdentifier="orders-west-1", DBClusterIdentifier="orders-west",
                            DBInstanceClass="db.r6g.large", Engine="aurora-postgresql")
    return east, west, primary["DBCluster"]["DBClusterArn"], secondary["DBClusterArn"]


def _members(client):
    cluster = client.describe_global_clusters(GlobalClusterIdentifier="orders")["GlobalClusters"][0]
    return cluster.get("FailoverState"), {m["DBClusterArn"]: m for m in cluster["GlobalClusterMembers"]}


def _until_cleared(client, timeout=30):
    seen = set()
    deadline = time.time() + timeout
    while time.time() < deadline:
        state, members = _members(client)
        if not state:
            return seen, members
        seen.add(state["Status"])
        time.sleep(0.2)
    raise AssertionError("FailoverState never cleared")


def test_switchover_moves_the_writer_through_failover_state_and_keeps_the_old_primary(clean_sandbox):
    east, west, east_arn, west_arn = _global_database(clean_sandbox)
    state, members = _members(west)
    assert state is None and members[east_arn]["IsWriter"] and members[east_arn]["Readers"] == [west_arn]
    with pytest.raises(botocore.exceptions.ClientError, match="GlobalClusterNotFoundFault"):
        west.describe_global_clusters(GlobalClusterIdentifier="nope")
    answer = east.switchover_global_cluster(GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=west_arn)
    assert answer["GlobalCluster"]["FailoverState"]["Status"] == "pending"
    assert answer["GlobalCluster"]["FailoverState"]["IsDataLossAllowed"] is False
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidGlobalClusterStateFault"):
        east.switchover_global_cluster(GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=west_arn)
    seen, members = _until_cleared(west)
    assert "switching-over" in seen
    assert [arn for arn, m in members.items() if m["IsWriter"]] == [west_arn]
    assert members[west_arn]["Readers"] == [east_arn] and members[east_arn]["SynchronizationStatus"] == "connected"
    with pytest.raises(botocore.exceptions.ClientError, match="already the primary"):
        west.switchover_global_cluster(GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=west_arn)


def test_failover_with_data_loss_rebuilds_the_old_primary_and_refuses_bad_parameters(clean_sandbox):
    east, west, east_arn, west_arn = _global_database(clean_sandbox)
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidParameterCombination"):
        west.failover_global_cluster(GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=west_arn,
                                     AllowDataLoss=True, Switchover=True)
    west.failover_global_cluster(GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=west_arn,
                                 AllowDataLoss=True)
    seen, members = _until_cleared(west)
    assert "failing-over" in seen and members[west_arn]["IsWriter"]
    assert members[east_arn]["SynchronizationStatus"] == "pending-resync"
    deadline = time.time() + 30
    while _members(west)[1][east_arn]["SynchronizationStatus"] != "connected":
        assert time.time() < deadline, "the old primary was never rebuilt"
        time.sleep(0.3)


def test_a_clone_of_a_member_is_standalone(clean_sandbox):
    _east, west, _east_arn, _west_arn = _global_database(clean_sandbox)
    clone = west.restore_db_cluster_to_point_in_time(
        DBClusterIdentifier="orders-west-drill", SourceDBClusterIdentifier="orders-west",
        RestoreType="copy-on-write", UseLatestRestorableTime=True)["DBCluster"]
    assert not clone.get("GlobalClusterIdentifier")
    assert len(_members(west)[1]) == 2


def test_promoting_a_read_replica_stops_replication_on_both_sides(clean_sandbox):
    east, west = clean_sandbox.client("rds", region="us-east-1"), clean_sandbox.client("rds", region="us-west-2")
    source = east.create_db_instance(DBInstanceIdentifier="ledger", DBInstanceClass="db.t3.medium", Engine="postgres",
                                     MasterUsername="a", MasterUserPassword="password1", AllocatedStorage=20,
                                     BackupRetentionPeriod=7)["DBInstance"]
    west.create_db_instance_read_replica(DBInstanceIdentifier="ledger", SourceRegion="us-east-1",
                                         SourceDBInstanceIdentifier=source["DBInstanceArn"])
    replica = west.describe_db_instances(DBInstanceIdentifier="ledger")["DBInstances"][0]
    assert replica["StatusInfos"][0]["Status"] == "replicating"
    with pytest.raises(botocore.exceptions.ClientError, match="not a read replica"):
        east.promote_read_replica(DBInstanceIdentifier="ledger")
    assert west.promote_read_replica(DBInstanceIdentifier="ledger")["DBInstance"]["DBInstanceStatus"] == "modifying"
    deadline = time.time() + 30

    def status():
        return west.describe_db_instances(DBInstanceIdentifier="ledger")["DBInstances"][0]["DBInstanceStatus"]

    while status() != "available":
        assert time.time() < deadline
        time.sleep(0.3)
    promoted = west.describe_db_instances(DBInstanceIdentifier="ledger")["DBInstances"][0]
    assert not promoted.get("ReadReplicaSourceDBInstanceIdentifier") and not promoted.get("StatusInfos")
    assert not east.describe_db_instances(DBInstanceIdentifier="ledger")["DBInstances"][0].get(
        "ReadReplicaDBInstanceIdentifiers")
