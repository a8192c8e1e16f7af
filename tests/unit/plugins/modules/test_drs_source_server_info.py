import pytest
from drs_fake_clients import FakeDRS
from drs_fake_clients import FakeEC2
from drs_fake_clients import client_error
from drs_fake_clients import fake_clients
from drs_fake_clients import instance
from drs_fake_clients import launch_config
from drs_fake_clients import run_module
from drs_fake_clients import source_server

from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_source_server_info as info

A, B = "210987654321", "345678901234"
ACCOUNTS = [
    {"account_id": acct, "role_arn": f"arn:aws:iam::{acct}:role/EnterpriseDRWorkloadRole",
     "external_id": f"edr-demo-{name}"}
    for acct, name in ((A, "workload-a"), (B, "workload-b"))
]


def acme(wave, priority="high", env="production"):
    return {"Customer": "acme", "Environment": env, "dr:wave": str(wave), "dr:priority": priority}


@pytest.fixture
def clients(monkeypatch):
    return fake_clients(monkeypatch)


@pytest.fixture
def estate(clients):
    drs_a = clients.add("drs", A, "us-west-2", FakeDRS([
        source_server("s-0000000000000000a", "acme-prod-app01", A, tags=acme(2, "high"), lag="PT1M30S"),
        source_server("s-0000000000000000b", "ACME-prod-db01 ", A, tags=acme(1, "critical"), lag="P0D"),
        source_server("s-0000000000000000c", "globex-prod-web01", A,
                      tags={"Customer": "globex", "dr:wave": "1"}, state="STALLED", lag="PT10M"),
    ], snapshots={"s-0000000000000000a": [
        {"snapshotID": "pit-00000000000000001", "sourceServerID": "s-0000000000000000a",
         "expectedTimestamp": "2026-01-01T00:00:00Z", "timestamp": "2026-01-01T00:00:01Z", "ebsSnapshots": []},
        {"snapshotID": "pit-00000000000000002", "sourceServerID": "s-0000000000000000a",
         "expectedTimestamp": "2026-01-01T00:10:00Z", "timestamp": "2026-01-01T00:10:02Z",
         "ebsSnapshots": ["snap-00000000000000001"]},
    ]}))
    drs_b = clients.add("drs", B, "us-west-2", FakeDRS([
        source_server("s-0000000000000000d", "acme-prod-web01", B, tags=acme(1, "medium"), lag="PT12S",
                      staging="999999999999"),
        source_server("s-0000000000000000e", "acme-prod-web02", B, tags=acme(3, "low"), lag="PT2H",
                      direction="FAILBACK"),
    ]))
    drs_b.configs["s-0000000000000000d"] = launch_config(
        "s-0000000000000000d", copyPrivateIp=False, copyTags=False, targetInstanceTypeRightSizingMethod="NONE",
        launchIntoInstanceProperties={"launchIntoEC2InstanceID": "i-0123456789abcdef0"})
    clients.add("ec2", A, "us-west-2", FakeEC2([
        instance("i-00000000000000a01", " Acme-Prod-App01"),
        instance("i-00000000000000a02", "acme-prod-db01", state="running"),
        instance("i-00000000000000a03", "acme-prod-db01"),
    ]))
    clients.add("ec2", B, "us-west-2", FakeEC2([instance("i-00000000000000b01", "acme-prod-web01")]))
    return {"drs_a": drs_a, "drs_b": drs_b}


def ids(result):
    return [s["source_server_id"] for s in result["source_servers"]]


