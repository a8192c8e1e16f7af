import pytest
from drs_fake_clients import FakeDRS
from drs_fake_clients import FakeEC2
from drs_fake_clients import fake_clients
from drs_fake_clients import instance
from drs_fake_clients import run_module
from drs_fake_clients import source_server

from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_launch_into_instance as mod

A, B = "210987654321", "345678901234"
ACME = {"Customer": "acme", "Environment": "production"}
BASE = {"customer": "acme", "env": "production"}


@pytest.fixture
def clients(monkeypatch):
    return fake_clients(monkeypatch)


@pytest.fixture
def estate(clients):
    drs_a = clients.add("drs", A, "us-west-2", FakeDRS([
        source_server("s-0000000000000000a", "acme-prod-app01", A, tags=ACME),
        source_server("s-0000000000000000b", "acme-prod-db01", A, tags=ACME),
        source_server("s-0000000000000000g", "globex-prod-web01", A, tags={"Customer": "globex"}),
    ]))
    drs_b = clients.add("drs", B, "us-west-2", FakeDRS([
        source_server("s-0000000000000000d", "acme-prod-web01", B, tags=ACME),
    ]))
    ec2_a = clients.add("ec2", A, "us-west-2", FakeEC2([
        instance("i-00000000000000a01", "ACME-prod-app01 ", private_ip="10.1.0.11", tags=ACME),
        instance("i-00000000000000a02", "acme-prod-db01", private_ip="10.1.0.12", tags=ACME),
        instance("i-00000000000000a10", "acme-prod-app10", private_ip="10.1.0.20", tags=ACME),
        instance("i-00000000000000g01", "globex-prod-web01", tags={"Customer": "globex"}),
    ]))
    ec2_b = clients.add("ec2", B, "us-west-2", FakeEC2([
        instance("i-00000000000000b01", "acme-prod-web01", private_ip="10.2.0.11", tags=ACME),
    ]))
    return {"drs_a": drs_a, "drs_b": drs_b, "ec2_a": ec2_a, "ec2_b": ec2_b}


def wave(*items):
    return [{"source_server_id": sid, "account_id": acct, **extra} for sid, acct, extra in items]


WAVE = wave(("s-0000000000000000a", A, {}), ("s-0000000000000000b", A, {}), ("s-0000000000000000d", B, {}))


