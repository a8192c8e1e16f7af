# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import resources
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.resources import build_inventory
from tests.unit.plugins.plugin_utils.fixtures import WA
from tests.unit.plugins.plugin_utils.fixtures import WB
from tests.unit.plugins.plugin_utils.fixtures import account
from tests.unit.plugins.plugin_utils.fixtures import clone
from tests.unit.plugins.plugin_utils.fixtures import demo_raw
from tests.unit.plugins.plugin_utils.fixtures import instance
from tests.unit.plugins.plugin_utils.fixtures import raw
from tests.unit.plugins.plugin_utils.fixtures import server
from tests.unit.plugins.plugin_utils.fixtures import tags
from tests.unit.plugins.plugin_utils.fixtures import target


def _errors(host):
    return [(e["tag"], e["problem"]) for e in host["dr_validation_errors"]]


def test_demo_hosts_groups_and_vars():
    inv = build_inventory(demo_raw())
    hosts = inv["hosts"]
    # orders-worker exists in two accounts: both qualified by account name, deterministically
    assert sorted(hosts) == sorted([
        "web01", "gx-app01", "orders-db", "orders-api", "orders-worker@workload-a", "orders-worker@workload-b",
        "web-asg", "abcdef-1234", "sessions",
    ])
    web = hosts["web01"]
    assert web["dr_technology"] == "drs"
    assert web["dr_wave"] == 2 and web["dr_priority"] == "high" and web["dr_priority_rank"] == 1
    assert web["dr_source_server_id"] == "s-0000000000000000a"
    assert web["dr_source_instance_id"] == "i-0aaa000000000001"
    assert web["dr_target"]["instance_id"] == "i-0bbb000000000001"
    assert web["dr_target"]["name"] == " WEB01 "
    assert web["dr_target"]["private_ip"] == "10.1.0.10"
    assert web["dr_recovery_strategy"] == "launch-into-instance"
    assert web["dr_credentials"] == {"account_id": WA, "role_arn": f"arn:aws:iam::{WA}:role/EnterpriseDRWorkloadRole"}
    assert web["ansible_connection"] == "local"
    assert web["dr_validation_errors"] == []
    assert hosts["orders-db"]["dr_technology"] == "aurora"
    assert hosts["orders-api"]["dr_technology"] == "ecs"
    assert hosts["orders-api"]["dr_dependencies"] == ["orders-db"]
    assert hosts["orders-api"]["dr_dependency_hosts"] == ["orders-db"]
    assert hosts["web-asg"]["dr_technology"] == "autoscaling"
    assert hosts["web-asg"]["dr_resource_id"] == "web-asg"
    assert hosts["abcdef-1234"]["dr_technology"] == "route53"
    assert hosts["sessions"]["dr_technology"] == "elasticache"
    assert hosts["orders-worker@workload-b"]["dr_account_id"] == WB
    groups = inv["groups"]
    assert set(groups["wave_1"]) == {"orders-db", "web-asg", "sessions", "gx-app01"}
    assert set(groups["wave_2"]) == {"web01", "orders-api"}
    assert set(groups["customer_globex"]) == {"web-asg", "gx-app01"}
    assert set(groups["environment_staging"]) == {"sessions"}
    assert set(groups["technology_lambda"]) == {"orders-worker@workload-a", "orders-worker@workload-b"}
    assert set(groups["account_workload_b"]) == set(groups[f"account_{WB}"]) == {"sessions", "orders-worker@workload-b"}
    assert set(groups["priority_critical"]) == {"orders-db"}
    assert "invalid" not in groups
    assert inv["customers"] == ["acme", "globex"]
    assert inv["problems"] == [] and inv["unreachable"] == []


def test_customer_scope_leaves_out_other_customers():
    inv = build_inventory(demo_raw(), customers=["ACME"])
    assert inv["customers"] == ["acme"]
    assert "web-asg" not in inv["hosts"] and "gx-app01" not in inv["hosts"]
    assert "customer_globex" not in inv["groups"]
    inv = build_inventory(demo_raw(), customers=["acme"], environments=["staging"])
    assert list(inv["hosts"]) == ["sessions"]