def test_reads_every_account_with_readiness_lag_and_launch_settings(estate, clients, capsys):
    result = run_module(info, {"accounts": ACCOUNTS}, capsys)
    assert result["changed"] is False
    assert sorted(ids(result)) == ["s-0000000000000000" + c for c in "abcde"]
    by_id = {s["source_server_id"]: s for s in result["source_servers"]}
    assert by_id["s-0000000000000000a"]["lag_seconds"] == 90
    assert by_id["s-0000000000000000b"]["lag_seconds"] == 0
    assert by_id["s-0000000000000000e"]["lag_seconds"] == 7200
    assert by_id["s-0000000000000000a"]["account_id"] == A
    assert by_id["s-0000000000000000d"]["account_id"] == B
    assert by_id["s-0000000000000000d"]["staging_account_id"] == "999999999999"
    assert by_id["s-0000000000000000d"]["launch_settings"]["launch_into_instance_id"] == "i-0123456789abcdef0"
    assert by_id["s-0000000000000000a"]["launch_settings"]["right_sizing"] == "BASIC"
    assert by_id["s-0000000000000000a"]["wave"] == 2 and by_id["s-0000000000000000a"]["priority"] == "high"
    assert by_id["s-0000000000000000c"]["ready"] is False
    assert any("STALLED" in p for p in by_id["s-0000000000000000c"]["problems"])
    assert result["summary"]["total"] == 5
    assert result["summary"]["ready"] == 4 and result["summary"]["not_ready"] == 1
    assert result["summary"]["by_replication_state"] == {"CONTINUOUS": 4, "STALLED": 1}
    assert result["summary"]["by_account_region"] == {f"{A}/us-west-2": 3, f"{B}/us-west-2": 2}
    # Sorted by account, then wave, then priority.
    assert ids(result)[:3] == ["s-0000000000000000b", "s-0000000000000000c", "s-0000000000000000a"]
    # Pagination: account A has 3 servers, pages of 2.
    assert [c for c in clients.calls if c[0] == "describe_source_servers" and c[1]["nextToken"] == "2"]
    # Snapshots are opt-in: no call without include_snapshots.
    assert not [c for c in clients.calls if c[0] == "describe_recovery_snapshots"]


def test_filters_hostnames_normalized_tags_and_direction(estate, clients, capsys):
    result = run_module(info, {"accounts": ACCOUNTS, "hostnames": ["acme-prod-db01", "  ACME-PROD-WEB01"]}, capsys)
    assert sorted(ids(result)) == ["s-0000000000000000b", "s-0000000000000000d"]
    result = run_module(info, {"accounts": ACCOUNTS, "tags": {"Customer": "acme", "dr:wave": 1}}, capsys)
    assert sorted(ids(result)) == ["s-0000000000000000b", "s-0000000000000000d"]
    result = run_module(info, {"accounts": ACCOUNTS, "replication_direction": "FAILBACK"}, capsys)
    assert ids(result) == ["s-0000000000000000e"]
    clients.calls.clear()
    result = run_module(info, {"accounts": ACCOUNTS, "include_launch_settings": False,
                               "source_server_ids": ["s-0000000000000000e", "s-0000000000000000a"]}, capsys)
    assert sorted(ids(result)) == ["s-0000000000000000a", "s-0000000000000000e"]
    assert "launch_settings" not in result["source_servers"][0]
    assert not [c for c in clients.calls if c[0] == "get_launch_configuration"]


def test_lag_threshold_makes_servers_not_ready(estate, clients, capsys):
    result = run_module(info, {"accounts": ACCOUNTS, "lag_threshold_seconds": 60, "tags": {"Customer": "acme"}}, capsys)
    not_ready = sorted(s["hostname"] for s in result["source_servers"] if not s["ready"])
    assert not_ready == ["acme-prod-app01", "acme-prod-web02"]
    assert result["summary"]["not_ready"] == 2


def test_include_snapshots_returns_newest(estate, clients, capsys):
    result = run_module(info, {"accounts": ACCOUNTS, "include_snapshots": True}, capsys)
    by_id = {s["source_server_id"]: s for s in result["source_servers"]}
    assert by_id["s-0000000000000000a"]["last_snapshot"]["snapshot_id"] == "pit-00000000000000002"
    assert by_id["s-0000000000000000a"]["last_snapshot_date_time"] == "2026-01-01T00:10:02Z"
    assert by_id["s-0000000000000000b"]["last_snapshot"] is None
    assert len([c for c in clients.calls if c[0] == "describe_recovery_snapshots"]) == 5


