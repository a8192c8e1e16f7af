# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution_record and execution_record_info run in-process against the file store and moto's DynamoDB."""

import json
import os

import boto3
import pytest
from moto import mock_aws

from ansible.module_utils.testing import patch_module_args

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex
from ansible_collections.enterprise_dr.orchestration.plugins.modules import execution_record
from ansible_collections.enterprise_dr.orchestration.plugins.modules import execution_record_info


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def run(module, args, capsys, check=False, diff=False):
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    out = capsys.readouterr().out
    return json.loads(out)


@pytest.fixture
def file_args(tmp_path):
    return {"store": "file", "store_path": str(tmp_path / "store")}


@pytest.fixture
def dynamo_args():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        ex.DynamoDBStore(client, "mod-executions").ensure()
        yield {"store": "dynamodb", "table_name": "mod-executions", "region": "us-east-1"}


@pytest.fixture(params=["file", "dynamo"])
def store_args(request):
    return request.getfixturevalue(f"{request.param}_args")


def test_start_update_finish(store_args, capsys):
    started = run(execution_record, dict(store_args, action="start", customer="acme", environment="production",
                                         operation="failover", started_by="alice", details={"awx_job_id": 7}), capsys)
    assert started["changed"] is True
    eid = started["execution_id"]
    assert eid.startswith("edr-acme-")
    assert started["record"]["status"] == "running" and started["record"]["details"] == {"awx_job_id": 7}

    upd = run(execution_record, dict(store_args, action="update", execution_id=eid,
                                     phase={"name": "instantiate", "status": "running"},
                                     wave={"number": 1, "status": "running"},
                                     resources=[{"resource": "s-1", "name": "web01", "status": "running",
                                                 "before": {"source_private_ip": "10.0.0.5"}}]), capsys, diff=True)
    assert upd["changed"] is True and upd["changed_resources"] == ["s-1"]
    assert upd["record"]["current_phase"] == "INSTANTIATE"
    assert upd["diff"]["before"]["phases"] == {} and "INSTANTIATE" in upd["diff"]["after"]["phases"]
    assert upd["summary"]["resource_counts"]["pending"] == 1
    # the same update again: changed=false
    again = run(execution_record, dict(store_args, action="update", execution_id=eid,
                                       phase={"name": "INSTANTIATE", "status": "running"},
                                       wave={"number": 1, "status": "running"},
                                       resources=[{"resource": "s-1", "name": "web01", "status": "running"}]), capsys)
    assert again["changed"] is False

    done = run(execution_record, dict(store_args, action="finish", execution_id=eid, status="succeeded"), capsys)
    assert done["changed"] is True and done["record"]["status"] == "succeeded"
    assert done["record"]["phases"]["INSTANTIATE"]["status"] == "succeeded"
    assert run(execution_record, dict(store_args, action="finish", execution_id=eid, status="succeeded"),
               capsys)["changed"] is False

    info = run(execution_record_info, dict(store_args, execution_id=eid), capsys)
    assert info["execution"]["status"] == "succeeded"
    assert info["execution"]["resources"][0]["before"] == {"source_private_ip": "10.0.0.5"}
    assert info["status"]["resource_counts"]["total"] == 1


def test_second_start_refused_naming_first(store_args, capsys):
    first = run(execution_record, dict(store_args, action="start", customer="acme", environment="production",
                                       operation="failover", started_by="alice"), capsys)
    second = run(execution_record, dict(store_args, action="start", customer="acme", environment="production",
                                        operation="failover", started_by="bob"), capsys)
    assert second["failed"] is True
    assert first["execution_id"] in second["msg"]
    assert second["active_execution_id"] == first["execution_id"]


def test_check_mode_writes_nothing(store_args, capsys):
    predicted = run(execution_record, dict(store_args, action="start", customer="acme", operation="drill"),
                    capsys, check=True)
    assert predicted["changed"] is True and predicted["execution_id"].startswith("edr-acme-")
    listing = run(execution_record_info, dict(store_args, customer="acme", limit=5), capsys)
    assert listing["executions"] == []
    real = run(execution_record, dict(store_args, action="start", customer="acme", operation="drill"), capsys)
    eid = real["execution_id"]
    for args in (
        {"action": "update", "phase": {"name": "ACTIVATE", "status": "running"}},
        {"action": "wait_approval", "gate": "g1"},
        {"action": "finish", "status": "failed"},
    ):
        result = run(execution_record, dict(store_args, execution_id=eid, **args), capsys, check=True)
        assert result["changed"] is True, args
    stored = run(execution_record_info, dict(store_args, execution_id=eid), capsys)["execution"]
    assert stored["status"] == "running" and stored["phases"] == {} and stored["pending_gate"] is None
    assert stored["version"] == 1


