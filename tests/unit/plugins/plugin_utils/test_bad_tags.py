# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every tag of the schema with every odd value: reported with ARN, tag, value and fix; never a crash."""

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_wave_plan import dr_wave_plan
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.matching import match_servers_by_scope
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.resources import build_inventory
from tests.unit.plugins.plugin_utils.fixtures import WA
from tests.unit.plugins.plugin_utils.fixtures import account
from tests.unit.plugins.plugin_utils.fixtures import instance
from tests.unit.plugins.plugin_utils.fixtures import raw
from tests.unit.plugins.plugin_utils.fixtures import server
from tests.unit.plugins.plugin_utils.fixtures import tags
from tests.unit.plugins.plugin_utils.fixtures import target

ARN = f"arn:aws:lambda:us-east-1:{WA}:function:fn"
ODD = ["", "   ", "-1", "0", "1.5", "1e3", "99999999999999999999", "²", "١", "three", "ünïcødé", "1,1", " 2 x"]


def _lambda(resource_tags):
    return raw(account(WA, "workload-a", primary={"tagged": [{"arn": ARN, "tags": resource_tags}]}))


def _host(resource_tags, **scope):
    return build_inventory(_lambda(resource_tags), **scope)["hosts"]["fn"]


def _by_tag(host):
    return {e["tag"]: e for e in host["dr_validation_errors"]}


@pytest.mark.parametrize("value", ODD)
def test_odd_wave_values_are_reported_not_crashed(value):
    host = _host(tags(wave=value))
    error = _by_tag(host)["dr:wave"]
    assert error["arn"] == ARN and error["value"] == value and error["fix"]
    assert host["dr_wave"] is None


@pytest.mark.parametrize("tag", ["dr:rto-target", "dr:rpo-target"])
@pytest.mark.parametrize("value", [v for v in ODD if v != "0"])  # 0 minutes is a valid RPO target
def test_odd_minutes_values_are_reported_not_crashed(tag, value):
    host = _host(dict(tags(), **{tag: value}))
    error = _by_tag(host)[tag]
    assert error["arn"] == ARN and error["value"] == value and "minutes" in error["problem"]


@pytest.mark.parametrize("tag,value", [
    ("dr:enabled", "yes"), ("dr:enabled", "  "), ("dr:priority", ""), ("dr:priority", "urgent"),
    ("dr:priority", "ÇRITICAL"), ("Customer", "   "), ("Environment", ""),
    ("dr:health-check-url", "not a url"), ("dr:health-check-url", "ftp://x/health"),
    ("dr:health-check-url", "tcp://db.example.com"), ("dr:health-check-url", "https://"),
    ("dr:health-check-url", "https://host:99999/health"),
])
def test_odd_values_of_other_tags_are_reported(tag, value):
    host = _host(dict(tags(), **{tag: value}))
    error = _by_tag(host)[tag]
    assert error["arn"] == ARN and error["fix"] and tag in error["message"]


def test_a_drs_strategy_outside_the_adapter_is_reported():
    data = raw(account(WA, "workload-a", primary={"instances": {
        "i-01": instance("i-01", tags(dr__recovery_strategy="teleport"))}},
        dr={"drs_servers": [server("s-01", "app01", "i-01")], "targets": [target("i-t1", "app01")]}))
    error = _by_tag(build_inventory(data)["hosts"]["app01"])["dr:recovery-strategy"]
    assert "launch-into-instance, new-instance" in error["problem"]


@pytest.mark.parametrize("key,meant", [
    ("customer", "Customer"), ("dr:Wave", "dr:wave"), ("dr:wvae", "dr:wave"), ("ENVIRONMENT", "Environment")])
def test_a_misspelt_tag_key_names_the_schema_tag(key, meant):
    resource_tags = tags()
    resource_tags[key] = resource_tags.pop(meant)
    host = _host(resource_tags)
    assert f"rename the tag {key!r} to {meant!r}" in _by_tag(host)[key]["fix"]


def test_duplicate_dependencies_are_one_dependency():
    data = raw(account(WA, "workload-a", primary={"tagged": [
        {"arn": ARN, "tags": tags(wave="2", dr__dependencies="db, DB ,db")},
        {"arn": f"arn:aws:lambda:us-east-1:{WA}:function:db", "tags": tags(wave="1")},
    ]}))
    host = build_inventory(data)["hosts"]["fn"]
    assert host["dr_dependencies"] == ["db"] and host["dr_validation_errors"] == []


def _plan_host(name, **values):
    base = {"inventory_hostname": name, "dr_technology": "lambda", "dr_customer": "acme", "dr_wave": 1,
            "dr_priority": "high", "dr_arn": f"arn:aws:lambda:us-east-1:{WA}:function:{name}", "dr_tags": {}}
    base.update(values)
    return base


