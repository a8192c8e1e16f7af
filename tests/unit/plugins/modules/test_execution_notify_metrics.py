# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dr_notify messages and dr_metrics data points built from an execution record (pure functions)."""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex
from ansible_collections.enterprise_dr.orchestration.plugins.modules import dr_metrics
from ansible_collections.enterprise_dr.orchestration.plugins.modules import dr_notify

PARAMS = {"event": "gate_waiting", "execution_id": "edr-acme-20240501T120000-abcdef", "customer": "acme",
          "environment": "production", "operation": "failover", "phase": "ACTIVATE", "wave": 2,
          "gate": "before-activate", "timeout_minutes": 30, "text": None, "failed_resources": None,
          "remediation": None, "details": None, "approve_playbook": "ansible-playbook playbooks/approve.yml"}


def test_gate_waiting_message_tells_how_to_decide():
    message = dr_notify.build_message(PARAMS)
    assert message["how_to_decide"] == {
        "approve": "ansible-playbook playbooks/approve.yml -e execution_id=edr-acme-20240501T120000-abcdef "
                   "-e decision=approve",
        "cancel": "ansible-playbook playbooks/approve.yml -e execution_id=edr-acme-20240501T120000-abcdef "
                  "-e decision=cancel"}
    assert "before-activate" in message["text"] and "30 minutes" in message["text"]
    assert dr_notify.attributes(PARAMS) == {"event": "gate_waiting", "customer": "acme",
                                            "execution_id": "edr-acme-20240501T120000-abcdef",
                                            "environment": "production", "operation": "failover"}


def test_failed_message_names_what_failed_and_the_fix():
    params = dict(PARAMS, event="failed", failed_resources=[{"resource": "s-2", "name": "app01", "error": "x"}],
                  remediation="stop i-2 and re-run")
    message = dr_notify.build_message(params)
    assert "app01" in message["text"] and "stop i-2 and re-run" in message["text"]
    assert "how_to_decide" not in message


def test_record_metrics(tmp_path):
    store = ex.FileStore(str(tmp_path))
    rec = store.start("acme", "production", "failover", "alice")
    eid = rec["execution_id"]
    store.update(eid, {"phase": {"name": "ACTIVATE", "status": "running"}, "wave": {"number": 1, "status": "running"},
                       "resources": [{"resource": "s-1", "name": "web01", "status": "succeeded", "phase": "ACTIVATE",
                                      "replication_lag_seconds": 7, "match_score": 1.0, "rto_target_minutes": 30},
                                     {"resource": "s-2", "name": "app01", "status": "failed",
                                      "replication_lag_seconds": 12, "match_score": 0.5}]})
    store.finish(eid, "failed")
    record = store.get(eid)
    points = dr_metrics.record_metrics(record, record.pop("resources"), {"Customer": "acme",
                                                                         "Environment": "production",
                                                                         "Operation": "failover"})
    by_name = {}
    for point in points:
        by_name.setdefault(point["MetricName"], []).append(point)
    assert by_name["RunSucceeded"][0]["Value"] == 0.0
    assert by_name["MatchAccuracy"][0]["Value"] == 75.0
    lag = [p for p in by_name["ReplicationLagBeforeRecovery"] if len(p["Dimensions"]) == 3]
    assert lag[0]["Value"] == 12.0
    phase = by_name["PhaseDuration"][0]
    assert {"Name": "Phase", "Value": "ACTIVATE"} in phase["Dimensions"]
    assert {d["Name"] for d in by_name["WaveDuration"][0]["Dimensions"]} == {"Customer", "Environment", "Operation",
                                                                             "Phase", "Wave"}
    assert {d["Value"] for p in by_name["ResourceRecoveryTime"] for d in p["Dimensions"]
            if d["Name"] == "Resource"} == {"web01"}


def test_dashboard_body_covers_every_figure():
    body = dr_metrics.dashboard_body("EnterpriseDR", "us-east-1")
    expressions = " ".join(w["properties"]["metrics"][0][0]["expression"] for w in body["widgets"])
    for name in ("RunDuration", "RunSucceeded", "RecoveryTime", "PhaseDuration", "WaveDuration",
                 "ReplicationLagBeforeRecovery", "MatchAccuracy", "RtoTargetMet"):
        assert f'MetricName="{name}"' in expressions
