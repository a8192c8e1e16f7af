"""Estate files: validation reports every error by its path; generate blocks expand deterministically."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sandbox import estate as estate_mod

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO = REPO_ROOT / "sandbox" / "estates" / "demo.yml"


@pytest.fixture
def base():
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": "us-east-1", "dr": "us-west-2"},
        "customers": ["acme", "globex"],
        "accounts": [
            {
                "account_id": "210987654321",
                "name": "workload-a",
                "external_id": "edr-demo-workload-a",
                "networks": {
                    "us-east-1": {
                        "vpc": {"cidr": "10.10.0.0/16"},
                        "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
                        "security_groups": [{"name": "app", "egress": [{"protocol": "tcp", "port": 1500,
                                                                        "cidr": "10.20.0.0/16"}]}],
                    },
                    "us-west-2": {
                        "vpc": {"cidr": "10.20.0.0/16"},
                        "subnets": [{"name": "app", "cidr": "10.20.1.0/24"}],
                    },
                },
            }
        ],
        "servers": [
            {
                "hostname": "acme-prod-web01",
                "account": "workload-a",
                "customer": "acme",
                "environment": "production",
                "wave": 1,
                "priority": "critical",
                "source": {"private_ip": "10.10.1.10", "subnet": "app", "security_groups": ["app"]},
                "drs": {"replication_state": "CONTINUOUS", "lag_seconds": 3},
                "target": {"name": "ACME-prod-web01 ", "private_ip": "10.20.1.10", "subnet": "app"},
            }
        ],
    }


def test_valid_estate_has_no_errors(base):
    assert estate_mod.validate(base) == []


def test_demo_estate_is_valid_and_meets_the_demo_brief():
    document = estate_mod.load(DEMO)
    assert estate_mod.validate(document) == []
    expanded = estate_mod.expand(document)
    servers = expanded["servers"]
    assert len(servers) >= 24
    assert {s["customer"] for s in servers} == {"acme", "globex"}
    assert {s["account_id"] for s in servers} == {"210987654321", "345678901234"}
    assert len({s["wave"] for s in servers}) >= 3
    assert {"production", "staging"} <= {s["environment"] for s in servers}
    for server in servers:
        name = server["target"]["name"]
        # Target names match hostnames only after normalizing case and surrounding whitespace.
        assert name.strip().lower() == server["hostname"].lower()
    assert any(s["target"]["name"] != s["hostname"] for s in servers)
    tags = set()
    for server in servers:
        tags |= set(estate_mod.dr_tags(server))
    assert {"dr:enabled", "dr:wave", "Customer", "Environment", "dr:priority", "dr:recovery-strategy",
            "dr:rto-target", "dr:rpo-target", "dr:health-check-url", "dr:dependencies"} <= tags
    assert len(expanded["resources"]) >= 5


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda e: e["servers"][0].update(wave="one"), "servers[0].wave: 'one' must be a positive integer"),
        (lambda e: e["servers"][0].pop("customer"), "servers[0].customer: None is not one of"),
        (lambda e: e["servers"][0].update(customer="initech"), "servers[0].customer: 'initech' is not one of"),
        (lambda e: e["servers"][0].update(account="workload-z"), "servers[0].account: unknown account 'workload-z'"),
        (lambda e: e["servers"][0]["source"].update(private_ip="10.99.0.1"),
         "servers[0].source.private_ip: 10.99.0.1 is outside subnet app (10.10.1.0/24)"),
        (lambda e: e["servers"][0]["target"].update(subnet="db"),
         "servers[0].target.subnet: subnet 'db' is not declared"),
        (lambda e: e["servers"][0]["source"].update(security_groups=["nope"]),
         "servers[0].source.security_groups: security group 'nope' is not declared"),
        (lambda e: e["servers"][0]["drs"].update(replication_state="GREAT"),
         "servers[0].drs.replication_state: must be one of"),
        (lambda e: e["servers"][0].update(priority="urgent"), "servers[0].priority: 'urgent' is not one of"),
        (lambda e: e["servers"][0].update(colour="blue"), "servers[0].colour: unknown field"),
        (lambda e: e["accounts"][0].update(account_id=210987654321 // 10), "accounts[0].account_id:"),
        (lambda e: e["accounts"][0].pop("external_id"), "accounts[0].external_id: required"),
        (lambda e: e["regions"].update(dr="us-east-1"), "regions.dr: must differ from regions.primary"),
        (lambda e: e.pop("customers"), "customers: required"),
        (lambda e: e["accounts"][0]["networks"]["us-east-1"]["subnets"].append(
            {"name": "outside", "cidr": "192.168.0.0/24"}),
         "accounts[0].networks.us-east-1.subnets[1].cidr: 192.168.0.0/24 is not inside the VPC"),
        (lambda e: e.update(resources=[{"type": "mainframe", "name": "x", "account": "workload-a"}]),
         "resources[0].type: 'mainframe' is not one of"),
        (lambda e: e.update(generate=[{"count": 0}]), "generate[0].count: required: a positive integer"),
        (lambda e: e.update(generate=[{"count": 2, "name": "x-{nope}"}]), "generate[0].name: invalid name pattern"),
        (lambda e: e.update(sandbox={"speed": 2}), "sandbox.speed: unknown field"),
    ],
)
def test_validation_reports_the_path(base, mutate, expected):
    document = copy.deepcopy(base)
    mutate(document)
    errors = estate_mod.validate(document)
    assert any(error.startswith(expected) for error in errors), errors


def test_duplicate_hostnames_and_ips_are_reported(base):
    twin = copy.deepcopy(base["servers"][0])
    twin["hostname"] = " ACME-PROD-WEB01"
    base["servers"].append(twin)
    errors = estate_mod.validate(base)
    assert any(e.startswith("servers[1].hostname:") and "duplicates servers[0]" in e for e in errors)
    assert any(e.startswith("servers[1].source.private_ip: 10.10.1.10 is already used") for e in errors)


def test_check_raises_with_every_error(base):
    base["servers"][0]["wave"] = 0
    base["accounts"][0].pop("external_id")
    with pytest.raises(estate_mod.EstateError) as raised:
        estate_mod.check(base, "broken.yml")
    assert len(raised.value.errors) == 2
    assert "broken.yml is invalid" in str(raised.value)


def test_load_reports_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(estate_mod.EstateError, match="cannot read"):
        estate_mod.load(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("servers: [unclosed\n")
    with pytest.raises(estate_mod.EstateError, match="not valid YAML"):
        estate_mod.load(bad)
    scalar = tmp_path / "scalar.yml"
    scalar.write_text("just text\n")
    with pytest.raises(estate_mod.EstateError, match="mapping at the top level"):
        estate_mod.load(scalar)


def test_generate_expands_waves_priorities_accounts(base):
    base["accounts"].append({"account_id": "345678901234", "name": "workload-b", "external_id": "x"})
    base["generate"] = [{
        "count": 40, "name": "bench-{customer}-{index:04d}", "customers": ["acme", "globex"],
        "accounts": ["workload-a", "workload-b"], "waves": 4, "priorities": ["critical", "low"],
    }]
    assert estate_mod.validate(base) == []
    servers = estate_mod.expand(base)["servers"]
    generated = [s for s in servers if s["hostname"].startswith("bench-")]
    assert len(generated) == 40
    assert generated[0]["hostname"] == "bench-acme-0001"
    assert generated[1]["hostname"] == "bench-globex-0002"
    assert [sum(1 for s in generated if s["wave"] == w) for w in (1, 2, 3, 4)] == [10, 10, 10, 10]
    # Waves are contiguous: the first ten generated servers are wave 1.
    assert {s["wave"] for s in generated[:10]} == {1}
    assert {s["account_id"] for s in generated} == {"210987654321", "345678901234"}
    assert {s["priority"] for s in generated} == {"critical", "low"}
    assert len({s["hostname"] for s in generated}) == 40


def test_dr_tags_follow_the_schema(base):
    server = dict(base["servers"][0], dependencies=["db01", "db02"], rto_target=30, health_check_url="https://x")
    tags = estate_mod.dr_tags(server)
    assert tags["dr:enabled"] == "true"
    assert tags["dr:wave"] == "1"
    assert tags["Customer"] == "acme"
    assert tags["Environment"] == "production"
    assert tags["dr:priority"] == "critical"
    assert tags["dr:dependencies"] == "db01,db02"
    assert tags["dr:rto-target"] == "30"
    server["enabled"] = False
    assert estate_mod.dr_tags(server)["dr:enabled"] == "false"
