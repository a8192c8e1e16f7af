from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recovery_validate import evaluate
from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recovery_validate import pick_recovery_instance
from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_source_instance import desired_change

ENTRY = {"source_server_id": "s-1", "hostname": "acme-prod-web01", "account_id": "210987654321",
         "region": "us-west-2", "expected_instance_id": "i-target", "expected_private_ip": "10.20.1.11"}
RECOVERY = {"recoveryInstanceID": "i-target", "ec2InstanceID": "i-target", "isDrill": False}


def instance(state="running", ip="10.20.1.11", tags=None):
    return {"InstanceId": "i-target", "State": {"Name": state}, "PrivateIpAddress": ip,
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}


def test_all_checks_pass():
    row = evaluate(ENTRY, RECOVERY, instance(), {"instance": "ok", "system": "ok"}, True)
    assert row["passed"] is True
    assert set(row["checks"]) == {"recovery_instance", "instance_id", "running", "private_ip", "status_checks"}


def test_wrong_instance_and_ip_and_stopped_fail_with_fixes():
    row = evaluate(ENTRY, dict(RECOVERY, ec2InstanceID="i-new"), instance(state="stopped", ip="10.20.9.9"),
                   None, True)
    assert row["passed"] is False
    for name in ("instance_id", "private_ip", "running", "status_checks"):
        assert row["checks"][name]["passed"] is False
        assert row["checks"][name]["fix"]
    assert "acme-prod-web01" in row["checks"]["private_ip"]["fix"]


def test_missing_recovery_instance():
    row = evaluate(ENTRY, None, None, None, False)
    assert row["checks"]["recovery_instance"]["passed"] is False
    assert "status_checks" not in row["checks"]


def test_pick_recovery_instance_by_kind_and_recency():
    items = [{"recoveryInstanceID": "a", "isDrill": True, "pointInTimeSnapshotDateTime": "2026-01-02"},
             {"recoveryInstanceID": "b", "isDrill": False, "pointInTimeSnapshotDateTime": "2026-01-01"},
             {"recoveryInstanceID": "c", "isDrill": True, "pointInTimeSnapshotDateTime": "2026-01-03"}]
    assert pick_recovery_instance(items, drill=False)["recoveryInstanceID"] == "b"
    assert pick_recovery_instance(items, drill=True)["recoveryInstanceID"] == "c"
    assert pick_recovery_instance(items)["recoveryInstanceID"] == "c"
    assert pick_recovery_instance([], drill=True) is None


def test_source_instance_stop_and_tag_then_idempotent():
    wanted = {"dr:failback-target": "true", "dr:failback-execution-id": "edr-1"}
    before, after, actions = desired_change(instance(tags={"Customer": "acme"}), "stopped", wanted)
    assert actions == ["stop", "tag"]
    assert after["state"] == "stopped" and after["tags"]["dr:failback-target"] == "true"
    _before, _after, again = desired_change(instance(state="stopped", tags=after["tags"]), "stopped", wanted)
    assert again == []


def test_source_instance_terminate_is_idempotent():
    assert desired_change(instance(), "terminated", {})[2] == ["terminate"]
    assert desired_change(instance(state="terminated"), "terminated", {})[2] == []


def test_source_instance_keeps_the_execution_that_retired_it():
    retired = instance(state="stopped", tags={"dr:failback-target": "true", "dr:failback-execution-id": "edr-1"})
    wanted = {"dr:failback-target": "true", "dr:failback-execution-id": "edr-2"}
    assert desired_change(retired, "stopped", wanted)[2] == []
    # A running instance retired again (a later failover after a failback) records the new execution.
    running = instance(state="running", tags={"dr:failback-target": "true", "dr:failback-execution-id": "edr-1"})
    _before, after, actions = desired_change(running, "stopped", wanted)
    assert actions == ["stop", "tag"] and after["tags"]["dr:failback-execution-id"] == "edr-2"
