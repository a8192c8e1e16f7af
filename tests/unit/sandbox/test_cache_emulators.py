"""The ElastiCache global datastore and MemoryDB emulators in process (moto backends, no server): Appendix B states."""

import json
import uuid
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from sandbox import emulators
from sandbox.emulators import Call

emulators.load()
from sandbox.emulators import elasticache as ec  # noqa: E402
from sandbox.emulators import memorydb as mdb  # noqa: E402

A = "210987654321"
E1, W2 = "us-east-1", "us-west-2"


@pytest.fixture(autouse=True)
def fresh_moto():
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    ec.reset()
    mdb.reset()
    yield
    moto_api_backend.reset()


def query(region, operation, **params):
    body = urlencode({"Action": operation, "Version": "2015-02-02", **params}).encode()
    call = Call(service="elasticache", operation=operation, method="POST", path="/", query_string="", headers={},
                body=body, account=A, region=region, environ={"HTTP_HOST": "127.0.0.1:4566"})
    return ec.handle(call)


def text(answer, tag):
    root = ElementTree.fromstring(answer[2])
    return [e.text for e in root.iter() if e.tag.endswith(tag)]


def group(region, group_id, node_type="cache.r6g.large"):
    from moto.elasticache.models import elasticache_backends

    backend = elasticache_backends[A][region]
    kwargs = {name: None for name in backend.create_replication_group.__code__.co_varnames[
        1:backend.create_replication_group.__code__.co_argcount]}
    kwargs.update(replication_group_id=group_id, replication_group_description="x", cache_node_type=node_type,
                  engine="redis", num_cache_clusters=2, tags=[], user_group_ids=[], log_delivery_configurations=[],
                  snapshot_retention_limit=0, node_group_configuration=[], preferred_cache_cluster_azs=[])
    return backend.create_replication_group(**kwargs)


def polls(region="us-east-1", count=ec.POLLS_PER_TRANSITION):
    for _poll in range(count):
        ec.tick()


def test_global_datastore_states_failover_and_refusals():
    group(E1, "sessions")
    created = query(E1, "CreateGlobalReplicationGroup", GlobalReplicationGroupIdSuffix="sessions",
                    PrimaryReplicationGroupId="sessions")
    assert created[0] == 200 and text(created, "GlobalReplicationGroupId") == ["ldgnf-sessions"]
    assert text(created, "Status")[0] == "creating"
    polls()
    assert ec.GLOBALS[A]["ldgnf-sessions"]["Status"] == "primary-only"
    # A failover of a datastore without a secondary is refused as AWS does.
    refused = query(W2, "FailoverGlobalReplicationGroup", GlobalReplicationGroupId="ldgnf-sessions",
                    PrimaryRegion=W2, PrimaryReplicationGroupId="sessions-dr")
    assert refused[0] == 400 and text(refused, "Code") == ["InvalidGlobalReplicationGroupState"]
    # A secondary infers its settings; passing them is refused.
    bad = query(W2, "CreateReplicationGroup", ReplicationGroupId="sessions-dr", ReplicationGroupDescription="x",
                GlobalReplicationGroupId="ldgnf-sessions", CacheNodeType="cache.r6g.large")
    assert text(bad, "Code") == ["InvalidParameterCombination"]
    query(W2, "CreateReplicationGroup", ReplicationGroupId="sessions-dr", ReplicationGroupDescription="x",
          GlobalReplicationGroupId="ldgnf-sessions")
    store = ec.GLOBALS[A]["ldgnf-sessions"]
    assert store["Status"] == "modifying" and store["Members"][1]["Status"] == "associating"
    polls()
    assert store["Status"] == "available" and store["Members"][1]["Status"] == "associated"
    # Failover: modifying, then the roles flip (in moto's replication groups too).
    query(W2, "FailoverGlobalReplicationGroup", GlobalReplicationGroupId="ldgnf-sessions", PrimaryRegion=W2,
          PrimaryReplicationGroupId="sessions-dr")
    assert store["Status"] == "modifying"
    again = query(W2, "FailoverGlobalReplicationGroup", GlobalReplicationGroupId="ldgnf-sessions", PrimaryRegion=W2,
                  PrimaryReplicationGroupId="sessions-dr")
    assert text(again, "Code") == ["InvalidGlobalReplicationGroupState"]
    polls()
    assert {m["ReplicationGroupRegion"]: m["Role"] for m in store["Members"]} == {E1: "SECONDARY", W2: "PRIMARY"}
    from moto.elasticache.models import elasticache_backends

    assert elasticache_backends[A][W2].replication_groups["sessions-dr"].global_replication_group_member_role == \
        "PRIMARY"
    # Disassociate: disassociating, then gone; primary-only with no secondary left; the group is standalone.
    query(E1, "DisassociateGlobalReplicationGroup", GlobalReplicationGroupId="ldgnf-sessions",
          ReplicationGroupId="sessions", ReplicationGroupRegion=E1)
    assert store["Members"][0]["Status"] == "disassociating"
    polls()
    assert store["Status"] == "primary-only" and [m["ReplicationGroupId"] for m in store["Members"]] == ["sessions-dr"]
    assert elasticache_backends[A][E1].replication_groups["sessions"].global_replication_group_id == ""


