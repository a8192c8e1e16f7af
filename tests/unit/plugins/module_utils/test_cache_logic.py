"""ElastiCache and MemoryDB logic without AWS: readiness checks, drill names, connectivity, discovery folding."""

import socket

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import elasticache as ec
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import memorydb as mdb
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.connectivity import check_connectivity
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import resources

A = "210987654321"


def datastore(status="available", dr_status="associated", node_type="cache.r6g.large"):
    return {"GlobalReplicationGroupId": "ldgnf-s", "Status": status, "CacheNodeType": node_type, "Engine": "redis",
            "Members": [{"ReplicationGroupId": "s", "ReplicationGroupRegion": "us-east-1", "Role": "PRIMARY",
                         "Status": "associated"},
                        {"ReplicationGroupId": "s-dr", "ReplicationGroupRegion": "us-west-2", "Role": "SECONDARY",
                         "Status": dr_status}]}


def groups(dr_node="cache.r6g.large", dr_shards=1):
    return {"us-east-1": {"CacheNodeType": "cache.r6g.large", "Engine": "redis", "NodeGroups": [{}]},
            "us-west-2": {"CacheNodeType": dr_node, "Engine": "redis", "NodeGroups": [{}] * dr_shards}}


def test_a_ready_datastore_has_no_problem_and_each_blocker_is_named():
    assert ec.preflight_problems(datastore(), groups(), "us-west-2", "failover") == []
    assert ec.preflight_problems(datastore(status="modifying"), groups(), "us-west-2", "failover") == [
        "the datastore is modifying, not available"]
    assert "associating" in ec.preflight_problems(datastore(dr_status="associating"), groups(), "us-west-2", "x")[0]
    assert "node types" in ec.preflight_problems(datastore(), groups(dr_node="cache.m5.large"), "us-west-2", "x")[0]
    assert "shard counts" in ec.preflight_problems(datastore(), groups(dr_shards=2), "us-west-2", "x")[0]
    assert ec.preflight_problems(None, {}, "us-west-2", "x") == ["the global datastore does not exist (or no member "
                                                                 "names it)"]
    # Promoting the member that is primary already is no problem (a failback after a failback, a re-run).
    assert ec.preflight_problems(datastore(status="primary-only"), groups(), "us-east-1", "x") == []


def test_a_resumed_run_accepts_its_own_promotion_under_way_and_nothing_else():
    under_way = datastore(status="modifying")
    assert ec.promotion_under_way(under_way)
    assert ec.preflight_problems(under_way, groups(), "us-west-2", "failover", resumed=True) == []
    # A fresh run never assumes a modification is its own.
    assert ec.preflight_problems(under_way, groups(), "us-west-2", "failover") == [
        "the datastore is modifying, not available"]
    # A member joining or leaving is not a promotion: refused even when resumed.
    joining = datastore(status="modifying", dr_status="associating")
    assert not ec.promotion_under_way(joining)
    assert "associating" in " ".join(ec.preflight_problems(joining, groups(), "us-west-2", "failover", resumed=True))
    assert not ec.promotion_under_way(datastore())


def test_drill_names_fit_the_40_character_limit_and_name_the_execution():
    name = ec.drill_group_id("a" * 40, "edr-acme-20261201T221710-3cf33a")
    assert len(name) <= 40 and name.endswith("-drill-edracme2")
    assert mdb.short("edr-acme-20261201T221710-3cf33a") == "103cf33a"


def test_connectivity_reaches_a_listener_and_reports_a_closed_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        assert check_connectivity(("127.0.0.1", port), 2)["reachable"] is True
    finally:
        listener.close()
    closed = check_connectivity(("127.0.0.1", port), 1)
    assert closed["reachable"] is False and "Connection" in closed["error"]
    assert check_connectivity(None)["reachable"] is False


def tags(customer="acme", **extra):
    return {"dr:enabled": "true", "dr:wave": "1", "Customer": customer, "Environment": "production", **extra}


def raw(tagged_e1, tagged_w2, cache_e1=None, cache_w2=None, memorydb_e1=None):
    def block(tagged, cache, memorydb):
        result = {"error": None, "source": "live", "tagged": tagged, "instances": {}}
        if cache:
            result["elasticache"] = cache
        if memorydb:
            result["memorydb"] = memorydb
        return result
    return {"format": 1, "accounts": [{
        "account_id": A, "name": "workload-a", "primary_region": "us-east-1", "dr_region": "us-west-2",
        "credentials": {}, "error": None,
        "regions": {"us-east-1": block(tagged_e1, cache_e1, memorydb_e1),
                    "us-west-2": block(tagged_w2, cache_w2, None)},
    }]}