def test_drs_tag_conflict_is_reported_not_guessed():
    data = raw(account(
        WA, "workload-a",
        primary={"instances": {"i-01": instance("i-01", tags(wave="2"))}},
        dr={"drs_servers": [server("s-01", "app01", "i-01", server_tags={"dr:wave": "3"})],
            "targets": [target("i-t1", "app01")]},
    ))
    host = build_inventory(data)["hosts"]["app01"]
    assert host["dr_wave"] is None
    assert "dr:wave" not in host["dr_tags"]
    (error,) = host["dr_validation_errors"]
    assert error["tag"] == "dr:wave" and "'3'" in error["problem"] and "'2'" in error["problem"]
    assert error["arn"] == f"arn:aws:drs:us-west-2:{WA}:source-server/s-01"
    assert "i-01" in error["fix"]
    inv = build_inventory(data)
    assert inv["groups"]["invalid"] == ["app01"]
    assert not any(g.startswith("wave_") for g in inv["groups"])


def test_drs_tags_from_server_alone_and_agreeing_case():
    data = raw(account(
        WA, "workload-a",
        primary={"instances": {"i-01": instance("i-01", {"Customer": "ACME", "Name": "app01"})}},
        dr={"drs_servers": [server("s-01", "app01", "i-01", server_tags=tags(wave="4"))],
            "targets": [target("i-t1", "APP01")]},
    ))
    host = build_inventory(data)["hosts"]["app01"]
    assert host["dr_validation_errors"] == []
    assert host["dr_wave"] == 4 and host["dr_target"]["instance_id"] == "i-t1"


def test_two_servers_claiming_one_target_and_two_targets_one_name():
    data = raw(account(
        WA, "workload-a",
        primary={"instances": {"i-01": instance("i-01", tags()), "i-02": instance("i-02", tags(customer="globex")),
                               "i-03": instance("i-03", tags())}},
        dr={"drs_servers": [server("s-01", "app01", "i-01"), server("s-02", "App01 ", "i-02"),
                            server("s-03", "db01", "i-03")],
            "targets": [target("i-t1", "app01"), target("i-t2", "db01"), target("i-t3", "DB01"),
                        target("i-t4", "gone", state="terminated")]},
    ))
    # scoped to acme, the globex server's claim is still seen
    inv = build_inventory(data, customers=["acme"])
    assert sorted(inv["hosts"]) == ["app01", "db01"]
    app = inv["hosts"]["app01"]
    assert app["dr_target"] is None
    assert any("i-t1" in e["problem"] and "s-01, s-02" in e["problem"] for e in app["dr_validation_errors"])
    db = inv["hosts"]["db01"]
    assert db["dr_target"] is None
    assert any("i-t2, i-t3" in e["problem"] for e in db["dr_validation_errors"])
    assert sorted(inv["groups"]["invalid"]) == ["app01", "db01"]


def test_missing_target_for_launch_into_and_new_instance_strategy():
    data = raw(account(
        WA, "workload-a",
        primary={"instances": {"i-01": instance("i-01", tags()),
                               "i-02": instance("i-02", tags(dr__recovery_strategy="new-instance"))}},
        dr={"drs_servers": [server("s-01", "app01", "i-01"), server("s-02", "app02", "i-02")]},
    ))
    hosts = build_inventory(data)["hosts"]
    assert _errors(hosts["app01"])[0][0] == "dr:recovery-strategy"
    assert "no pre-provisioned target named 'app01'" in _errors(hosts["app01"])[0][1]
    assert hosts["app02"]["dr_validation_errors"] == []
    assert hosts["app02"]["dr_recovery_strategy"] == "new-instance"


def test_failback_servers_and_disabled_resources_are_not_hosts():
    data = raw(account(
        WA, "workload-a",
        primary={"tagged": [{"arn": f"arn:aws:lambda:us-east-1:{WA}:function:off",
                             "tags": dict(tags(), **{"dr:enabled": "false"})}],
                 "instances": {"i-01": instance("i-01", tags(dr__recovery_strategy="new-instance"))}},
        dr={"drs_servers": [server("s-01", "app01", "i-01", direction="FAILBACK"),
                            server("s-02", "app02", "i-99")]},  # no tags anywhere: not DR-enabled
    ))
    assert build_inventory(data)["hosts"] == {}


def test_malformed_tags_are_reported_with_arn_tag_and_fix():
    arn = f"arn:aws:lambda:us-east-1:{WA}:function:bad"
    data = raw(account(WA, "workload-a", primary={"tagged": [
        {"arn": arn, "tags": {"dr:enabled": "yes", "dr:wave": "first", "dr:priority": "urgent",
                              "dr:rto-target": "soon", "Environment": "production"}},
        {"arn": f"arn:aws:lambda:us-east-1:{WA}:function:zero", "tags": tags(wave="0")},
    ]}))
    inv = build_inventory(data)
    host = inv["hosts"]["bad"]
    found = {e["tag"]: e for e in host["dr_validation_errors"]}
    assert set(found) == {"dr:enabled", "dr:wave", "dr:priority", "dr:rto-target", "Customer"}
    for error in found.values():
        assert error["arn"] == arn and error["fix"] and arn in error["message"] and error["tag"] in error["message"]
    assert found["Customer"]["value"] is None
    assert host["dr_wave"] is None and host["dr_priority"] is None
    assert inv["hosts"]["zero"]["dr_validation_errors"][0]["tag"] == "dr:wave"
    assert sorted(inv["groups"]["invalid"]) == ["bad", "zero"]
    assert len(inv["problems"]) == 6