def test_resume_or_start(store_args, capsys):
    first = run(execution_record, dict(store_args, action="resume_or_start", customer="acme", environment="prod",
                                       operation="failover", started_by="alice"), capsys)
    assert first["resumed"] is False
    run(execution_record, dict(store_args, action="finish", execution_id=first["execution_id"], status="interrupted"),
        capsys)
    second = run(execution_record, dict(store_args, action="resume_or_start", customer="acme", environment="prod",
                                        operation="failover", started_by="bob"), capsys)
    assert second["resumed"] is True and second["execution_id"] == first["execution_id"]
    assert second["record"]["status"] == "running"
    assert second["record"]["resumptions"][0]["by"] == "bob"
    other_op = run(execution_record, dict(store_args, action="resume_or_start", customer="acme", environment="prod",
                                          operation="drill"), capsys)
    assert other_op["failed"] and first["execution_id"] in other_op["msg"]


def test_approve_and_wait(store_args, capsys):
    eid = run(execution_record, dict(store_args, action="start", customer="acme", operation="failover"),
              capsys)["execution_id"]
    not_waiting = run(execution_record, dict(store_args, action="approve", execution_id=eid, decision="approve"),
                      capsys)
    assert not_waiting["failed"] and "not waiting at an approval gate" in not_waiting["msg"]
    waiting = run(execution_record, dict(store_args, action="wait_approval", execution_id=eid, gate="before-activate",
                                         wait=False, checklist=["wave 1 validated"]), capsys)
    assert waiting["changed"] is True and waiting["decision"] is None and waiting["approved"] is False
    assert waiting["record"]["status"] == "waiting_approval"
    assert waiting["summary"]["pending_gate"]["checklist"] == ["wave 1 validated"]
    approved = run(execution_record, dict(store_args, action="approve", execution_id=eid, decision="approve",
                                          approver="jane"), capsys)
    assert approved["changed"] and approved["approved"] is True and approved["approver"] == "jane"
    assert approved["approval"]["gate"] == "before-activate"
    decided = run(execution_record, dict(store_args, action="wait_approval", execution_id=eid, gate="before-activate",
                                         wait_timeout=5, poll_interval=1), capsys)
    assert decided["decision"] == "approve" and decided["approved"] is True and decided["approver"] == "jane"


def test_wait_times_out_and_never_approves(store_args, capsys):
    eid = run(execution_record, dict(store_args, action="start", customer="acme", operation="failover"),
              capsys)["execution_id"]
    timed_out = run(execution_record, dict(store_args, action="wait_approval", execution_id=eid, gate="g",
                                           wait_timeout=1, poll_interval=1), capsys)
    assert timed_out["decision"] == "timeout" and timed_out["approved"] is False
    assert timed_out["record"]["status"] == "running"


def test_update_of_unknown_run_fails_with_hint(store_args, capsys):
    result = run(execution_record, dict(store_args, action="update", execution_id="edr-acme-x", status="failed"),
                 capsys)
    assert result["failed"] and "history.yml" in result["msg"]


def test_ensure_store_idempotent(tmp_path, capsys):
    with mock_aws():
        args = {"store": "dynamodb", "table_name": "fresh", "region": "us-east-1", "action": "ensure_store"}
        assert run(execution_record, args, capsys, check=True)["changed"] is True
        assert run(execution_record, args, capsys)["changed"] is True
        assert run(execution_record, args, capsys)["changed"] is False
        table = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName="fresh")["Table"]
        assert table["GlobalSecondaryIndexes"][0]["IndexName"] == ex.CUSTOMER_INDEX
    args = {"store": "file", "store_path": str(tmp_path / "fs"), "action": "ensure_store"}
    assert run(execution_record, args, capsys)["changed"] is True
    assert run(execution_record, args, capsys)["changed"] is False


def test_info_latest_and_history(store_args, capsys):
    ids = []
    for status in ("succeeded", "failed", "succeeded"):
        eid = run(execution_record, dict(store_args, action="start", customer="acme", environment="production",
                                         operation="drill"), capsys)["execution_id"]
        run(execution_record, dict(store_args, action="finish", execution_id=eid, status=status), capsys)
        ids.append(eid)
    latest = run(execution_record_info, dict(store_args, customer="acme", latest=True), capsys)
    assert latest["execution"]["execution_id"] in ids
    history = run(execution_record_info, dict(store_args, customer="acme", environment="production", limit=10), capsys)
    assert {e["execution_id"] for e in history["executions"]} == set(ids)
    assert history["history"]["success_rate"] == round(2 / 3, 4)
    missing = run(execution_record_info, dict(store_args, execution_id="edr-none-1"), capsys)
    assert missing["failed"] and "edr-none-1" in missing["msg"]


