"""The EventBridge adapter through the real playbooks on the sandbox, asserting EventBridge and Route 53 state.

A small estate: acme has a rule on the default bus, a rule on a custom bus and a global endpoint (one wave); globex
has a rule of its own in the same account, which no acme run may touch. EventBridge takes part only in ACTIVATE, so
after one full failover the other runs are limited to that phase (each playbook run costs minutes on a loaded
machine).
"""

import json
import subprocess
import time

import pytest

from sandbox.harness import REPO_ROOT
from sandbox.harness import crash

ACCOUNT = "210987654321"
PRIMARY, DR = "us-east-1", "us-west-2"
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=3"]
ACTIVATE_ONLY = ["-e", '{"phases": ["activate"]}']
ACME_RULES = [("default", "acme-prod-nightly-report"), ("acme-orders", "acme-prod-order-events")]
GLOBEX_RULE = ("default", "globex-prod-billing")


def estate(twin_tags=None):
    order_rule = {"type": "eventbridge_rule", "name": "acme-prod-order-events", "account": "workload-a",
                  "customer": "acme", "environment": "production", "wave": 1, "priority": "high",
                  "event_bus": "acme-orders", "rto_target": 5}
    if twin_tags is not None:
        order_rule["twin_tags"] = twin_tags
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR},
        "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a"}],
        "servers": [],
        "resources": [
            {"type": "eventbridge_rule", "name": "acme-prod-nightly-report", "account": "workload-a",
             "customer": "acme", "environment": "production", "wave": 1, "priority": "low"},
            order_rule,
            {"type": "eventbridge_endpoint", "name": "acme-prod-events", "account": "workload-a",
             "customer": "acme", "environment": "production", "wave": 1, "priority": "low",
             "event_bus": "acme-orders-global"},
            {"type": "eventbridge_rule", "name": "globex-prod-billing", "account": "workload-a",
             "customer": "globex", "environment": "production", "wave": 1},
        ],
        "sandbox": {"drs": {"time_scale": 0.2}},
    }


@pytest.fixture
def seeded(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate())
    return tmp_path


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def rule_states(sandbox, rules=None):
    rules = ACME_RULES + [GLOBEX_RULE] if rules is None else rules
    found = {}
    for region in (PRIMARY, DR):
        events = sandbox.client("events", ACCOUNT, region)
        for bus, name in rules:
            found[(name, region)] = events.describe_rule(Name=name, EventBusName=bus)["State"]
    return found


def health_check(sandbox):
    route53 = sandbox.client("route53", ACCOUNT)
    [check] = route53.list_health_checks()["HealthChecks"]
    return check["HealthCheckConfig"]


def endpoint(sandbox):
    return sandbox.client("events", ACCOUNT, PRIMARY).describe_endpoint(Name="acme-prod-events")


