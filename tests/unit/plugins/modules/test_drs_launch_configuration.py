import pytest
from drs_fake_clients import FakeDRS
from drs_fake_clients import client_error
from drs_fake_clients import fake_clients
from drs_fake_clients import launch_config
from drs_fake_clients import run_module
from drs_fake_clients import source_server

from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_launch_configuration as mod

A, B = "210987654321", "345678901234"
ACME = {"Customer": "acme", "Environment": "production"}


@pytest.fixture
def clients(monkeypatch):
    return fake_clients(monkeypatch)


@pytest.fixture
def drs(clients):
    a = clients.add("drs", A, "us-west-2", FakeDRS([
        source_server("s-0000000000000000a", "acme-prod-app01", A, tags=ACME),
        source_server("s-0000000000000000b", "acme-prod-db01", A, tags=ACME),
        source_server("s-0000000000000000g", "globex-prod-web01", A, tags={"Customer": "globex"}),
    ]))
    b = clients.add("drs", B, "us-west-2", FakeDRS([
        source_server("s-0000000000000000d", "acme-prod-web01", B, tags=ACME),
    ]))
    return {"a": a, "b": b}


def servers(*pairs):
    return [{"source_server_id": sid, "account_id": acct} for sid, acct in pairs]


BASE = {"customer": "acme", "env": "production"}
WAVE = servers(("s-0000000000000000a", A), ("s-0000000000000000b", A), ("s-0000000000000000d", B))


def test_sets_only_what_differs_and_is_idempotent(drs, clients, capsys):
    args = dict(BASE, servers=WAVE, launch_disposition="STOPPED", right_sizing="NONE", copy_tags=True)
    first = run_module(mod, args, capsys, diff=True)
    assert first["changed"] is True
    for row in first["servers"]:
        assert row["changes"] == ["launch_disposition", "right_sizing"]
        assert row["before"]["launch_disposition"] == "STARTED" and row["after"]["launch_disposition"] == "STOPPED"
    assert drs["a"].configs["s-0000000000000000a"]["launchDisposition"] == "STOPPED"
    assert drs["b"].configs["s-0000000000000000d"]["targetInstanceTypeRightSizingMethod"] == "NONE"
    updates = [c for c in clients.calls if c[0] == "update_launch_configuration"]
    assert len(updates) == 3
    assert all(set(c[1]) == {"sourceServerID", "launchDisposition", "targetInstanceTypeRightSizingMethod"}
               for c in updates)
    assert first["diff"]["before"]["s-0000000000000000a"]["right_sizing"] == "BASIC"
    assert first["diff"]["after"]["s-0000000000000000a"]["right_sizing"] == "NONE"

    clients.calls.clear()
    second = run_module(mod, args, capsys)
    assert second["changed"] is False
    assert clients.mutating_calls() == []


