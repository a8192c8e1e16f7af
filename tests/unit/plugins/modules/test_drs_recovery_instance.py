"""drs_recovery_instance and the two info modules with fake clients: targets are never terminated."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients as clients_mod
from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_job_info
from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_recovery_instance as mod
from ansible_collections.enterprise_dr.orchestration.plugins.modules import drs_recovery_instance_info
from tests.unit.plugins.module_utils.test_drs_jobs import FakeDRS
from tests.unit.plugins.module_utils.test_drs_jobs import FakePaginator
from tests.unit.plugins.module_utils.test_drs_jobs import instance_id_filter

A = "210987654321"
TARGET = "i-0000000000000aaaa"
NEW = "i-0000000000000bbbb"
S_INTO, S_NEW = "s-00000000000000001", "s-00000000000000002"


class CleanupDRS(FakeDRS):
    def __init__(self, is_drill=True):
        super().__init__([S_INTO, S_NEW], targets={S_INTO: TARGET})
        job = self.add_job([S_INTO, S_NEW], status="COMPLETED", tags={"enterprise-dr:execution-id": "exec-1"})
        for sid, instance in ((S_INTO, TARGET), (S_NEW, NEW)):
            self.recovery_instances[sid] = {"recoveryInstanceID": instance, "ec2InstanceID": instance,
                                            "sourceServerID": sid, "jobID": job, "isDrill": is_drill,
                                            "arn": f"arn:aws:drs:us-west-2:{A}:recovery-instance/{instance}"}

    def describe_recovery_instances(self, filters=None, **kwargs):
        ids = (filters or {}).get("recoveryInstanceIDs")
        if ids is not None:
            self.calls.append(("describe_recovery_instances", filters))
            return {"items": [ri for ri in self.recovery_instances.values() if ri["recoveryInstanceID"] in ids]}
        return super().describe_recovery_instances(filters=filters)

    def terminate_recovery_instances(self, recoveryInstanceIDs):
        self.calls.append(("terminate_recovery_instances", recoveryInstanceIDs))
        sids = [ri["sourceServerID"] for ri in self.recovery_instances.values()
                if ri["recoveryInstanceID"] in recoveryInstanceIDs]
        job_id = self.add_job(sids, status="STARTED", job_type="TERMINATE",
                              initiated_by="TERMINATE_RECOVERY_INSTANCES", launch_status="IN_PROGRESS")
        self.jobs[job_id]["status"] = "COMPLETED"
        for participant in self.jobs[job_id]["participatingServers"]:
            participant["launchStatus"] = "TERMINATED"
            participant["recoveryInstanceID"] = self.recovery_instances[participant["sourceServerID"]][
                "recoveryInstanceID"]
        for sid in sids:
            self.recovery_instances.pop(sid)
        return {"job": self.jobs[job_id]}

    def disconnect_recovery_instance(self, recoveryInstanceID):
        self.calls.append(("disconnect_recovery_instance", recoveryInstanceID))
        return {}

    def delete_recovery_instance(self, recoveryInstanceID):
        self.calls.append(("delete_recovery_instance", recoveryInstanceID))
        for sid, ri in list(self.recovery_instances.items()):
            if ri["recoveryInstanceID"] == recoveryInstanceID:
                del self.recovery_instances[sid]
        return {}


class CleanupEC2:
    def __init__(self):
        self.calls = []
        self.state = {TARGET: "running", NEW: "running"}
        self.volumes = {"vol-original": {"VolumeId": "vol-original", "State": "available",
                                         "Tags": [{"Key": "enterprise-dr:launch-into-original-of", "Value": TARGET}]},
                        "vol-attached": {"VolumeId": "vol-attached", "State": "in-use",
                                         "Tags": [{"Key": "enterprise-dr:launch-into-original-of", "Value": TARGET}]}}

    def get_paginator(self, name):
        assert name == "describe_instances"
        return FakePaginator(self.describe_instances)

    def describe_instances(self, InstanceIds=None, Filters=None):
        InstanceIds = InstanceIds or instance_id_filter(Filters)
        self.calls.append(("describe_instances", InstanceIds))
        tags = {TARGET: [{"Key": "AWSDRS", "Value": "AllowLaunchingIntoThisInstance"}], NEW: []}
        return {"Reservations": [{"Instances": [
            {"InstanceId": i, "State": {"Name": self.state[i]}, "PrivateIpAddress": "10.0.0.1", "Tags": tags[i]}
            for i in InstanceIds if i in self.state]}]}

    def describe_volumes(self, Filters, **kwargs):
        self.calls.append(("describe_volumes", Filters))
        out = []
        for volume in self.volumes.values():
            tags = {t["Key"]: t["Value"] for t in volume["Tags"]}
            ok = True
            for f in Filters:
                if f["Name"] == "status":
                    ok &= volume["State"] in f["Values"]
                elif f["Name"].startswith("tag:"):
                    ok &= tags.get(f["Name"][4:]) in f["Values"]
            if ok:
                out.append(volume)
        return {"Volumes": out}

    def stop_instances(self, InstanceIds):
        self.calls.append(("stop_instances", InstanceIds))
        for i in InstanceIds:
            self.state[i] = "stopped"

    def terminate_instances(self, InstanceIds):  # must never be called: DRS terminates its own instances
        self.calls.append(("terminate_instances", InstanceIds))

    def delete_volume(self, VolumeId):
        self.calls.append(("delete_volume", VolumeId))
        self.volumes.pop(VolumeId)


@pytest.fixture
def fakes(monkeypatch):
    registry = {}
    monkeypatch.setattr(clients_mod.ClientFactory, "client",
                        lambda self, service, account_id=None, region=None:
                        registry[(service, account_id, region or self.default_region)])
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return registry


def _setup(fakes, is_drill=True):
    drs, ec2 = CleanupDRS(is_drill), CleanupEC2()
    fakes[("drs", A, "us-west-2")] = drs
    fakes[("ec2", A, "us-west-2")] = ec2
    return drs, ec2


def run(module, args, capsys, check_mode=False, diff=False):
    args = dict(args, region="us-west-2")
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


ARGS = {"customer": "acme", "state": "absent", "poll_interval": 1,
        "servers": [{"source_server_id": S_INTO, "account_id": A}, {"source_server_id": S_NEW, "account_id": A}]}
MUTATING = {"stop_instances", "terminate_instances", "delete_volume", "terminate_recovery_instances",
            "disconnect_recovery_instance", "delete_recovery_instance"}


def test_check_mode_predicts_without_mutating(fakes, capsys):
    drs, ec2 = _setup(fakes)
    result = run(mod, ARGS, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    actions = {i["recovery_instance_id"]: i for i in result["recovery_instances"]}
    assert actions[TARGET]["action"] == "stop_and_release" and actions[TARGET]["launch_into_target"] is True
    assert actions[TARGET]["deleted_volume_ids"] == ["vol-original"]
    assert actions[NEW]["action"] == "terminate"
    assert result["diff"]["after"][TARGET]["ec2_state"] == "stopped"
    assert not [c for c in drs.calls + ec2.calls if c[0] in MUTATING]


def test_cleanup_stops_target_terminates_new_instance_and_is_idempotent(fakes, capsys):
    drs, ec2 = _setup(fakes)
    result = run(mod, ARGS, capsys)
    assert result["changed"] is True and not result.get("failed"), result.get("msg")
    assert ("stop_instances", [TARGET]) in ec2.calls
    assert ("terminate_recovery_instances", [NEW]) in drs.calls
    assert not [c for c in ec2.calls if c[0] == "terminate_instances"]
    assert not [c for c in drs.calls if c[0] == "terminate_recovery_instances" and TARGET in c[1]]
    assert [c[1] for c in ec2.calls if c[0] == "delete_volume"] == ["vol-original"]
    order = [c[0] for c in drs.calls if c[0] in ("disconnect_recovery_instance", "delete_recovery_instance")]
    assert order == ["disconnect_recovery_instance", "delete_recovery_instance"]
    assert drs.recovery_instances == {}
    assert result["summary"] == {"terminated": 1, "targets_stopped": 1, "volumes_deleted": 1}

    again = run(mod, ARGS, capsys)
    assert again["changed"] is False
    assert sorted(again["not_found"]) == [S_INTO, S_NEW]


def test_production_instances_are_refused(fakes, capsys):
    drs, ec2 = _setup(fakes, is_drill=False)
    result = run(mod, ARGS, capsys)
    assert result["failed"] is True and "allow_production" in result["msg"] and TARGET in result["msg"]
    assert not [c for c in drs.calls + ec2.calls if c[0] in MUTATING]
    allowed = run(mod, dict(ARGS, allow_production=True), capsys)
    assert not allowed.get("failed") and allowed["changed"] is True


def test_scope_guard(fakes, capsys):
    drs, ec2 = _setup(fakes)
    drs.servers[S_NEW]["tags"] = {"Customer": "globex"}
    result = run(mod, ARGS, capsys)
    assert result["failed"] is True and "globex" in result["msg"]
    assert not [c for c in drs.calls + ec2.calls if c[0] in MUTATING]


def test_recovery_instance_info(fakes, capsys):
    _setup(fakes)
    result = run(drs_recovery_instance_info, {"account_ids": [A]}, capsys)
    assert result["changed"] is False
    assert result["summary"] == {"total": 2, "drills": 2, "running": 2, "launch_into_targets": 1}


def test_job_info_by_run_id_with_logs(fakes, capsys):
    drs, _ec2 = _setup(fakes)
    drs.add_job([S_NEW], status="COMPLETED", tags={"enterprise-dr:execution-id": "exec-other"})
    result = run(drs_job_info, {"account_ids": [A], "run_id": "exec-1", "include_log_items": True}, capsys)
    assert [j["run_id"] for j in result["jobs"]] == ["exec-1"]
    assert result["jobs"][0]["launched"] == 2 and result["summary"]["servers_launched"] == 2
    assert result["jobs"][0]["log_items"][0]["event"] == "JOB_START"
