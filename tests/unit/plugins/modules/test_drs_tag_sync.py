import pytest
from drs_fake_clients import FakeDRS
from drs_fake_clients import FakeEC2
from drs_fake_clients import client_error
from drs_fake_clients import fake_clients
from drs_fake_clients import instance
from drs_fake_clients import run_module
from drs_fake_clients import source_server

from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_tag_sync as mod

A, B = "210987654321", "345678901234"
BASE = {"customer": "acme", "env": "production"}
SOURCE_TAGS = {"Customer": "acme", "Environment": "production", "dr:wave": "1", "dr:priority": "high",
               "dr:enabled": "true", "CostCenter": "42", "aws:cloudformation:stack-name": "app"}


@pytest.fixture
def clients(monkeypatch):
    return fake_clients(monkeypatch)


@pytest.fixture
def estate(clients):
    drs_a = clients.add("drs", A, "us-west-2", FakeDRS([
        source_server("s-0000000000000000a", "acme-prod-app01", A, tags={"Old": "x", "dr:wave": "9"}),
        source_server("s-0000000000000000b", "acme-prod-db01", A),
        source_server("s-0000000000000000g", "globex-prod-web01", A),
        source_server("s-0000000000000000h", "acme-prod-web09", A, tags={"Customer": "globex"}),
    ]))
    drs_b = clients.add("drs", B, "us-west-2", FakeDRS([source_server("s-0000000000000000d", "acme-prod-web01", B)]))
    ec2_a = clients.add("ec2", A, "us-east-1", FakeEC2([
        instance("i-0000000000000000a", "acme-prod-app01", state="running", tagged=False, tags=SOURCE_TAGS,
                 region="us-east-1"),
        instance("i-0000000000000000b", "acme-prod-db01", state="running", tagged=False, tags=SOURCE_TAGS,
                 region="us-east-1"),
        instance("i-0000000000000000g", "globex-prod-web01", state="running", tagged=False,
                 tags={"Customer": "globex"}, region="us-east-1"),
        instance("i-0000000000000000h", "acme-prod-web09", state="running", tagged=False, tags=SOURCE_TAGS,
                 region="us-east-1"),
    ]))
    clients.add("ec2", B, "us-east-1", FakeEC2([
        instance("i-0000000000000000d", "acme-prod-web01", state="running", tagged=False,
                 tags=dict(SOURCE_TAGS, **{"dr:wave": "2"}), region="us-east-1"),
    ]))
    return {"drs_a": drs_a, "drs_b": drs_b, "ec2_a": ec2_a}


WAVE = [{"source_server_id": "s-0000000000000000a", "account_id": A},
        {"source_server_id": "s-0000000000000000b", "account_id": A},
        {"source_server_id": "s-0000000000000000d", "account_id": B}]


def tags_of(fake, sid):
    return fake.servers[sid]["tags"]


def test_copies_default_tags_never_aws_and_is_idempotent(estate, clients, capsys):
    result = run_module(mod, dict(BASE, servers=WAVE), capsys, diff=True)
    assert result["changed"] is True
    expected = {"Customer": "acme", "Environment": "production", "dr:wave": "1", "dr:priority": "high",
                "dr:enabled": "true", "Name": "acme-prod-db01"}
    assert tags_of(estate["drs_a"], "s-0000000000000000b") == expected
    assert tags_of(estate["drs_a"], "s-0000000000000000a")["Old"] == "x"  # untouched without purge
    assert tags_of(estate["drs_a"], "s-0000000000000000a")["dr:wave"] == "1"
    assert tags_of(estate["drs_b"], "s-0000000000000000d")["dr:wave"] == "2"
    assert all("CostCenter" not in r["after"] and not any(k.startswith("aws:") for k in r["after"])
               for r in result["servers"])
    assert result["diff"]["before"]["s-0000000000000000b"] == {}
    row = {r["source_server_id"]: r for r in result["servers"]}["s-0000000000000000a"]
    assert row["source_instance_id"] == "i-0000000000000000a" and row["tags_set"]["dr:wave"] == "1"
    clients.calls.clear()
    again = run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert again["changed"] is False
    assert clients.mutating_calls() == []


def test_include_exclude_and_purge(estate, clients, capsys):
    result = run_module(mod, dict(BASE, servers=WAVE[:1], include=["*"], exclude=["Cost*", "dr:priority", "Old"],
                                  purge=True), capsys)
    tags = tags_of(estate["drs_a"], "s-0000000000000000a")
    assert "CostCenter" not in tags and "dr:priority" not in tags and "aws:cloudformation:stack-name" not in tags
    assert tags["Old"] == "x"  # excluded keys are never purged
    assert tags["Customer"] == "acme"
    estate["ec2_a"].instances["i-0000000000000000a"]["Tags"] = [
        t for t in estate["ec2_a"].instances["i-0000000000000000a"]["Tags"] if t["Key"] != "dr:enabled"]
    result = run_module(mod, dict(BASE, servers=WAVE[:1], purge=True), capsys)
    assert result["servers"][0]["tags_removed"] == ["dr:enabled"]
    assert "dr:enabled" not in tags_of(estate["drs_a"], "s-0000000000000000a")


def test_check_mode_predicts_and_changes_nothing(estate, clients, capsys):
    result = run_module(mod, dict(BASE, servers=WAVE), capsys, check_mode=True)
    assert result["changed"] is True
    assert result["servers"][1]["after"]["Customer"] == "acme"
    assert clients.mutating_calls() == []
    assert tags_of(estate["drs_a"], "s-0000000000000000b") == {}


def test_scope_is_checked_on_the_source_instance(estate, clients, capsys):
    servers = WAVE + [{"source_server_id": "s-0000000000000000g", "account_id": A}]
    result = run_module(mod, dict(BASE, servers=servers), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000g (globex-prod-web01)" in result["msg"] and "i-0000000000000000g" in result["msg"]
    assert clients.mutating_calls() == []


def test_server_tagged_for_another_customer_is_refused(estate, clients, capsys):
    servers = [{"source_server_id": "s-0000000000000000h", "account_id": A}]
    result = run_module(mod, dict(BASE, servers=servers), capsys)
    assert result["failed"] is True and "s-0000000000000000h (acme-prod-web09)" in result["msg"]
    assert clients.mutating_calls() == []


def test_missing_source_instance_names_the_server(estate, clients, capsys):
    del estate["ec2_a"].instances["i-0000000000000000b"]
    result = run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000b (acme-prod-db01)" in result["msg"] and "i-0000000000000000b" in result["msg"]
    assert clients.mutating_calls() == []


def test_tagging_error_names_the_server(estate, clients, capsys):
    def denied(resourceArn, tags):
        raise client_error("AccessDeniedException", "not allowed", "TagResource")

    estate["drs_b"].tag_resource = denied
    result = run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000d (acme-prod-web01)" in result["msg"] and "AccessDeniedException" in result["msg"]
    assert tags_of(estate["drs_a"], "s-0000000000000000b")["Customer"] == "acme"


def test_selected():
    assert mod.selected("dr:wave", mod.DEFAULT_INCLUDE, [])
    assert not mod.selected("aws:autoscaling:groupName", ["*"], [])
    assert not mod.selected("AWS:x", ["*"], [])
    assert not mod.selected("dr:wave", ["dr:*"], ["dr:w*"])
    assert not mod.selected("customer", mod.DEFAULT_INCLUDE, [])  # case-sensitive, like AWS tag keys