def test_dependencies_unknown_later_wave_and_other_customer():
    data = raw(account(WA, "workload-a", primary={"tagged": [
        {"arn": f"arn:aws:lambda:us-east-1:{WA}:function:api",
         "tags": tags(wave="1", dr__dependencies="db, nowhere, gx-db")},
        {"arn": f"arn:aws:rds:us-east-1:{WA}:db:db", "tags": tags(wave="2")},
        {"arn": f"arn:aws:rds:us-east-1:{WA}:db:gx-db", "tags": tags(customer="globex", wave="1")},
        {"arn": f"arn:aws:rds:us-east-1:{WA}:db:cache", "tags": tags(wave="3", dr__dependencies="api,  db")},
    ]}))
    hosts = build_inventory(data)["hosts"]
    messages = [e["problem"] for e in hosts["api"]["dr_validation_errors"]]
    assert any("'nowhere'" in m for m in messages)
    assert any("'gx-db'" in m for m in messages)  # another customer's resource is not a valid dependency
    assert any("depends on db, which recovers in wave 2" in m for m in messages)
    assert hosts["cache"]["dr_validation_errors"] == []
    assert hosts["cache"]["dr_dependency_hosts"] == ["api", "db"]


def test_unsupported_type_and_unreplicated_instance():
    data = raw(account(WA, "workload-a", primary={"tagged": [
        {"arn": f"arn:aws:ecs:us-east-1:{WA}:cluster/apps", "tags": tags()},
        {"arn": f"arn:aws:ec2:us-east-1:{WA}:instance/i-0lonely", "tags": dict(tags(), Name="lonely")},
    ]}))
    hosts = build_inventory(data)["hosts"]
    assert hosts["apps"]["dr_technology"] is None
    assert "ECS services" in hosts["apps"]["dr_validation_errors"][0]["fix"]
    assert hosts["lonely"]["dr_technology"] == "drs"
    assert "no DRS source server" in hosts["lonely"]["dr_validation_errors"][0]["problem"]


def test_host_name_collisions_are_deterministic():
    def estate(order):
        items = [
            {"arn": f"arn:aws:lambda:us-east-1:{WA}:function:orders", "tags": tags()},
            {"arn": f"arn:aws:ecs:us-east-1:{WA}:service/c1/orders", "tags": tags()},
            {"arn": f"arn:aws:lambda:us-west-2:{WA}:function:Orders", "tags": tags()},
        ]
        primary = [items[i] for i in order if "us-east-1" in items[i]["arn"]]
        acct = account(WA, "workload-a", primary={"tagged": primary}, dr={"tagged": [items[2]]})
        return raw(acct)
    first = build_inventory(estate([0, 1]))["hosts"]
    second = build_inventory(estate([1, 0]))["hosts"]
    assert sorted(first) == sorted(second) == sorted([
        "orders@workload-a.us-east-1.lambda", "orders@workload-a.us-east-1.ecs", "Orders@workload-a.us-west-2.lambda",
    ])


def test_unreachable_accounts_and_regions_are_listed():
    data = raw(account(WA, "workload-a", error="AccessDenied: cannot assume role"),
               account(WB, "workload-b", dr={"error": "Could not connect to the endpoint URL"}))
    inv = build_inventory(data)
    assert inv["unreachable"] == [
        {"account_id": WA, "name": "workload-a", "region": None, "reason": "AccessDenied: cannot assume role"},
        {"account_id": WB, "name": "workload-b", "region": "us-west-2",
         "reason": "Could not connect to the endpoint URL"},
    ]


def test_cached_blocks_mark_hosts():
    data = demo_raw()
    data = clone(data)
    data["accounts"][1]["regions"]["us-east-1"]["source"] = "cache"
    hosts = build_inventory(data)["hosts"]
    assert hosts["web01"]["dr_inventory_source"] == "cache"  # its EC2 tags came from the cached origin region
    assert hosts["orders-db"]["dr_inventory_source"] == "cache"
    assert hosts["sessions"]["dr_inventory_source"] == "live"