def test_controller_alive_tells_a_concurrent_run_from_an_interrupted_one():
    import os
    import socket

    from ansible_collections.enterprise_dr.orchestration.plugins.modules.execution_record import controller_alive

    me = f"{socket.gethostname()}:{os.getpid()}"
    other_live = f"{socket.gethostname()}:{os.getppid()}"
    dead = f"{socket.gethostname()}:999999999"

    def record(controller, status="running"):
        return {"status": status, "details": {"controller": controller}}

    assert controller_alive(record(other_live), me) is True  # still running here: concurrent
    assert controller_alive(record(dead), me) is False  # the process is gone: resume
    assert controller_alive(record(other_live, status="interrupted"), me) is False
    assert controller_alive(record("elsewhere:1"), me) is True  # another host: presumed alive
    assert controller_alive(record(me), me) is False  # the same controller
    assert controller_alive({"status": "running", "details": {}}, me) is False  # nothing recorded


def test_cancel_by_customer_records_who_and_why_and_releases_the_lock(store_args, capsys):
    first = run(execution_record, dict(store_args, action="start", customer="acme", environment="prod",
                                       operation="failover", started_by="alice"), capsys)
    refused = run(execution_record, dict(store_args, action="cancel", customer="acme", reason=" "), capsys)
    assert refused.get("failed") and "reason" in refused["msg"]
    done = run(execution_record, dict(store_args, action="cancel", customer="acme", environment="prod",
                                      reason="wrong window", approver="bob"), capsys)
    assert done["changed"] and done["record"]["status"] == "cancelled"
    assert done["cancellation"]["by"] == "bob" and done["cancellation"]["reason"] == "wrong window"
    assert done["cancellation"]["from_status"] == "running"
    again = run(execution_record, dict(store_args, action="cancel", execution_id=first["execution_id"],
                                       reason="again"), capsys)
    assert again["changed"] is False and again["record"]["cancellation"]["reason"] == "wrong window"
    nothing = run(execution_record, dict(store_args, action="cancel", customer="acme", reason="x"), capsys)
    assert nothing.get("failed") and "no active run" in nothing["msg"]
    # The scope is free again.
    second = run(execution_record, dict(store_args, action="start", customer="acme", environment="prod",
                                        operation="drill", started_by="alice"), capsys)
    assert not second.get("failed") and second["execution_id"] != first["execution_id"]


def test_approve_cancel_without_a_pending_gate_ends_the_run(store_args, capsys):
    first = run(execution_record, dict(store_args, action="start", customer="acme", environment="prod",
                                       operation="drill", started_by="alice"), capsys)
    done = run(execution_record, dict(store_args, action="approve", execution_id=first["execution_id"],
                                      decision="cancel", approver="carol", comment="not today"), capsys)
    assert not done.get("failed"), done.get("msg")
    assert done["record"]["status"] == "cancelled" and done["decision"] == "cancel"
    assert done["cancellation"] == dict(done["cancellation"], by="carol", reason="not today", gate=None)


def test_a_wave_reads_only_its_own_entries_and_updates_without_returning_them(store_args, capsys):
    eid = run(execution_record, dict(store_args, action="start", customer="acme", operation="failover"),
              capsys)["execution_id"]
    entries = [{"resource": f"arn:aws:drs:us-west-2:210987654321:source-server/s-{n}", "name": f"web{n}",
                "status": "succeeded", "wave": n % 2 + 1} for n in range(6)]
    updated = run(execution_record, dict(store_args, action="update", execution_id=eid, resources=entries,
                                         return_resources=False), capsys)
    # Written, summarized, and not returned.
    assert updated["changed"] is True and len(updated["changed_resources"]) == 6
    assert "resources" not in updated["record"] and updated["summary"]["resource_counts"]["total"] == 6
    wave = [entries[1]["resource"], entries[3]["resource"], "arn:aws:drs:us-west-2:210987654321:source-server/s-x"]
    info = run(execution_record_info, dict(store_args, execution_id=eid, resources=wave), capsys)
    assert [e["resource"] for e in info["execution"]["resources"]] == wave[:2]
    # The status still summarizes the whole run; without the option every entry is returned.
    assert info["status"]["resource_counts"]["total"] == 6
    assert len(run(execution_record_info, dict(store_args, execution_id=eid), capsys)["execution"]["resources"]) == 6
    assert run(execution_record_info, dict(store_args, execution_id=eid, resources=[]),
               capsys)["execution"]["resources"] == []