def test_the_wave_plan_names_the_tag_value_not_none():
    plan = dr_wave_plan([_plan_host("fn", dr_wave=None, dr_tags={"dr:wave": "third"})], customer="acme")
    assert plan["errors"] == [
        f"fn (arn:aws:lambda:us-east-1:{WA}:function:fn): dr:wave 'third' is not an integer; fix: set the tag "
        "dr:wave to the wave number, 1 or more (for example dr:wave=1)"]


@pytest.mark.parametrize("value", ["²", "١", "0", "-3", "1.5", True, " "])
def test_the_wave_plan_never_crashes_on_an_odd_wave(value):
    plan = dr_wave_plan([_plan_host("fn", dr_wave=value, dr_tags={"dr:wave": str(value)})], customer="acme")
    assert plan["hosts"] == [] and len(plan["errors"]) == 1 and "fix: set the tag dr:wave" in plan["errors"][0]


def test_a_resource_without_customer_is_reported_and_never_crashes_the_customer_list():
    hosts = [_plan_host("fn"), _plan_host("orphan", dr_customer=None, dr_tags={}),
             _plan_host("blank", dr_customer=None, dr_tags={"Customer": "  "})]
    plan = dr_wave_plan(hosts, customer="acme")
    assert plan["customers"] == ["acme"] and plan["hosts"] == ["fn"]
    assert len(plan["unassigned"]) == 2
    assert all("tag Customer is" in m and "fix: add the tag Customer=" in m for m in plan["unassigned"])
    assert "function:orphan): tag Customer is missing" in " ".join(plan["unassigned"])


# -- another customer's launch-into target is never a candidate -----------------------------------

def _estate(*targets, server_customer="acme"):
    return raw(account(WA, "workload-a",
                       primary={"instances": {"i-01": instance("i-01", tags(customer=server_customer))}},
                       dr={"drs_servers": [server("s-01", "app01", "i-01")], "targets": list(targets)}))


def _target(instance_id, customer=None, environment=None):
    result = target(instance_id, "app01")
    if customer:
        result["tags"]["Customer"] = customer
    if environment:
        result["tags"]["Environment"] = environment
    return result


def test_another_customers_target_with_the_same_name_does_not_block_or_receive_the_server():
    host = build_inventory(_estate(_target("i-acme", "acme"), _target("i-globex", "globex")))["hosts"]["app01"]
    assert host["dr_validation_errors"] == []
    assert host["dr_target"]["instance_id"] == "i-acme"


def test_only_another_customers_target_means_no_target_and_advice_about_acmes_own():
    host = build_inventory(_estate(_target("i-globex", "GLOBEX ")))["hosts"]["app01"]
    assert host["dr_target"] is None
    messages = " ".join(e["message"] for e in host["dr_validation_errors"])
    assert "i-globex" not in messages and "no pre-provisioned target named 'app01'" in messages


def test_a_target_of_another_environment_is_not_a_candidate():
    host = build_inventory(_estate(_target("i-staging", "acme", "staging"), _target("i-prod", "acme", "Production")))
    assert host["hosts"]["app01"]["dr_target"]["instance_id"] == "i-prod"


def test_two_of_acmes_own_targets_with_one_name_are_still_a_duplicate():
    host = build_inventory(_estate(_target("i-a1", "acme"), _target("i-a2"), _target("i-g", "globex")))
    errors = host["hosts"]["app01"]["dr_validation_errors"]
    assert len(errors) == 1 and "i-a1, i-a2" in errors[0]["problem"] and "i-g" not in errors[0]["message"]


def test_module_side_matching_ignores_another_customers_target():
    servers = [{"source_server_id": "s-1", "hostname": "app01", "customer": "acme", "environment": "production"},
               {"source_server_id": "s-2", "hostname": "app01", "customer": "globex", "environment": "production"}]
    targets = [{"instance_id": "i-acme", "name": "app01", "tags": {"Customer": "acme"}},
               {"instance_id": "i-globex", "name": "APP01", "tags": {"Customer": "globex"}}]
    plan = match_servers_by_scope(servers, targets)
    assert {m["server"]["source_server_id"]: m["target"]["instance_id"] for m in plan["matches"]} == {
        "s-1": "i-acme", "s-2": "i-globex"}
    assert plan["problems"] == [] and plan["unmatched_targets"] == []


def test_module_side_matching_still_refuses_acmes_own_duplicates():
    servers = [{"source_server_id": "s-1", "hostname": "app01", "customer": "acme", "environment": None}]
    targets = [{"instance_id": "i-1", "name": "app01", "tags": {"Customer": "acme"}},
               {"instance_id": "i-2", "name": "app01", "tags": {}},
               {"instance_id": "i-3", "name": "app01", "tags": {"Customer": "globex"}}]
    plan = match_servers_by_scope(servers, targets)
    assert plan["matches"] == []
    assert plan["duplicate_targets"] and set(plan["duplicate_targets"][0]["instance_ids"]) == {"i-1", "i-2"}
