# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin without AWS: configuration, population, reports, cache and emergency fallback."""

import pytest

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.template import trust_as_template

from ansible_collections.enterprise_dr.orchestration.plugins.inventory.dr_resources import InventoryModule
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.resources import build_inventory
from tests.unit.plugins.plugin_utils.fixtures import WA
from tests.unit.plugins.plugin_utils.fixtures import WB
from tests.unit.plugins.plugin_utils.fixtures import account
from tests.unit.plugins.plugin_utils.fixtures import clone
from tests.unit.plugins.plugin_utils.fixtures import demo_raw
from tests.unit.plugins.plugin_utils.fixtures import raw
from tests.unit.plugins.plugin_utils.fixtures import tags

DEFAULTS = {
    "accounts": [], "primary_region": "us-east-1", "dr_region": "us-west-2", "regions": [], "customers": [],
    "environments": [], "profile": None, "endpoint_url": None, "strict": False, "fail_on_unreachable_account": True,
    "use_stale_cache_on_failure": False, "max_workers": 4, "compose": {}, "groups": {}, "keyed_groups": [],
    "cache": False, "cache_connection": None, "leading_separator": True, "use_extra_vars": False,
}


class Warnings:
    def __init__(self):
        self.messages = []

    def warning(self, message):
        self.messages.append(message)


@pytest.fixture
def plugin(monkeypatch, tmp_path):
    module = InventoryModule()
    options = dict(DEFAULTS, cache_connection=str(tmp_path / "cache"))
    monkeypatch.setattr(module, "get_option", lambda name, hostvars=None: options[name])
    monkeypatch.setattr(module, "get_cache_key", lambda path: "dr_resources_test")
    module.options = options
    module.inventory = InventoryData()
    module.loader = DataLoader()
    module.templar = Templar(loader=module.loader)
    module._vars = {}
    module.display = Warnings()
    module.discover_calls = 0
    return module


def accounts():
    return [
        {"account_id": "123456789012", "name": "hub"},
        {"account_id": WA, "name": "workload-a", "role_arn": f"arn:aws:iam::{WA}:role/EnterpriseDRWorkloadRole",
         "external_id": "edr-demo-workload-a"},
        {"account_id": WB, "name": "workload-b", "role_arn": f"arn:aws:iam::{WB}:role/EnterpriseDRWorkloadRole",
         "external_id": "edr-demo-workload-b"},
    ]


def test_verify_file_needs_the_suffix(plugin, tmp_path):
    good, bad = tmp_path / "prod.dr_resources.yml", tmp_path / "prod.aws_ec2.yml"
    good.write_text("plugin: enterprise_dr.orchestration.dr_resources\n")
    bad.write_text("plugin: enterprise_dr.orchestration.dr_resources\n")
    assert plugin.verify_file(str(good)) and not plugin.verify_file(str(bad))


def test_account_specs_defaults_and_padding(plugin):
    plugin.options["accounts"] = [{"account_id": 12345678901, "profile": "p"}, accounts()[1]]
    specs = plugin._account_specs()
    assert specs[0]["account_id"] == "012345678901"
    assert specs[1]["primary_region"] == "us-east-1" and specs[1]["dr_region"] == "us-west-2"
    assert specs[1]["session_name"] == "enterprise-dr-orchestration"


@pytest.mark.parametrize("entry,message", [
    ({"account_id": "1234"}, "12-digit"),
    ({"name": "x"}, "needs an account_id"),
    ({"account_id": WA, "profile": "p", "role_arn": f"arn:aws:iam::{WA}:role/R"}, "not both"),
    ({"account_id": WA, "role_arn": f"arn:aws:iam::{WB}:role/R"}, "another account"),
])
def test_account_specs_refuse_bad_configuration(plugin, entry, message):
    plugin.options["accounts"] = [entry]
    with pytest.raises(AnsibleParserError, match=message):
        plugin._account_specs()


def test_account_specs_refuse_duplicates_and_empty(plugin):
    plugin.options["accounts"] = [{"account_id": WA}, {"account_id": WA}]
    with pytest.raises(AnsibleParserError, match="twice"):
        plugin._account_specs()
    plugin.options["accounts"] = []
    with pytest.raises(AnsibleParserError, match="empty"):
        plugin._account_specs()


def test_populate_hosts_groups_vars_and_keeps_external_ids_out_of_hostvars(plugin):
    plugin.options["accounts"] = accounts()
    # inventory files are trusted as templates when Ansible reads them; so are these options
    plugin.options["keyed_groups"] = [{"key": trust_as_template("dr_technology"), "prefix": "tech"}]
    plugin.options["compose"] = {"dr_label": trust_as_template("dr_customer ~ '-' ~ dr_wave")}
    specs = plugin._account_specs()
    data = demo_raw()
    plugin._populate(build_inventory(data), specs, data)
    inv = plugin.inventory
    web = inv.get_host("web01")
    assert web.vars["dr_wave"] == 2 and web.vars["ansible_connection"] == "local"
    assert web.vars["dr_label"] == "acme-2"
    assert "edr-demo-workload-a" not in repr(web.vars)
    assert {g.name for g in web.get_groups()} >= {"wave_2", "technology_drs", "tech_drs", "customer_acme",
                                                  "dr_resources", f"account_{WA}"}
    access = inv.groups["all"].vars["dr_accounts"]
    assert access[1] == {"account_id": WA, "name": "workload-a", "external_id": "edr-demo-workload-a",
                         "role_arn": f"arn:aws:iam::{WA}:role/EnterpriseDRWorkloadRole",
                         "session_name": "enterprise-dr-orchestration"}
    assert inv.groups["all"].vars["dr_discovered_at"] == data["discovered_at"]