def into(fake, sid):
    return (fake.configs[sid].get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")


def test_configures_every_server_in_two_steps_and_is_idempotent(estate, clients, capsys):
    result = run_module(mod, dict(BASE, servers=WAVE), capsys, diff=True)
    assert result["changed"] is True, result.get("msg")
    assert into(estate["drs_a"], "s-0000000000000000a") == "i-00000000000000a01"
    assert into(estate["drs_a"], "s-0000000000000000b") == "i-00000000000000a02"
    assert into(estate["drs_b"], "s-0000000000000000d") == "i-00000000000000b01"
    config = estate["drs_a"].configs["s-0000000000000000a"]
    assert config["copyPrivateIp"] is False and config["copyTags"] is False
    assert config["targetInstanceTypeRightSizingMethod"] == "NONE"
    steps = [c[1] for c in clients.calls
             if c[0] == "update_launch_configuration" and c[1]["sourceServerID"] == "s-0000000000000000a"]
    assert steps == [
        {"sourceServerID": "s-0000000000000000a", "copyPrivateIp": False, "copyTags": False,
         "targetInstanceTypeRightSizingMethod": "NONE"},
        {"sourceServerID": "s-0000000000000000a",
         "launchIntoInstanceProperties": {"launchIntoEC2InstanceID": "i-00000000000000a01"}},
    ]
    plan = {p["source_server_id"]: p for p in result["plan"]}
    assert plan["s-0000000000000000a"]["target"]["private_ip"] == "10.1.0.11"
    assert plan["s-0000000000000000a"]["method"] == "exact"
    assert plan["s-0000000000000000a"]["before"]["launch_into_instance_id"] is None
    assert result["diff"]["after"]["s-0000000000000000d"]["launch_into_instance_id"] == "i-00000000000000b01"
    assert [t["instance_id"] for t in result["unmatched_targets"]] == ["i-00000000000000a10"]

    clients.calls.clear()
    again = run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert again["changed"] is False
    assert clients.mutating_calls() == []


def test_check_mode_returns_the_plan_and_changes_nothing(estate, clients, capsys):
    result = run_module(mod, dict(BASE, servers=WAVE), capsys, check_mode=True)
    assert result["changed"] is True
    assert clients.mutating_calls() == []
    assert into(estate["drs_a"], "s-0000000000000000a") is None
    plan = {p["source_server_id"]: p for p in result["plan"]}
    assert plan["s-0000000000000000b"]["target"]["instance_id"] == "i-00000000000000a02"
    assert plan["s-0000000000000000b"]["target"]["name"] == "acme-prod-db01"
    assert plan["s-0000000000000000b"]["after"]["launch_into_instance_id"] == "i-00000000000000a02"
    assert "launch_into_instance_id" in plan["s-0000000000000000b"]["changes"]


def test_running_target_fails_naming_server_target_and_fix(estate, clients, capsys):
    estate["ec2_a"].instances["i-00000000000000a02"]["State"]["Name"] = "running"
    result = run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000b (acme-prod-db01)" in result["msg"]
    assert "i-00000000000000a02" in result["msg"] and "stop-instances" in result["msg"]
    assert clients.mutating_calls() == []


def test_allow_partial_configures_only_clean_servers(estate, clients, capsys):
    estate["ec2_a"].instances["i-00000000000000a02"]["State"]["Name"] = "running"
    result = run_module(mod, dict(BASE, servers=WAVE, allow_partial=True), capsys)
    assert result["changed"] is True
    assert into(estate["drs_a"], "s-0000000000000000a") == "i-00000000000000a01"
    assert into(estate["drs_a"], "s-0000000000000000b") is None
    assert [u["source_server_id"] for u in result["unmatched_servers"]] == ["s-0000000000000000b"]
    assert any("stop-instances" in p for p in result["problems"])


def test_duplicate_target_name_fails_naming_everything(estate, clients, capsys):
    estate["ec2_a"].instances["i-00000000000000a03"] = instance("i-00000000000000a03", " acme-prod-app01", tags=ACME)
    result = run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000a (acme-prod-app01)" in result["msg"]
    assert "i-00000000000000a01" in result["msg"] and "i-00000000000000a03" in result["msg"]
    assert result["duplicate_targets"][0]["instance_ids"] == ["i-00000000000000a01", "i-00000000000000a03"]
    assert clients.mutating_calls() == []


def test_unmatched_server_fails_unless_partial(estate, clients, capsys):
    del estate["ec2_b"].instances["i-00000000000000b01"]
    result = run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000d (acme-prod-web01)" in result["msg"] and "no target is named" in result["msg"]
    assert clients.mutating_calls() == []


def test_app01_does_not_fall_back_to_app10_with_fuzzy(estate, clients, capsys):
    del estate["ec2_a"].instances["i-00000000000000a01"]
    result = run_module(mod, dict(BASE, servers=WAVE[:1], fuzzy_threshold=0.1), capsys)
    assert result["failed"] is True and "s-0000000000000000a" in result["msg"]
    assert clients.mutating_calls() == []


def test_fuzzy_match_when_asked(estate, clients, capsys):
    estate["ec2_a"].instances["i-00000000000000a01"] = instance("i-00000000000000a01", "acme_production_app01",
                                                                tags=ACME)
    result = run_module(mod, dict(BASE, servers=WAVE[:1], fuzzy_threshold=0.7), capsys)
    assert result["changed"] is True
    assert result["plan"][0]["method"] == "fuzzy" and result["plan"][0]["score"] < 1
    assert into(estate["drs_a"], "s-0000000000000000a") == "i-00000000000000a01"


def test_pinned_target_wins(estate, clients, capsys):
    servers = wave(("s-0000000000000000a", A, {"target_instance_id": "i-00000000000000a10"}))
    result = run_module(mod, dict(BASE, servers=servers), capsys)
    assert result["plan"][0]["method"] == "pinned"
    assert into(estate["drs_a"], "s-0000000000000000a") == "i-00000000000000a10"


def test_pinned_untagged_target_is_reported_with_the_fix(estate, clients, capsys):
    estate["ec2_a"].instances["i-00000000000000a99"] = instance("i-00000000000000a99", "spare", tagged=False,
                                                                tags=ACME)
    servers = wave(("s-0000000000000000a", A, {"target_instance_id": "i-00000000000000a99"}))
    result = run_module(mod, dict(BASE, servers=servers), capsys)
    assert result["failed"] is True
    assert "i-00000000000000a99" in result["msg"] and "create-tags" in result["msg"]


def test_pinned_target_of_another_customer_is_refused(estate, clients, capsys):
    servers = wave(("s-0000000000000000a", A, {"target_instance_id": "i-00000000000000g01"}))
    result = run_module(mod, dict(BASE, servers=servers), capsys)
    assert result["failed"] is True
    assert "i-00000000000000g01" in result["msg"] and "globex" in result["msg"]
    assert clients.mutating_calls() == []


def test_out_of_scope_server_is_refused_before_any_change(estate, clients, capsys):
    servers = WAVE + wave(("s-0000000000000000g", A, {}))
    result = run_module(mod, dict(BASE, servers=servers), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000g (globex-prod-web01)" in result["msg"]
    assert clients.mutating_calls() == []


@pytest.mark.parametrize("change,expected", [
    ({"Architecture": "arm64"}, "architecture arm64"),
    ({"PlatformDetails": "Windows"}, "platform windows"),
    ({"BootMode": "uefi"}, "legacy BIOS"),
    ({"SubnetId": "subnet-0gone"}, "subnet-0gone does not exist"),
])
def test_incompatible_targets_fail_naming_the_mismatch(estate, clients, capsys, change, expected):
    estate["ec2_a"].instances["i-00000000000000a01"].update(change)
    result = run_module(mod, dict(BASE, servers=WAVE[:1]), capsys)
    assert result["failed"] is True
    assert expected in result["msg"] and "s-0000000000000000a (acme-prod-app01)" in result["msg"]
    assert clients.mutating_calls() == []


def test_state_absent_clears_the_target(estate, clients, capsys):
    run_module(mod, dict(BASE, servers=WAVE), capsys)
    clients.calls.clear()
    result = run_module(mod, dict(BASE, servers=WAVE, state="absent"), capsys, diff=True)
    assert result["changed"] is True
    assert into(estate["drs_a"], "s-0000000000000000a") is None
    clears = [c[1] for c in clients.calls if c[0] == "update_launch_configuration"]
    assert all(c["launchIntoInstanceProperties"] == {} and len(c) == 2 for c in clears) and len(clears) == 3
    assert result["diff"]["before"]["s-0000000000000000a"]["launch_into_instance_id"] == "i-00000000000000a01"
    again = run_module(mod, dict(BASE, servers=WAVE, state="absent"), capsys)
    assert again["changed"] is False


def test_duplicate_hostnames_fail(estate, clients, capsys):
    servers = wave(("s-0000000000000000a", A, {}), ("s-0000000000000000b", A, {"hostname": "ACME-prod-app01"}))
    result = run_module(mod, dict(BASE, servers=servers), capsys)
    assert result["failed"] is True
    assert "s-0000000000000000a" in result["msg"] and "s-0000000000000000b" in result["msg"]
    assert result["duplicate_servers"][0]["source_server_ids"] == ["s-0000000000000000a", "s-0000000000000000b"]


def test_unmatched_targets_fail_only_when_asked(estate, clients, capsys):
    result = run_module(mod, dict(BASE, servers=WAVE, fail_on_unmatched_targets=True), capsys)
    assert result["failed"] is True and "i-00000000000000a10 (acme-prod-app10)" in result["msg"]
    assert clients.mutating_calls() == []


def _record_module_output(monkeypatch):
    """Every module.warn() message, and the keyword arguments that reach AnsibleModule.exit_json."""
    from ansible.module_utils.basic import AnsibleModule

    from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

    warned, exits = [], []
    warn, exit_json = AnsibleAWSModule.warn, AnsibleModule.exit_json

    def record_warn(self, message, *args, **kwargs):
        warned.append(message)
        return warn(self, message, *args, **kwargs)

    def record_exit(self, **kwargs):
        exits.append(kwargs)
        return exit_json(self, **kwargs)

    monkeypatch.setattr(AnsibleAWSModule, "warn", record_warn)
    monkeypatch.setattr(AnsibleModule, "exit_json", record_exit)
    return warned, exits


def test_unmatched_targets_warn_once_and_only_when_asked(estate, clients, capsys, monkeypatch):
    warned, exits = _record_module_output(monkeypatch)
    run_module(mod, dict(BASE, servers=WAVE), capsys)
    assert [w for w in warned if "match no server" in w] == [
        "1 launch-into target(s) match no server of this run: i-00000000000000a10 (acme-prod-app10)"]
    # ansible-core returns module warnings itself; passing them to exit_json again is deprecated and repeats them
    assert "warnings" not in exits[0]
    warned.clear()
    quiet = run_module(mod, dict(BASE, servers=WAVE, warn_on_unmatched_targets=False), capsys)
    assert not [w for w in warned if "match no server" in w]
    assert [t["instance_id"] for t in quiet["unmatched_targets"]] == ["i-00000000000000a10"]