def test_endpoints_point_at_the_sandbox_and_restores_need_their_snapshot():
    group(E1, "cache")
    assert query(E1, "DescribeReplicationGroups") is None  # corrected, then moto answers
    from moto.elasticache.models import elasticache_backends

    node_group = elasticache_backends[A][E1].replication_groups["cache"].node_groups[0]
    assert node_group["primary_endpoint"] == {"address": "127.0.0.1", "port": 4566}
    missing = query(E1, "CreateReplicationGroup", ReplicationGroupId="copy", ReplicationGroupDescription="x",
                    SnapshotName="nope")
    assert text(missing, "Code") == ["SnapshotNotFoundFault"]


def json_call(region, operation, **params):
    call = Call(service="memorydb", operation=operation, method="POST", path="/", query_string="", headers={},
                body=json.dumps(params).encode(), account=A, region=region,
                environ={"HTTP_HOST": "127.0.0.1:4566"})
    answer = mdb.handle(call)
    return None if answer is None else (answer[0], json.loads(answer[2]))


def test_memorydb_multi_region_copy_snapshot_and_restore_states():
    from moto.memorydb.models import memorydb_backends
    from moto.s3.models import s3_backends

    created = json_call(E1, "CreateMultiRegionCluster", MultiRegionClusterNameSuffix="feed", NodeType="db.r7g.xlarge")
    assert created[1]["MultiRegionCluster"]["MultiRegionClusterName"] == "ldgnf-feed"
    assert json_call(W2, "CreateCluster", ClusterName="feed-w2", NodeType="x", MultiRegionClusterName="none")[1][
        "__type"] == "MultiRegionClusterNotFoundFault"
    assert json_call(W2, "CreateCluster", ClusterName="feed-w2", NodeType="x", MultiRegionClusterName="ldgnf-feed") \
        is None
    backend = memorydb_backends[A][E1]
    backend.create_cluster(**{**{n: None for n in backend.create_cluster.__code__.co_varnames[
        1:backend.create_cluster.__code__.co_argcount]}, "cluster_name": "ledger", "node_type": "db.r6g.large",
        "acl_name": "open-access"})
    json_call(E1, "DescribeClusters")
    assert backend.clusters["ledger"].status == "creating"
    for _poll in range(mdb.POLLS_PER_TRANSITION):
        mdb.tick()
    assert backend.clusters["ledger"].status == "available"
    backend.create_snapshot(cluster_name="ledger", snapshot_name="ledger-daily")
    json_call(E1, "DescribeSnapshots")
    assert backend.snapshots["ledger-daily"].status == "creating"
    refused = json_call(E1, "CopySnapshot", SourceSnapshotName="ledger-daily", TargetSnapshotName="exp",
                        TargetBucket="b")
    assert refused[1]["__type"] == "InvalidSnapshotStateFault"
    for _poll in range(mdb.POLLS_PER_TRANSITION):
        mdb.tick()
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3_backends[A]["aws"].create_bucket(bucket, W2)
    wrong_region = json_call(E1, "CopySnapshot", SourceSnapshotName="ledger-daily", TargetSnapshotName="exp",
                             TargetBucket=bucket)
    assert "not in the snapshot's region" in wrong_region[1]["message"]
    s3_backends[A]["aws"].create_bucket(bucket + "-e1", E1)
    export = json_call(E1, "CopySnapshot", SourceSnapshotName="ledger-daily", TargetSnapshotName="exp",
                       TargetBucket=bucket + "-e1")
    assert export[1]["Snapshot"]["Status"] == "creating"
    for _poll in range(mdb.POLLS_PER_TRANSITION):
        mdb.tick()
    seed = json.loads(s3_backends[A]["aws"].get_object(bucket + "-e1", "exp.rdb").value)
    assert seed["snapshot"] == "ledger-daily" and seed["snapshot_time"]
    missing = json_call(W2, "CreateCluster", ClusterName="ledger-dr", NodeType="db.r6g.large",
                        SnapshotArns=[f"arn:aws:s3:::{bucket}/none.rdb"])
    assert missing[1]["__type"] == "InvalidParameterValueException"


def test_how_long_a_transition_takes_is_a_setting_a_reset_puts_back():
    emulator = emulators.get("elasticache-global-datastores")
    assert emulator.configure(polls_per_transition=7) == {"polls_per_transition": 7}
    assert ec.POLLS_PER_TRANSITION == 7
    with pytest.raises(ValueError, match="at least 1"):
        emulator.configure(polls_per_transition=0)
    assert ec.POLLS_PER_TRANSITION == 7
    ec.reset()
    assert ec.POLLS_PER_TRANSITION == ec.DEFAULT_POLLS_PER_TRANSITION