def test_problems_warn_by_default_and_fail_when_strict(plugin):
    data = raw(account(WA, "workload-a", primary={"tagged": [
        {"arn": f"arn:aws:lambda:us-east-1:{WA}:function:f", "tags": tags(wave="zero")}]}))
    built = build_inventory(data)
    plugin._report(built)
    (message,) = plugin.display.messages
    assert "1 tag problem(s) on 1 DR resource(s)" in message and f"arn:aws:lambda:us-east-1:{WA}:function:f" in message
    plugin.options["strict"] = True
    with pytest.raises(AnsibleParserError, match="dr:wave"):
        plugin._report(built)


def test_unreachable_account_fails_by_default_and_warns_when_allowed(plugin):
    built = build_inventory(raw(account(WA, "workload-a", error="AccessDenied (AssumeRole): not authorized")))
    with pytest.raises(AnsibleParserError, match=f"cannot reach {WA}: AccessDenied"):
        plugin._report(built)
    plugin.options["fail_on_unreachable_account"] = False
    plugin._report(built)
    assert any(WA in m and "not authorized" in m for m in plugin.display.messages)


def test_a_throttled_account_is_not_blamed_on_its_role(plugin):
    built = build_inventory(raw(account(WA, "workload-a", error="Throttling (AssumeRole): Rate exceeded")))
    with pytest.raises(AnsibleParserError) as refused:
        plugin._report(built)
    message = str(refused.value)
    assert f"cannot reach {WA}: Throttling (AssumeRole)" in message
    assert "kept throttling the calls for 5 minutes" in message and "run the same command again" in message
    assert "trust policy" not in message
    denied = build_inventory(raw(account(WA, "workload-a", error="AccessDenied (AssumeRole): not authorized")))
    with pytest.raises(AnsibleParserError, match="Fix the account's role, trust policy or profile"):
        plugin._report(denied)


def test_cache_hit_skips_discovery_and_emergency_uses_stale_copy(plugin, monkeypatch):
    results = [demo_raw()]

    def discover(specs):
        plugin.discover_calls += 1
        return clone(results[-1])

    monkeypatch.setattr(plugin, "_discover", discover)
    plugin.options.update(cache=True, accounts=accounts())
    plugin._cache = {}
    specs = plugin._account_specs()
    first, fresh = plugin._load("inv.dr_resources.yml", True, specs)
    assert fresh and plugin.discover_calls == 1 and plugin._cache["dr_resources_test"] == first
    second, fresh = plugin._load("inv.dr_resources.yml", True, specs)
    assert not fresh and plugin.discover_calls == 1 and second == first
    # past the TTL (the cache plugin forgets the entry) and the accounts do not answer
    plugin._cache = {}
    down = clone(first)
    for entry in down["accounts"]:
        entry["error"], entry["regions"] = "EndpointConnectionError: could not connect", {}
    results.append(down)
    merged, _fresh = plugin._load("inv.dr_resources.yml", True, specs)
    assert all(a["error"] for a in merged["accounts"])  # without emergency mode nothing is substituted
    plugin.options["use_stale_cache_on_failure"] = True
    merged, _fresh = plugin._load("inv.dr_resources.yml", True, specs)
    built = build_inventory(merged)
    assert built["unreachable"] == []
    assert {h["dr_inventory_source"] for h in built["hosts"].values()} == {"cache"}
    assert set(built["hosts"]) == set(build_inventory(first)["hosts"])
    assert "dr_resources_test" not in plugin._cache  # an incomplete discovery is never cached
    assert any("did not answer" in m for m in plugin.display.messages)


def test_tag_values_are_never_templated(plugin):
    plugin.options["accounts"] = [{"account_id": WA, "name": "workload-a"}]
    plugin.options["compose"] = {"dr_owner": trust_as_template("dr_tags['Owner']")}
    data = raw(account(WA, "workload-a", primary={"tagged": [
        {"arn": f"arn:aws:lambda:us-east-1:{WA}:function:f", "tags": dict(tags(), Owner="{{ 6 * 7 }}")}]}))
    plugin._populate(build_inventory(data), plugin._account_specs(), data)
    host = plugin.inventory.get_host("f")
    assert host.vars["dr_owner"] == "{{ 6 * 7 }}"
    assert plugin.templar.template(host.vars["dr_tags"]["Owner"]) == "{{ 6 * 7 }}"
