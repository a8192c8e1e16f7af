# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dr_resources inventory and discover.yml against the sandbox: groups, reports, scope, cache, access."""

import json
import socket
import time
from pathlib import Path

import pytest

WA, WB, HUB = "210987654321", "345678901234", "123456789012"
INVENTORY = "inventory/sandbox.dr_resources.yml"
INVENTORY_PATH = Path(__file__).resolve().parents[2] / INVENTORY


def plain(value):
    """ansible-inventory marks untrusted strings as {"__ansible_unsafe": ...}: read them as plain values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inventory(sandbox, source=INVENTORY, env=None, expect_rc=0):
    rc, out, err = sandbox.run_inventory(["-i", str(source), "--list"], env=env)
    assert rc == expect_rc, err
    if rc:
        return None, err
    data = plain(json.loads(out))
    return data, err


def members(data, group):
    return set(data.get(group, {}).get("hosts", []))


def network(prefix):
    return {
        "us-east-1": {"vpc": {"cidr": f"10.{prefix}.0.0/16"},
                      "subnets": [{"name": "app", "cidr": f"10.{prefix}.1.0/24"}]},
        "us-west-2": {"vpc": {"cidr": f"10.{prefix + 1}.0.0/16"},
                      "subnets": [{"name": "app", "cidr": f"10.{prefix + 1}.1.0/24"}]},
    }


def server(hostname, account, customer, wave=1, priority="high", target_name=None, **extra):
    entry = {"hostname": hostname, "account": account, "customer": customer, "environment": "production",
             "wave": wave, "priority": priority, "source": {"subnet": "app"},
             "drs": {"replication_state": "CONTINUOUS"}, "target": {"subnet": "app"}}
    if target_name is not None:
        entry["target"]["name"] = target_name
    entry.update(extra)
    return entry


def problem_estate():
    """acme and globex in the same two accounts, with every kind of tag problem the inventory reports."""
    return {
        "version": 1,
        "hub": {"account_id": HUB, "name": "hub"},
        "regions": {"primary": "us-east-1", "dr": "us-west-2"},
        "customers": ["acme", "globex"],
        "accounts": [
            {"account_id": WA, "name": "workload-a", "external_id": "edr-demo-workload-a", "networks": network(30)},
            {"account_id": WB, "name": "workload-b", "external_id": "edr-demo-workload-b", "networks": network(40)},
        ],
        "servers": [
            server("acme-web01", "workload-a", "acme", wave=2, target_name=" ACME-WEB01"),
            server("acme-db01", "workload-b", "acme", wave=1, priority="critical"),
            # the DRS server says wave 3, its source EC2 instance says wave 2
            server("acme-app01", "workload-a", "acme", wave=2,
                   drs={"replication_state": "CONTINUOUS", "tags": {"dr:wave": "3"}}),
            # malformed tags on the source instance, the server carries none (DRS does not copy tags)
            server("acme-bad01", "workload-a", "acme", tags={"dr:wave": "first", "dr:priority": "urgent"},
                   drs={"replication_state": "CONTINUOUS", "copy_tags": False}),
            # a second target with the Name of acme-db01's target
            server("acme-spare", "workload-b", "acme", drs=False, source=False,
                   target={"subnet": "app", "name": "acme-db01 "}),
            server("gx-web01", "workload-a", "globex", wave=1),
            server("gx-db01", "workload-b", "globex", wave=1, priority="critical"),
        ],
        "resources": [
            {"type": "lambda_function", "name": "acme-orders", "account": "workload-a", "customer": "acme",
             "environment": "production", "wave": 3, "dependencies": ["acme-web01", "acme-nowhere"]},
            {"type": "lambda_function", "name": "acme-early", "account": "workload-b", "customer": "acme",
             "environment": "production", "wave": 1, "dependencies": ["acme-web01"]},
            {"type": "lambda_function", "name": "gx-orders", "account": "workload-a", "customer": "globex",
             "environment": "production", "wave": 2},
        ],
    }


@pytest.fixture
def problems(sandbox):
    sandbox.reset()
    seeded = sandbox.seed(problem_estate())
    return seeded


def _errors(host):
    return {(e["tag"], e["problem"]) for e in host["dr_validation_errors"]}


def test_demo_estate_every_resource_in_its_groups(sandbox, demo_estate):
    data, _err = inventory(sandbox)
    hostvars = data["_meta"]["hostvars"]
    by_server = {h["dr_source_server_id"]: name for name, h in hostvars.items() if h.get("dr_source_server_id")}
    servers = [s for s in demo_estate["servers"].values() if s.get("source_server_id")]
    assert servers, "the demo estate seeds DRS servers"
    for seeded in servers:
        name = by_server[seeded["source_server_id"]]
        host = hostvars[name]
        assert host["dr_hostname"] == seeded["hostname"]
        assert host["dr_account_id"] == seeded["drs_account_id"]
        assert host["dr_technology"] == "drs"
        assert name in members(data, "technology_drs")
        assert name in members(data, f"customer_{seeded['customer']}")
        assert name in members(data, f"environment_{seeded['environment']}")
        assert name in members(data, f"account_{seeded['drs_account_id']}")
        if not host["dr_validation_errors"]:
            assert host["dr_wave"] == int(seeded["wave"])
            assert name in members(data, f"wave_{seeded['wave']}")
            if seeded.get("priority"):
                assert name in members(data, f"priority_{seeded['priority']}")
        if seeded.get("target_instance_id") and not host["dr_validation_errors"]:
            assert host["dr_target"]["instance_id"] == seeded["target_instance_id"]
    by_arn = {h["dr_arn"]: name for name, h in hostvars.items()}
    for resource in demo_estate.get("resources", []):
        # an Aurora cluster's member instance carries the cluster's tags, but the cluster is the host
        assert resource.get("instance_arn") is None or resource["instance_arn"] not in by_arn
        if resource.get("arn") in by_arn:
            name = by_arn[resource["arn"]]
            assert hostvars[name]["dr_account_id"] == resource["account_id"]
            assert name in members(data, f"account_{resource['account_id']}")
    rc, out, err = sandbox.run_inventory(["--graph"])
    assert rc == 0, err
    assert "@wave_1:" in out and "@technology_drs:" in out


def test_reports_problems_and_keeps_customers_apart(sandbox, problems):
    data, err = inventory(sandbox)
    hostvars = data["_meta"]["hostvars"]
    seeded = problems["servers"]
    # DRS server and EC2 instance disagree on dr:wave: reported with both values, not placed in a wave
    app = hostvars["acme-app01"]
    (conflict,) = [e for e in app["dr_validation_errors"] if e["tag"] == "dr:wave"]
    assert "'3'" in conflict["problem"] and "'2'" in conflict["problem"]
    assert conflict["arn"] == seeded["acme-app01"]["source_server_arn"]
    assert seeded["acme-app01"]["source_instance_id"] in conflict["fix"]
    assert app["dr_wave"] is None
    # malformed tags read from the source EC2 instance (the server has none)
    bad = hostvars["acme-bad01"]
    assert {e["tag"] for e in bad["dr_validation_errors"]} >= {"dr:wave", "dr:priority"}
    assert all(e["arn"] == seeded["acme-bad01"]["source_server_arn"] and e["fix"] for e in bad["dr_validation_errors"])
    # two targets with one normalized Name
    db = hostvars["acme-db01"]
    assert db["dr_target"] is None
    assert any("have the Name" in e["problem"] for e in db["dr_validation_errors"])
    # dependencies: an unknown name, and one that recovers in a later wave
    orders = next(h for h in hostvars.values() if h["dr_resource_name"] == "acme-orders")
    assert any("'acme-nowhere'" in e["problem"] for e in orders["dr_validation_errors"])
    early = next(h for h in hostvars.values() if h["dr_resource_name"] == "acme-early")
    assert any("recovers in wave 2" in e["problem"] for e in early["dr_validation_errors"])
    invalid = members(data, "invalid")
    assert {"acme-app01", "acme-bad01", "acme-db01"} <= invalid
    assert not invalid & set().union(*(members(data, g) for g in data if g.startswith("wave_")))
    # a valid one, matched to its target by normalized Name
    web = hostvars["acme-web01"]
    assert web["dr_validation_errors"] == []
    assert web["dr_target"]["instance_id"] == seeded["acme-web01"]["target_instance_id"]
    assert "acme-web01" in members(data, "wave_2")
    assert "tag problem" in err and "invalid" in err
    # a second customer in the same accounts
    assert members(data, "customer_globex") == {"gx-web01", "gx-db01", "gx-orders"}
    assert members(data, "customer_acme") & members(data, "customer_globex") == set()


def test_inventory_scoped_to_one_customer_shows_nothing_of_another(sandbox, problems, tmp_path):
    source = tmp_path / "acme.dr_resources.yml"
    source.write_text(INVENTORY_PATH.read_text(encoding="utf-8") + "\ncustomers: [acme]\n", encoding="utf-8")
    data, _err = inventory(sandbox, source)
    hostvars = data["_meta"]["hostvars"]
    assert hostvars and {h["dr_customer"] for h in hostvars.values()} == {"acme"}
    assert "customer_globex" not in data
    assert not any("gx-" in json.dumps(h) for h in hostvars.values())


def test_discover_playbook_plan_for_one_customer(sandbox, problems, tmp_path):
    plan_file = tmp_path / "plan.json"
    rc, out, err = sandbox.run_ansible(
        ["playbooks/discover.yml", "-e", "customer=acme", "-e", f"plan_file={plan_file}"])
    assert rc == 0, out + err
    plan = json.loads(plan_file.read_text())
    assert plan["customer"] == "acme"
    hosts = [r for w in plan["waves"] for r in w["resources"]] + plan["unplaced"]
    assert {h["environment"] for h in hosts} == {"production"}
    names = {h["host"] for h in hosts}
    assert {"acme-web01", "acme-db01", "acme-app01", "acme-bad01"} <= names
    assert not any(n.startswith("gx-") for n in names)
    assert [w["wave"] for w in plan["waves"]] == sorted(w["wave"] for w in plan["waves"])
    for wave in plan["waves"]:
        ranks = [("critical", "high", "medium", "low").index(r["priority"]) if r["priority"] else 9
                 for r in wave["resources"]]
        assert ranks == sorted(ranks)
    web = next(h for h in hosts if h["host"] == "acme-web01")
    assert web["target"]["instance_id"] == problems["servers"]["acme-web01"]["target_instance_id"]
    assert {h["host"] for h in plan["unplaced"]} >= {"acme-app01", "acme-bad01"}
    assert plan["invalid_count"] >= 3
    assert "Recovery plan for customer acme" in out


def test_discover_playbook_refuses_unknown_or_missing_customer(sandbox, problems):
    rc, out, _err = sandbox.run_ansible(["playbooks/discover.yml", "-e", "customer=initech"])
    assert rc != 0
    assert "initech" in out and "acme, globex" in out
    rc, out, _err = sandbox.run_ansible(["playbooks/discover.yml"])
    assert rc != 0 and "-e customer=" in out


def test_unreachable_account_is_reported(sandbox, problems, tmp_path):
    config = tmp_path / "aws_config"
    config.write_text("[default]\nregion = us-east-1\n")
    source = tmp_path / "unreachable.dr_resources.yml"
    base = INVENTORY_PATH.read_text(encoding="utf-8").replace("fail_on_unreachable_account: true", "")
    extra = "\n".join([
        "  - account_id: \"456789012345\"",
        "    name: workload-gone",
        "    profile: edr-no-such-profile",
    ])
    source.write_text(base.replace("accounts:\n", "accounts:\n" + extra + "\n", 1)
                      + "\nfail_on_unreachable_account: false\n", encoding="utf-8")
    env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    data, err = inventory(sandbox, source, env=env)
    assert "456789012345" in err and "edr-no-such-profile" in err
    unreachable = data["_meta"]["hostvars"]["acme-web01"]["dr_unreachable_accounts"]
    assert [u["account_id"] for u in unreachable] == ["456789012345"]
    assert "acme-web01" in members(data, "customer_acme")  # the other accounts still answer
    # by default an unreachable account fails the inventory
    source.write_text(source.read_text().replace("fail_on_unreachable_account: false", ""), encoding="utf-8")
    rc, out, err = sandbox.run_inventory(["-i", str(source), "--list"],
                                         env=dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED="true"))
    assert rc != 0
    assert "456789012345" in err and "cannot reach" in err


def test_cached_run_makes_no_aws_call_and_role_assumed_with_external_id(sandbox, problems, tmp_path):
    env = {"ANSIBLE_INVENTORY_CACHE": "true", "ANSIBLE_INVENTORY_CACHE_PLUGIN": "ansible.builtin.jsonfile",
           "ANSIBLE_INVENTORY_CACHE_CONNECTION": str(tmp_path / "cache"), "ANSIBLE_INVENTORY_CACHE_TIMEOUT": "600"}
    sandbox.clear_requests()
    first, _err = inventory(sandbox, env=env)
    calls = sandbox.requests()
    assume = [r for r in calls if r["service"] == "sts" and r["operation"] == "AssumeRole"]
    assert {r["role_arn"] for r in assume} == {f"arn:aws:iam::{WA}:role/EnterpriseDRWorkloadRole",
                                               f"arn:aws:iam::{WB}:role/EnterpriseDRWorkloadRole"}
    for entry in assume:
        account = entry["role_arn"].split(":")[4]
        assert entry["external_id"] == {WA: "edr-demo-workload-a", WB: "edr-demo-workload-b"}[account]
    assert len(assume) == 2, "one AssumeRole per account, not one per request"
    assert {r["account"] for r in calls if r["service"] == "resourcegroupstaggingapi"} == {HUB, WA, WB}
    sandbox.clear_requests()
    second, _err = inventory(sandbox, env=env)
    assert sandbox.requests() == []
    assert second["_meta"]["hostvars"].keys() == first["_meta"]["hostvars"].keys()
    assert all(h["dr_inventory_source"] == "live" for h in second["_meta"]["hostvars"].values())
    # --flush-cache goes back to AWS
    rc, _out, err = sandbox.run_inventory(["--list", "--flush-cache"], env=env)
    assert rc == 0, err
    assert sandbox.requests()


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_emergency_run_uses_stale_cache_when_aws_does_not_answer(sandbox, problems, tmp_path):
    env = {"ANSIBLE_INVENTORY_CACHE": "true", "ANSIBLE_INVENTORY_CACHE_PLUGIN": "ansible.builtin.jsonfile",
           "ANSIBLE_INVENTORY_CACHE_CONNECTION": str(tmp_path / "cache"), "ANSIBLE_INVENTORY_CACHE_TIMEOUT": "1"}
    live, _err = inventory(sandbox, env=env)
    time.sleep(1.5)  # past the cache TTL
    down = dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{_closed_port()}")
    rc, _out, err = sandbox.run_inventory(["--list"], env=dict(down, ANSIBLE_INVENTORY_UNPARSED_FAILED="true"))
    assert rc != 0 and "cannot reach" in err
    stale, err = inventory(sandbox, env=dict(down, ENTERPRISE_DR_USE_STALE_INVENTORY="true"))
    assert stale["_meta"]["hostvars"].keys() == live["_meta"]["hostvars"].keys()
    assert all(h["dr_inventory_source"] == "cache" for h in stale["_meta"]["hostvars"].values())
    assert members(stale, "wave_2") == members(live, "wave_2")
    assert "last discovery" in err


def test_tag_values_are_data_and_never_run_as_templates_on_the_controller(sandbox, tmp_path):
    """Anyone who can tag an instance in a workload account writes into the inventory: a tag value that is a Jinja
    expression stays the literal string AWS holds, in the inventory and in every playbook that reads it."""
    marker = tmp_path / "template-ran"
    injected = "{{ lookup('ansible.builtin.pipe', 'touch " + str(marker) + "') }}"
    estate = problem_estate()
    estate["servers"] = [
        server("acme-web01", "workload-a", "acme", tags={"Owner": injected},
               drs={"replication_state": "CONTINUOUS", "tags": {"Owner": injected}}),
        server("gx-web01", "workload-a", "globex"),
    ]
    estate["resources"] = []
    sandbox.reset()
    sandbox.seed(estate)

    data, _err = inventory(sandbox)
    assert not marker.exists(), "ansible-inventory ran a tag value as a template"
    owners = {h.get("dr_tags", {}).get("Owner") for h in data["_meta"]["hostvars"].values()}
    assert injected in owners

    playbook = tmp_path / "read_tags.yml"
    playbook.write_text(
        "- hosts: all\n"
        "  gather_facts: false\n"
        "  connection: local\n"
        "  tasks:\n"
        "    - ansible.builtin.set_fact:\n"
        "        owner: \"{{ dr_tags['Owner'] | default('none') }}\"\n"
        "    - ansible.builtin.debug:\n"
        "        msg: \"{{ owner }} {{ dr_tags }}\"\n"
        "    - ansible.builtin.copy:\n"
        "        content: \"{{ owner }}\"\n"
        f"        dest: \"{tmp_path}/owner-{{{{ inventory_hostname }}}}\"\n")
    rc, out, err = sandbox.run_ansible([str(playbook)])
    assert rc == 0, out + err
    assert not marker.exists(), "a playbook ran a tag value as a template"
    written = {p.read_text() for p in tmp_path.glob("owner-*")}
    assert injected in written
    rc, out, err = sandbox.run_ansible(["playbooks/discover.yml", "-e", "customer=acme",
                                        "-e", f"plan_file={tmp_path / 'plan.json'}"])
    assert rc == 0, out + err
    assert not marker.exists(), "discover.yml ran a tag value as a template"