def test_match_targets_reports_matches_and_duplicates(estate, clients, capsys):
    result = run_module(info, {"accounts": ACCOUNTS, "match_targets": True, "tags": {"Customer": "acme"}}, capsys)
    by_host = {s["hostname"].strip().lower(): s for s in result["source_servers"]}
    assert by_host["acme-prod-app01"]["matched_target"]["instance_id"] == "i-00000000000000a01"
    assert by_host["acme-prod-web01"]["matched_target"]["instance_id"] == "i-00000000000000b01"
    assert by_host["acme-prod-db01"]["matched_target"] is None
    assert any("i-00000000000000a02" in p and "i-00000000000000a03" in p for p in by_host["acme-prod-db01"]["problems"])
    assert by_host["acme-prod-db01"]["ready"] is False
    assert by_host["acme-prod-web02"]["matched_target"] is None


def test_check_mode_returns_the_same_and_calls_nothing_mutating(estate, clients, capsys):
    normal = run_module(info, {"accounts": ACCOUNTS}, capsys)
    checked = run_module(info, {"accounts": ACCOUNTS}, capsys, check_mode=True)
    assert checked["source_servers"] == normal["source_servers"]
    assert clients.mutating_calls() == []


def test_regions_and_account_ids_select_groups(estate, clients, capsys):
    clients.add("drs", A, "us-east-1", FakeDRS([source_server("s-0000000000000000f", "acme-prod-fb01", A,
                                                              region="us-east-1", direction="FAILBACK")]))
    result = run_module(info, {"accounts": ACCOUNTS, "account_ids": [A], "regions": ["us-west-2", "us-east-1"]}, capsys)
    assert sorted(ids(result)) == ["s-0000000000000000" + c for c in "abcf"]
    assert {s["region"] for s in result["source_servers"]} == {"us-west-2", "us-east-1"}


def test_uninitialized_account_fails_naming_account_and_fix(estate, clients, capsys):
    class Uninitialized(FakeDRS):
        def describe_source_servers(self, **kwargs):
            raise client_error("UninitializedAccountException", "The account is not initialized",
                               "DescribeSourceServers")

    clients.add("drs", B, "us-west-2", Uninitialized())
    result = run_module(info, {"accounts": ACCOUNTS}, capsys)
    assert result["failed"] is True
    assert B in result["msg"] and "us-west-2" in result["msg"] and "initialize" in result["msg"]


def test_select_servers_matches_fqdn_too():
    server = source_server("s-0000000000000000a", "", A)
    server["sourceProperties"]["identificationHints"]["fqdn"] = "App01.Example.COM"
    assert info.select_servers([server], hostnames=["app01.example.com"]) == [server]
    assert info.select_servers([server], hostnames=["app01"]) == []


def test_not_extended_server_stages_in_its_own_account(clients, capsys):
    server = source_server("s-0000000000000000a", "acme-prod-app01", A)
    server["stagingArea"] = {"status": "NOT_EXTENDED"}
    extended = source_server("s-0000000000000000b", "acme-prod-app02", A, staging="999999999999")
    extended["stagingArea"]["status"] = "EXTENDED"
    clients.add("drs", None, "us-west-2", FakeDRS([server, extended]))
    result = run_module(info, {"include_launch_settings": False}, capsys)
    by_id = {s["source_server_id"]: s for s in result["source_servers"]}
    assert by_id["s-0000000000000000a"]["staging_account_id"] == A
    assert by_id["s-0000000000000000a"]["staging_status"] == "NOT_EXTENDED"
    assert by_id["s-0000000000000000b"]["staging_account_id"] == "999999999999"