def test_merge_drs_tags_keeps_non_dr_tags_of_both():
    merged, problems, conflicts = resources.merge_drs_tags(
        "arn:x", {"Owner": "a", "dr:wave": "1"}, {"Owner": "b", "Name": "n", "dr:wave": " 1 "}, "i-1")
    assert merged == {"Owner": "a", "Name": "n", "dr:wave": "1"}
    assert problems == [] and conflicts == set()


def test_aurora_cluster_members_are_not_hosts():
    cluster = f"arn:aws:rds:us-east-1:{WA}:cluster:orders"
    member = f"arn:aws:rds:us-east-1:{WA}:db:orders-1"
    orphan = f"arn:aws:rds:us-east-1:{WA}:db:billing-1"
    replica = f"arn:aws:rds:us-east-1:{WA}:db:reports-replica"
    data = raw(account(WA, "workload-a", primary={
        "tagged": [{"arn": cluster, "tags": tags()}, {"arn": member, "tags": tags()},
                   {"arn": orphan, "tags": tags()}, {"arn": replica, "tags": tags()}],
        "rds_cluster_members": {member: "orders", orphan: "billing"},
    }))
    hosts = build_inventory(data)["hosts"]
    assert sorted(hosts) == ["billing-1", "orders", "reports-replica"]
    assert hosts["orders"]["dr_technology"] == "aurora" and hosts["reports-replica"]["dr_technology"] == "rds"
    assert "tag the cluster billing" in hosts["billing-1"]["dr_validation_errors"][0]["fix"]


def _global_orders(east_tags, west_tags):
    east = f"arn:aws:rds:us-east-1:{WA}:cluster:orders-east"
    west = f"arn:aws:rds:us-west-2:{WA}:cluster:orders-west"
    gc = {"arn": f"arn:aws:rds::{WA}:global-cluster:orders", "identifier": "orders", "engine": "aurora-postgresql",
          "engine_version": "15.4", "tags": {},
          "members": [{"arn": east, "region": "us-east-1", "is_writer": True},
                      {"arn": west, "region": "us-west-2", "is_writer": False}]}
    return raw(account(WA, "workload-a",
                       primary={"tagged": [{"arn": east, "tags": east_tags}], "aurora_global_clusters": [gc]},
                       dr={"tagged": [{"arn": west, "tags": west_tags}], "aurora_global_clusters": [gc]}))


def test_an_aurora_global_database_is_one_host_with_its_members():
    hosts = build_inventory(_global_orders(tags(), tags()), customers=["acme"])["hosts"]
    assert sorted(hosts) == ["orders"]
    host = hosts["orders"]
    assert host["dr_technology"] == "aurora" and host["dr_arn"] == f"arn:aws:rds::{WA}:global-cluster:orders"
    assert host["dr_aurora"]["dr_member_arn"].endswith(":cluster:orders-west")
    assert host["dr_aurora"]["writer_region"] == "us-east-1" and len(host["dr_aurora"]["members"]) == 2
    assert host["dr_validation_errors"] == []


def test_a_global_database_member_of_another_customer_makes_the_host_invalid():
    hosts = build_inventory(_global_orders(tags(), tags(customer="globex")), customers=["acme"])["hosts"]
    problems = hosts["orders"]["dr_validation_errors"]
    assert any(p["tag"] == "Customer" and "orders-west" in p["problem"] and p["value"] == "globex" for p in problems)


def test_an_rds_primary_and_its_cross_region_replica_are_one_host():
    east = f"arn:aws:rds:us-east-1:{WA}:db:ledger"
    west = f"arn:aws:rds:us-west-2:{WA}:db:ledger"
    data = raw(account(
        WA, "workload-a",
        primary={"tagged": [{"arn": east, "tags": tags()}], "rds_replication": {
            east: {"identifier": "ledger", "engine": "postgres", "source": None, "replicas": [west]}}},
        dr={"tagged": [{"arn": west, "tags": tags()}], "rds_replication": {
            west: {"identifier": "ledger", "engine": "postgres", "source": east, "replicas": []}}}))
    hosts = build_inventory(data)["hosts"]
    assert sorted(hosts) == ["ledger"]
    host = hosts["ledger"]
    assert host["dr_technology"] == "rds" and host["dr_arn"] == east
    assert host["dr_rds"]["instances"] == {"us-east-1": "ledger", "us-west-2": "ledger"}
    assert host["dr_validation_errors"] == []
