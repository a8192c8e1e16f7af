"""drs_recover's main(): check mode, failure policy, scope guard and idempotency with fake DRS/EC2 clients."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients as clients_mod
from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_recover as mod
from tests.unit.plugins.module_utils.test_drs_jobs import FakeDRS
from tests.unit.plugins.module_utils.test_drs_jobs import FakeEC2

A, B = "210987654321", "345678901234"


class FakeEC2WithTags(FakeEC2):
    def describe_volumes(self, Filters, **kwargs):
        self.calls.append(("describe_volumes", Filters))
        return {"Volumes": []}

    def create_tags(self, **kwargs):
        self.calls.append(("create_tags", kwargs))


@pytest.fixture
def fakes(monkeypatch):
    registry = {}

    def client(self, service, account_id=None, region=None):
        key = (service, account_id, region or self.default_region)
        if key not in registry:
            raise AssertionError(f"no fake for {key}")
        return registry[key]

    monkeypatch.setattr(clients_mod.ClientFactory, "client", client)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return registry


def _ids(prefix, n):
    return [f"s-{prefix}{i:016d}" for i in range(n)]


def add_account(fakes, account, ids, **kwargs):
    drs = FakeDRS(ids, account=account, **kwargs)
    ec2 = FakeEC2WithTags()
    fakes[("drs", account, "us-west-2")] = drs
    fakes[("ec2", account, "us-west-2")] = ec2
    return drs, ec2


def run(args, capsys, check_mode=False, diff=False):
    args = dict(args)
    args.setdefault("region", "us-west-2")
    args.setdefault("poll_interval", 1)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit):
        mod.main()
    return json.loads(capsys.readouterr().out)


def servers(ids, account, priority=None):
    out = [{"source_server_id": sid, "account_id": account} for sid in ids]
    if priority:
        for server in out:
            server["priority"] = priority
    return out


def test_check_mode_plans_and_makes_no_mutating_call(fakes, capsys):
    a_ids, b_ids = _ids("a", 150), _ids("b", 30)
    drs_a, ec2_a = add_account(fakes, A, a_ids)
    drs_b, ec2_b = add_account(fakes, B, b_ids)
    args = {"customer": "acme", "drill": True, "run_id": "exec-1",
            "servers": servers(a_ids[:140], A) + servers(a_ids[140:], A, "critical") + servers(b_ids, B)}
    result = run(args, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    plan_a = [c for c in result["plan"] if c["account_id"] == A]
    assert [len(c["source_server_ids"]) for c in plan_a] == [100, 50]
    assert plan_a[0]["source_server_ids"][:10] == a_ids[140:]  # critical first
    assert [len(c["source_server_ids"]) for c in result["plan"] if c["account_id"] == B] == [30]
    assert result["summary"]["jobs_started"] == 3 and result["summary"]["not_started"] == 180
    for fake in (drs_a, drs_b, ec2_a, ec2_b):
        assert [c for c in fake.calls if c[0] in ("start_recovery", "create_tags")] == []
    assert drs_a.jobs == {} and drs_b.jobs == {}
    assert set(result["diff"]["after"].values()) == {"new job"}


def test_launches_reports_and_is_idempotent(fakes, capsys):
    ids = _ids("a", 5)
    drs, _ec2 = add_account(fakes, A, ids)
    args = {"customer": "acme", "drill": True, "run_id": "exec-2", "servers": servers(ids, A)}
    first = run(args, capsys)
    assert first["changed"] is True and first["summary"]["launched"] == 5
    assert all(r["private_ip"] and r["job_id"] for r in first["servers"])
    assert len(drs.jobs) == 1
    second = run(args, capsys)
    assert second["changed"] is False
    assert all(r["action"] == "done" for r in second["servers"])
    assert len(drs.jobs) == 1


def test_failure_policy_fail_names_server_and_raw_error(fakes, capsys):
    ids = _ids("a", 4)
    add_account(fakes, A, ids, fail={ids[2]: "instance not launched because server lifecycle state is not "
                                             "READY_FOR_TEST"})
    args = {"customer": "acme", "drill": True, "run_id": "exec-3", "servers": servers(ids, A)}
    failed = run(args, capsys)
    assert failed["failed"] is True
    assert ids[2] in failed["msg"] and "READY_FOR_TEST" in failed["msg"]
    assert failed["summary"]["launched"] == 3 and failed["summary"]["failed"] == 1
    assert failed["failed_servers"][0]["source_server_id"] == ids[2]


def test_failure_policy_continue_returns_ok(fakes, capsys):
    ids = _ids("a", 4)
    add_account(fakes, A, ids, fail={ids[0]: "boom"})
    args = {"customer": "acme", "drill": True, "run_id": "exec-4", "servers": servers(ids, A),
            "failure_policy": "continue"}
    result = run(args, capsys)
    assert not result.get("failed")
    assert [f["source_server_id"] for f in result["failed_servers"]] == [ids[0]]
    assert result["failed_servers"][0]["raw_error"] == "boom"


def test_scope_guard_refuses_before_any_change(fakes, capsys):
    ids = _ids("a", 3)
    drs, _ec2 = add_account(fakes, A, ids)
    drs.servers[ids[1]]["tags"] = {"Customer": "globex", "Environment": "production"}
    args = {"customer": "acme", "env": "production", "drill": False, "run_id": "exec-5", "servers": servers(ids, A)}
    result = run(args, capsys)
    assert result["failed"] is True and "globex" in result["msg"] and ids[1] in result["msg"]
    assert drs.mutating_calls() == []


def test_unknown_server_is_named(fakes, capsys):
    ids = _ids("a", 2)
    drs, _ec2 = add_account(fakes, A, ids)
    args = {"customer": "acme", "drill": True, "run_id": "exec-6",
            "servers": servers(ids + ["s-00000000000000zzz"], A)}
    result = run(args, capsys)
    assert result["failed"] is True and "s-00000000000000zzz" in result["msg"]
    assert drs.mutating_calls() == []


def test_servers_listed_twice_are_refused(fakes, capsys):
    ids = _ids("a", 1)
    add_account(fakes, A, ids)
    args = {"customer": "acme", "drill": True, "run_id": "exec-7", "servers": servers(ids + ids, A)}
    result = run(args, capsys)
    assert result["failed"] is True and "listed twice" in result["msg"]