def test_members_of_one_global_datastore_fold_onto_one_host_with_dr_elasticache():
    e1 = f"arn:aws:elasticache:us-east-1:{A}:replicationgroup:s"
    w2 = f"arn:aws:elasticache:us-west-2:{A}:replicationgroup:s-dr"
    members = [{"replication_group_id": "s", "region": "us-east-1", "role": "PRIMARY", "status": "associated"},
               {"replication_group_id": "s-dr", "region": "us-west-2", "role": "SECONDARY", "status": "associated"}]
    globals_ = {"ldgnf-s": {"global_replication_group_id": "ldgnf-s", "arn": "g", "members": members,
                            "engine": "redis", "cache_node_type": "cache.r6g.large"}}
    inventory = resources.build_inventory(raw(
        [{"arn": e1, "tags": tags()}], [{"arn": w2, "tags": tags()}],
        cache_e1={"groups": {e1: {"replication_group_id": "s", "global_replication_group_id": "ldgnf-s"}},
                  "globals": globals_},
        cache_w2={"groups": {w2: {"replication_group_id": "s-dr", "global_replication_group_id": "ldgnf-s"}},
                  "globals": globals_}), customers=["acme"])
    assert list(inventory["hosts"]) == ["s"]
    host = inventory["hosts"]["s"]
    assert host["dr_arn"] == e1 and host["dr_technology"] == "elasticache"
    assert host["dr_elasticache"]["replication_groups"] == {"us-east-1": "s", "us-west-2": "s-dr"}
    assert host["dr_elasticache"]["global_replication_group_id"] == "ldgnf-s"


def test_a_detached_dr_member_still_pairs_with_the_datastore_it_left():
    e1 = f"arn:aws:elasticache:us-east-1:{A}:replicationgroup:s"
    w2 = f"arn:aws:elasticache:us-west-2:{A}:replicationgroup:s-dr"
    only_primary = {"ldgnf-s": {"global_replication_group_id": "ldgnf-s", "members": [
        {"replication_group_id": "s", "region": "us-east-1", "role": "PRIMARY", "status": "associated"}]}}
    detached = tags(**{"dr:elasticache-detached-from": "ldgnf-s", "dr:elasticache-detached-peers": "us-east-1=s"})
    inventory = resources.build_inventory(raw(
        [{"arn": e1, "tags": tags()}], [{"arn": w2, "tags": detached}],
        cache_e1={"groups": {e1: {"replication_group_id": "s", "global_replication_group_id": "ldgnf-s"}},
                  "globals": only_primary},
        cache_w2={"groups": {w2: {"replication_group_id": "s-dr", "global_replication_group_id": None}},
                  "globals": {}}), customers=["acme"])
    assert list(inventory["hosts"]) == ["s"]
    assert inventory["hosts"]["s"]["dr_elasticache"]["replication_groups"] == {"us-east-1": "s", "us-west-2": "s-dr"}


def test_memorydb_clusters_become_snapshot_or_multi_region_hosts():
    ledger = f"arn:aws:memorydb:us-east-1:{A}:cluster/ledger"
    feed = f"arn:aws:memorydb:us-east-1:{A}:cluster/feed"
    multi = f"arn:aws:memorydb::{A}:multiregioncluster/ldgnf-feed"
    inventory = resources.build_inventory(raw(
        [{"arn": ledger, "tags": tags()}, {"arn": feed, "tags": tags()}, {"arn": multi, "tags": tags()}], [],
        memorydb_e1={"clusters": {ledger: {"cluster_name": "ledger", "node_type": "db.r6g.large"},
                                  feed: {"cluster_name": "feed", "multi_region_cluster_name": "ldgnf-feed"}},
                     "multi_region": {"ldgnf-feed": {"clusters": {"us-east-1": "feed", "us-west-2": "feed-w2"}}}}),
        customers=["acme"])
    assert sorted(inventory["hosts"]) == ["feed", "ledger"]
    assert inventory["hosts"]["ledger"]["dr_memorydb"] == {
        "mode": "snapshot", "cluster_name": "ledger", "clusters": {"us-east-1": "ledger", "us-west-2": "ledger-dr"},
        "node_type": "db.r6g.large"}
    feed_vars = inventory["hosts"]["feed"]["dr_memorydb"]
    assert feed_vars["mode"] == "multi-region"
    assert feed_vars["clusters"] == {"us-east-1": "feed", "us-west-2": "feed-w2"}