def test_check_mode_predicts_and_changes_nothing(drs, clients, capsys):
    args = dict(BASE, servers=WAVE, post_launch_enabled=True, licensing_os_byol=True)
    result = run_module(mod, args, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert all(r["after"]["post_launch_enabled"] is True for r in result["servers"])
    assert clients.mutating_calls() == []
    assert drs["a"].configs["s-0000000000000000a"]["postLaunchEnabled"] is False


def test_launch_into_is_set_after_copying_is_off(drs, clients, capsys):
    args = dict(BASE, servers=servers(("s-0000000000000000a", A)), copy_private_ip=False, copy_tags=False,
                launch_into_instance_id="i-0123456789abcdef0")
    result = run_module(mod, args, capsys)
    assert result["changed"] is True
    updates = [c[1] for c in clients.calls if c[0] == "update_launch_configuration"]
    assert updates[0] == {"sourceServerID": "s-0000000000000000a", "copyPrivateIp": False, "copyTags": False}
    assert updates[1] == {"sourceServerID": "s-0000000000000000a",
                          "launchIntoInstanceProperties": {"launchIntoEC2InstanceID": "i-0123456789abcdef0"}}
    assert result["servers"][0]["after"]["launch_into_instance_id"] == "i-0123456789abcdef0"


def test_launch_into_with_copying_left_on_fails_before_any_change(drs, clients, capsys):
    args = dict(BASE, servers=WAVE, launch_into_instance_id="i-0123456789abcdef0")
    result = run_module(mod, args, capsys)
    assert result["failed"] is True
    assert "s-0000000000000000a (acme-prod-app01)" in result["msg"] and "copy_private_ip" in result["msg"]
    assert clients.mutating_calls() == []


def test_restore_rolls_back_including_clearing_launch_into(drs, clients, capsys):
    first = run_module(mod, dict(BASE, servers=WAVE, copy_private_ip=False, copy_tags=False, right_sizing="NONE",
                                 launch_disposition="STOPPED", launch_into_instance_id="i-0123456789abcdef0"), capsys)
    assert first["changed"] is True
    assert drs["a"].configs["s-0000000000000000b"]["launchIntoInstanceProperties"] == {
        "launchIntoEC2InstanceID": "i-0123456789abcdef0"}
    clients.calls.clear()
    restored = run_module(mod, dict(BASE, restore=first["before"]), capsys)
    assert restored["changed"] is True
    config = drs["a"].configs["s-0000000000000000b"]
    assert config["launchIntoInstanceProperties"] == {}
    assert config["copyPrivateIp"] is True and config["copyTags"] is True
    assert config["targetInstanceTypeRightSizingMethod"] == "BASIC" and config["launchDisposition"] == "STARTED"
    # The launch-into instance is cleared first, so copying can be turned back on.
    updates_b = [c[1] for c in clients.calls
                 if c[0] == "update_launch_configuration" and c[1]["sourceServerID"] == "s-0000000000000000b"]
    assert updates_b[0] == {"sourceServerID": "s-0000000000000000b", "launchIntoInstanceProperties": {}}
    assert len(updates_b) == 2
    assert [r["launch_settings"] for r in restored["after"]] == [r["launch_settings"] for r in first["before"]]
    again = run_module(mod, dict(BASE, restore=first["before"]), capsys)
    assert again["changed"] is False


def test_per_server_settings_override_module_settings(drs, clients, capsys):
    wave = [dict(WAVE[0], launch_settings={"launch_disposition": "STARTED"}), WAVE[1]]
    result = run_module(mod, dict(BASE, servers=wave, launch_disposition="STOPPED"), capsys)
    by_id = {r["source_server_id"]: r for r in result["servers"]}
    assert by_id["s-0000000000000000a"]["changed"] is False
    assert by_id["s-0000000000000000b"]["after"]["launch_disposition"] == "STOPPED"


def test_out_of_scope_server_is_refused_by_name_and_nothing_changes(drs, clients, capsys):
    wave = WAVE + servers(("s-0000000000000000g", A))
    result = run_module(mod, dict(BASE, servers=wave, launch_disposition="STOPPED"), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000g (globex-prod-web01)" in result["msg"] and "globex" in result["msg"]
    assert result["out_of_scope"] == [f"s-0000000000000000g (globex-prod-web01) in {A}/us-west-2"]
    assert clients.mutating_calls() == []


def test_environment_scope_is_checked_too(drs, clients, capsys):
    result = run_module(mod, dict(customer="acme", env="staging", servers=WAVE[:1], copy_tags=False), capsys)
    assert result["failed"] is True and "Environment='production'" in result["msg"]


def test_unknown_server_fails_naming_it(drs, clients, capsys):
    result = run_module(mod, dict(BASE, servers=servers(("s-00000000000000404", A)), copy_tags=False), capsys)
    assert result["failed"] is True
    assert "s-00000000000000404" in result["msg"] and A in result["msg"]


def test_api_error_on_one_server_names_it_and_others_still_change(drs, clients, capsys):
    original = drs["a"].update_launch_configuration

    def failing(sourceServerID, **changes):
        if sourceServerID == "s-0000000000000000b":
            raise client_error("ConflictException", "currently being processed by a Job", "UpdateLaunchConfiguration")
        return original(sourceServerID, **changes)

    drs["a"].update_launch_configuration = failing
    result = run_module(mod, dict(BASE, servers=WAVE, launch_disposition="STOPPED"), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000b (acme-prod-db01)" in result["msg"] and "ConflictException" in result["msg"]
    by_id = {r["source_server_id"]: r for r in result["servers"]}
    assert by_id["s-0000000000000000a"]["changed"] is True and by_id["s-0000000000000000a"]["error"] is None
    assert by_id["s-0000000000000000b"]["changed"] is False
    assert drs["b"].configs["s-0000000000000000d"]["launchDisposition"] == "STOPPED"


def test_restore_is_exclusive_with_settings(drs, clients, capsys):
    result = run_module(mod, dict(BASE, restore=[{"source_server_id": "s-0000000000000000a"}], copy_tags=False),
                        capsys)
    assert result["failed"] is True and "mutually exclusive" in result["msg"]


def test_config_fixture_defaults_are_what_tests_assume():
    config = launch_config("s-0000000000000000a")
    assert config["copyPrivateIp"] is True and config["targetInstanceTypeRightSizingMethod"] == "BASIC"