def plain(value):
    """ansible-inventory marks untrusted strings as {"__ansible_unsafe": ...}: read them as plain values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def entries(store, record):
    data = json.loads((store / "resources" / (record["execution_id"] + ".json")).read_text())
    return list(data.values()) if isinstance(data, dict) else data


def calls(sandbox, operation):
    return [r for r in sandbox.requests() if r["operation"] == operation and r["status"] == 200]


def wait_active(sandbox, timeout=30):
    deadline = time.time() + timeout
    while endpoint(sandbox)["State"] != "ACTIVE" and time.time() < deadline:
        time.sleep(0.3)
    return endpoint(sandbox)["State"]


def test_inventory_finds_rules_and_the_endpoint_with_their_host_variables(sandbox, seeded):
    rc, out, err = sandbox.run_inventory(["--list"])
    assert rc == 0, err
    hostvars = plain(json.loads(out))["_meta"]["hostvars"]
    by_name = {h["dr_resource_name"]: h for h in hostvars.values() if h["dr_technology"] == "eventbridge"}
    assert set(by_name) == {"acme-prod-nightly-report", "acme-prod-order-events", "acme-prod-events",
                            "globex-prod-billing"}
    order = by_name["acme-prod-order-events"]
    assert order["dr_arn"] == f"arn:aws:events:{PRIMARY}:{ACCOUNT}:rule/acme-orders/acme-prod-order-events"
    assert order["dr_eventbridge"] == {"kind": "rule", "rule_name": "acme-prod-order-events",
                                       "event_bus_name": "acme-orders"}
    ep = by_name["acme-prod-events"]
    assert ep["dr_arn"] == f"arn:aws:events:{PRIMARY}:{ACCOUNT}:endpoint/acme-prod-events"
    assert ep["dr_customer"] == "acme" and ep["dr_wave"] == 1 and not ep["dr_validation_errors"]
    assert ep["dr_eventbridge"]["secondary_region"] == DR
    assert ep["dr_eventbridge"]["health_check_arn"].startswith("arn:aws:route53:::healthcheck/")
    # The endpoint's bus is the endpoint's, not a resource reported as unsupported.
    assert not any(":event-bus/" in h["dr_arn"] for h in hostvars.values())


def test_check_drill_failover_and_failback(sandbox, seeded):
    assert wait_active(sandbox) == "ACTIVE"
    before, before_check = rule_states(sandbox), health_check(sandbox)
    assert before[("acme-prod-nightly-report", PRIMARY)] == "ENABLED"
    assert before[("acme-prod-nightly-report", DR)] == "DISABLED"

    # --check: each resource's plan printed, no mutating call.
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", *ACTIVATE_ONLY, check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert "rule acme-prod-nightly-report: enable in us-west-2, disable in us-east-1" in out
    assert "rule acme-prod-order-events: enable in us-west-2, disable in us-east-1" in out
    assert "endpoint acme-prod-events: health check" in out and "force unhealthy" in out
    assert rule_states(sandbox) == before

    # A drill only reports: no EventBridge or Route 53 change, nothing left behind.
    drill_store = seeded / "drill"
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", drill_store, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] in ("events", "route53")] == []
    assert rule_states(sandbox) == before and health_check(sandbox) == before_check
    assert [e["Name"] for e in sandbox.client("events", ACCOUNT, PRIMARY).list_endpoints()["Endpoints"]] == [
        "acme-prod-events"]
    [drill] = records(drill_store)
    drill_entries = entries(drill_store, drill)
    assert len(drill_entries) == 3 and all(e["status"] == "succeeded" for e in drill_entries)
    assert all(e["summary"].startswith("reported only") for e in drill_entries)

    # Failover: the DR rules enabled, the old ones disabled, the endpoint's health check forced unhealthy.
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    after = rule_states(sandbox)
    for _bus, name in ACME_RULES:
        assert after[(name, DR)] == "ENABLED" and after[(name, PRIMARY)] == "DISABLED", name
    # globex's rule is untouched in both regions.
    assert after[("globex-prod-billing", PRIMARY)] == "ENABLED"
    assert after[("globex-prod-billing", DR)] == "DISABLED"
    config = health_check(sandbox)
    assert config["Disabled"] is True and config["Inverted"] is True  # forced unhealthy: events go to us-west-2
    assert endpoint(sandbox)["State"] == "ACTIVE"
    [record] = records(seeded)
    assert record["status"] == "succeeded"
    failover_entries = entries(seeded, record)
    assert len(failover_entries) == 3 and all(e["phase"] == "ACTIVATE" for e in failover_entries)
    order = next(e for e in failover_entries if "acme-prod-order-events" in e["resource"])
    assert order["technology"] == "eventbridge" and order["status"] == "succeeded"
    assert order["before"]["active_region_rule_state"] == "DISABLED"
    assert order["after"]["active_region_rule_state"] == "ENABLED"
    assert order["after"]["old_region_rule_state"] == "DISABLED"
    assert order["rto_target_minutes"] == 5
    ep = next(e for e in failover_entries if ":endpoint/" in e["resource"])
    assert ep["before"]["health_check_inverted"] is False and ep["after"]["routing_to"] == DR
    assert ep["after"]["endpoint_state"] == "ACTIVE"

    # Failback: the mirror.
    rc, out, err = run(sandbox, "failback.yml", seeded, "-e", "customer=acme", *ACTIVATE_ONLY)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert rule_states(sandbox) == before
    config = health_check(sandbox)
    assert config["Disabled"] is False and config["Inverted"] is False
    assert endpoint(sandbox)["State"] == "ACTIVE"


def test_out_of_scope_twin_is_refused_before_any_change(sandbox, tmp_path):
    sandbox.reset()
    # The DR twin of acme's order rule is tagged for globex: acme's run must not enable it.
    sandbox.seed(estate(twin_tags={"Customer": "globex", "Environment": "production"}))
    wait_active(sandbox)
    before = rule_states(sandbox)
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", tmp_path, "-e", "customer=acme", *ACTIVATE_ONLY)
    assert rc != 0
    assert f"arn:aws:events:{DR}:{ACCOUNT}:rule/acme-orders/acme-prod-order-events" in out
    assert "Customer='globex'" in out and "nothing was changed" in out
    assert [r for r in sandbox.mutating_requests() if r["service"] in ("events", "route53")] == []
    assert rule_states(sandbox) == before


def test_killed_activate_resumes_and_switches_each_resource_once(sandbox, seeded):
    # The endpoint is still CREATING (slow clock): ACTIVATE waits for it after forcing the health check.
    sandbox.reset()
    sandbox.seed(estate())
    sandbox.drs_settings(time_scale=500.0)
    sandbox.clear_requests()
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={seeded}", *COMMON, *ACTIVATE_ONLY]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not calls(sandbox, "UpdateHealthCheck"):
        time.sleep(0.5)
    assert calls(sandbox, "UpdateHealthCheck"), "ACTIVATE never reached the endpoint"
    time.sleep(2)  # the module is now polling DescribeEndpoint
    crash(process)
    [interrupted] = records(seeded)
    assert interrupted["waves"]["ACTIVATE/1"]["status"] == "running"
    sandbox.drs_settings(time_scale=0.2)
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", *ACTIVATE_ONLY)
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "(resumed)" in out
    [resumed] = records(seeded)
    # Only ACTIVATE was asked for: the record stays open for the next phases, with ACTIVATE done.
    assert resumed["execution_id"] == interrupted["execution_id"]
    assert resumed["waves"]["ACTIVATE/1"]["status"] == "succeeded"
    # Each rule enabled once and disabled once, the health check forced once, over both runs.
    assert len(calls(sandbox, "EnableRule")) == 2, calls(sandbox, "EnableRule")
    assert len(calls(sandbox, "DisableRule")) == 2
    assert len(calls(sandbox, "UpdateHealthCheck")) == 1
    after = rule_states(sandbox)
    assert all(after[(name, DR)] == "ENABLED" and after[(name, PRIMARY)] == "DISABLED" for _b, name in ACME_RULES)
    assert endpoint(sandbox)["State"] == "ACTIVE"
