import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_wave_plan import dr_wave_plan


def host(name, wave, priority="medium", customer="acme", env="production", tech="drs", deps=None):
    return {"inventory_hostname": name, "dr_wave": wave, "dr_priority": priority, "dr_customer": customer,
            "dr_environment": env, "dr_technology": tech, "dr_dependencies": deps or []}


def test_orders_by_wave_then_priority_and_scopes_customer():
    hosts = [host("web01", 2, "low"), host("db01", 1, "critical"), host("app01", 1, "high"),
             host("app02", 1, "critical"), host("other", 1, customer="globex")]
    plan = dr_wave_plan(hosts, customer="ACME")
    assert plan["hosts"] == ["app02", "db01", "app01", "web01"]
    assert plan["batch_sizes"] == [3, 1]
    assert [w["wave"] for w in plan["waves"]] == [1, 2]
    assert "other" not in plan["hosts"]
    assert plan["errors"] == []


def test_environment_and_wave_and_technology_filters_list_exclusions():
    hosts = [host("a", 1), host("b", 2), host("c", 1, env="staging"), host("d", 1, tech="rds")]
    plan = dr_wave_plan(hosts, customer="acme", environment="production", waves=[1], technologies=["drs"])
    assert plan["hosts"] == ["a"]
    reasons = {e["host"]: e["reason"] for e in plan["excluded"]}
    assert set(reasons) == {"b", "d"}
    assert "wave 2" in reasons["b"] and "rds" in reasons["d"]
    assert plan["technologies"] == ["drs"]
    everything = dr_wave_plan(hosts, customer="acme")
    assert everything["technologies"] == ["drs", "rds"]  # in-scope only, sorted, once each


def test_dependencies_split_a_wave_into_tiers():
    hosts = [host("web01", 1, "critical", deps="app01"), host("app01", 1, deps=["db01"]), host("db01", 1, "low")]
    plan = dr_wave_plan(hosts, customer="acme")
    assert [b["hosts"] for b in plan["batches"]] == [["db01"], ["app01"], ["web01"]]
    assert plan["batch_sizes"] == [1, 1, 1]


def test_dependency_problems_are_reported():
    hosts = [host("a", 1, deps="b"), host("b", 1, deps="a"), host("c", 1, deps="zzz"), host("d", 1, deps="e"),
             host("e", 2), host("f", "two")]
    plan = dr_wave_plan(hosts, customer="acme")
    text = "\n".join(plan["errors"])
    assert "cycle" in text and "a, b" in text
    assert "'zzz'" in text
    assert "later wave 2" in text
    assert "f: dr:wave 'two' is not an integer" in text


def test_customer_required():
    with pytest.raises(AnsibleFilterError):
        dr_wave_plan([], customer="")


def test_dr_drs_servers_maps_inventory_hostvars_to_module_entries():
    from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_drs_servers import dr_drs_servers

    hosts = [
        {"inventory_hostname": "acme-prod-web01", "dr_technology": "drs", "dr_source_server_id": "s-1",
         "dr_account_id": "210987654321", "dr_resource_region": "us-west-2", "dr_hostname": "acme-prod-web01",
         "dr_priority": "critical", "dr_recovery_strategy": "launch-into-instance",
         "dr_target": {"instance_id": "i-t", "private_ip": "10.20.1.11"}, "dr_source_instance_id": "i-s",
         "dr_primary_region": "us-east-1"},
        {"inventory_hostname": "acme-prod-app01", "dr_technology": "drs", "dr_source_server_id": "s-2",
         "dr_account_id": "210987654321", "dr_resource_region": "us-west-2", "dr_recovery_strategy": "new-instance",
         "dr_target": {"instance_id": "i-u", "private_ip": "10.20.1.12"}},
        {"inventory_hostname": "acme-orders", "dr_technology": "lambda"},
    ]
    full = dr_drs_servers(hosts)
    assert [e["source_server_id"] for e in full] == ["s-1", "s-2"]
    assert full[0]["target_instance_id"] == "i-t" and full[0]["expected_private_ip"] == "10.20.1.11"
    assert full[1]["target_instance_id"] is None  # new-instance strategy never launches into a target
    trimmed = dr_drs_servers(hosts, keys=["source_server_id", "target_instance_id"], region="us-east-2")
    assert trimmed == [{"source_server_id": "s-1", "target_instance_id": "i-t"}, {"source_server_id": "s-2"}]


def test_dr_drs_servers_source_side_lists_original_instances():
    from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_drs_servers import dr_drs_servers

    hosts = [{"inventory_hostname": "web01", "dr_technology": "drs", "dr_source_instance_id": "i-src",
              "dr_account_id": "210987654321", "dr_primary_region": "us-east-1"},
             {"inventory_hostname": "web02", "dr_technology": "drs"}]
    assert dr_drs_servers(hosts, side="source") == [
        {"instance_id": "i-src", "account_id": "210987654321", "region": "us-east-1", "hostname": "web01"}]
    assert dr_drs_servers(hosts, side="source", region="us-east-2")[0]["region"] == "us-east-2"


def test_dr_host_facts_keeps_only_the_hosts_own_dr_variables():
    from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_host_facts import dr_host_facts

    host = {"inventory_hostname": "web01", "dr_wave": 1, "dr_target": {"instance_id": "i-1"}, "dr_accounts": [1],
            "_instantiate_drs_hosts": [{"huge": True}], "ansible_connection": "local", "groups": {}}
    assert dr_host_facts(host) == {"inventory_hostname": "web01", "dr_wave": 1, "dr_target": {"instance_id": "i-1"}}
