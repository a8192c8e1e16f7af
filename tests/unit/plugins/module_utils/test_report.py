"""The execution and readiness reports: their data, the measured RPO, and escaping in the HTML."""

import datetime
import html.parser
import json

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report import execution_report
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report import readiness_check
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report import readiness_report
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report_html import render

NOW = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)
EVIL = '<script>alert("x")</script>&'


def record(operation="failover"):
    return {
        "execution_id": "edr-acme-20240501T120000-a1b2c3", "customer": "acme", "environment": None,
        "operation": operation, "status": "failed", "started_by": "jane", "started_at": "2024-05-01T12:00:00Z",
        "ended_at": "2024-05-01T12:20:00Z",
        "phases": {"INSTANTIATE": {"status": "succeeded", "started_at": "2024-05-01T12:00:10Z",
                                   "ended_at": "2024-05-01T12:08:00Z"},
                   "ACTIVATE": {"status": "failed", "started_at": "2024-05-01T12:09:00Z",
                                "ended_at": "2024-05-01T12:18:00Z"}},
        "waves": {"INSTANTIATE/1": {"phase": "INSTANTIATE", "number": 1, "status": "succeeded",
                                    "started_at": "2024-05-01T12:00:10Z", "ended_at": "2024-05-01T12:08:00Z",
                                    "duration_seconds": 470},
                  "ACTIVATE/1": {"phase": "ACTIVATE", "number": 1, "status": "failed",
                                 "started_at": "2024-05-01T12:09:00Z", "ended_at": "2024-05-01T12:18:00Z",
                                 "duration_seconds": 540}},
        "approvals": [{"gate": "before-activate", "decision": "approve", "approver": "bob",
                       "at": "2024-05-01T12:08:30Z", "mode": "record"}],
        "errors": [],
    }


def resources():
    return [
        {"resource": "arn:aws:drs:us-west-2:1:source-server/s-1", "name": "web01", "technology": "drs", "wave": 1,
         "status": "succeeded", "phase": "ACTIVATE", "started_at": "2024-05-01T12:00:10Z",
         "recovery_seconds": 300, "rto_target_minutes": 10, "rpo_target_minutes": 5,
         "before": {"source_instance_id": "i-src", "target_instance_id": "i-tgt"},
         "after": {"ec2_instance_id": "i-tgt", "recovery_point_time": "2024-05-01T11:58:10Z",
                   "recovery_started_at": "2024-05-01T12:00:10Z",
                   "checks": {"health_check": {"passed": True, "detail": "200 from http://web01/health"}}},
         "summary": "web01 runs on i-tgt with 10.0.0.5"},
        {"resource": "arn:aws:drs:us-west-2:1:source-server/s-2", "name": EVIL, "technology": "drs", "wave": 1,
         "status": "failed", "phase": "ACTIVATE", "started_at": "2024-05-01T12:00:10Z",
         "recovery_seconds": 1200, "rto_target_minutes": 15, "rpo_target_minutes": 1,
         "before": {"note": EVIL, "db_password": "hunter2"},
         "after": {"recovery_point_time": "2024-05-01T11:50:10Z", "recovery_started_at": "2024-05-01T12:00:10Z",
                   "health_check_url": "https://admin:s3cr3t@app.example.com/health",
                   "checks": {"running": {"passed": False, "detail": "EC2 state stopped", "fix": "start it"}}},
         "error": "running: EC2 state stopped", "remediation": "start i-x"},
    ]


def test_measured_rpo_is_launch_request_minus_recovery_point():
    entry = resources()[0]
    assert ex.measured_rpo(entry) == 120
    # A recovery point taken after the launch request (a fresh DRS snapshot) lost nothing.
    assert ex.measured_rpo({"after": {"recovery_point_time": "2024-05-01T12:00:30Z",
                                      "recovery_started_at": "2024-05-01T12:00:10Z"}}) == 0
    # Without recovery_started_at, the entry's own start is the reference.
    assert ex.measured_rpo({"started_at": "2024-05-01T12:10:00Z",
                            "after": {"recovery_point_time": "2024-05-01T12:00:00Z"}}) == 600
    assert ex.measured_rpo({"after": {"rpo_seconds": "42"}}) == 42
    assert ex.measured_rpo({"replication_lag_seconds": 7}) == 7
    assert ex.measured_rpo({"after": {}}) is None


def test_rto_report_fills_rpo_against_the_target():
    rto = ex.rto_report(record(), resources(), NOW)
    by_name = {r["name"]: r for r in rto["resources"]}
    assert by_name["web01"]["rpo"] == {"target_minutes": 5.0, "measured_seconds": 120, "met": True}
    assert by_name[EVIL]["rpo"] == {"target_minutes": 1.0, "measured_seconds": 600, "met": False}


def test_execution_report_data():
    report = execution_report(record(), resources(), NOW)
    rows = {r["name"]: r for r in report["resources"]}
    assert rows["web01"]["summary"] == "web01 runs on i-tgt with 10.0.0.5"
    assert rows["web01"]["rto"]["met"] is True and rows[EVIL]["rto"]["met"] is False
    assert report["compliance"]["rto_missed"] == [EVIL] and report["compliance"]["rpo_missed"] == [EVIL]
    # A failed resource's error and fix are listed, though the record's error list was empty.
    assert [(e["message"], e["remediation"]) for e in report["errors"]] == [("running: EC2 state stopped",
                                                                            "start i-x")]
    # Generic summary when the adapter gave none; secrets are redacted, URL credentials removed.
    assert rows[EVIL]["summary"] == "health_check_url https://app.example.com/health"
    changes = {c["field"]: c for c in rows[EVIL]["changes"]}
    assert changes["db_password"]["before"] == "[redacted]"
    assert changes["health_check_url"]["after"] == "https://app.example.com/health"
    assert [c["name"] for c in rows[EVIL]["health_checks"]] == ["running"]
    labels = [(b["label"], b["offset_seconds"], b["duration_seconds"]) for b in report["timeline"]["bars"]]
    assert labels == [("INSTANTIATE", 10, 470), ("INSTANTIATE wave 1", 10, 470), ("ACTIVATE", 540, 540),
                      ("ACTIVATE wave 1", 540, 540)]
    assert report["timeline"]["marks"][0]["offset_seconds"] == 510
    assert "drill" not in report


def test_drill_report_passes_and_fails_per_resource():
    report = execution_report(record("drill"), resources(), NOW)
    assert {r["name"]: r["drill_result"] for r in report["resources"]} == {"web01": "pass", EVIL: "fail"}
    assert report["drill"] == {"passed": 1, "failed": 1, "incomplete": 0, "result": "fail"}


class Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []
        self.data_script = None
        self._in_data = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_data = tag == "script" and dict(attrs).get("id") == "report-data"

    def handle_endtag(self, tag):
        self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            self.data_script = data
        else:
            self.text.append(data)


def test_html_escapes_every_value_and_embeds_the_data():
    page = render(execution_report(record(), resources(), NOW))
    assert EVIL not in page
    assert "hunter2" not in page and "s3cr3t" not in page
    parsed = Collector()
    parsed.feed(page)
    scripts = [a for t, a in parsed.tags if t == "script"]
    # Exactly the two scripts the page ships: the data block and the inline filter; none has a src.
    assert len(scripts) == 2 and not any("src" in a for a in scripts)
    assert not any(t in ("link", "img", "iframe") for t, _a in parsed.tags)
    assert EVIL in "".join(parsed.text)  # shown as text, not markup
    data = json.loads(parsed.data_script)
    assert data["execution"]["execution_id"] == "edr-acme-20240501T120000-a1b2c3"
    rows = [a for t, a in parsed.tags if t == "tr" and "data-resource" in a]
    assert sorted(a["data-status"] for a in rows) == ["failed", "succeeded"]
    cells = {(a.get("data-rto") or a.get("data-rpo")): a for t, a in parsed.tags if t == "td"
             and ("data-rto" in a or "data-rpo" in a)}
    assert "missed" in cells and "met" in cells
    assert sum(1 for t, a in parsed.tags if t == "rect" and "bar" in a.get("class", "")) == 4


def test_readiness_report_counts_blocking_problems_and_fixes():
    rows = [
        {"name": "web01", "customer": "acme", "resource": "s-1", "checks": [
            readiness_check("replication", True, "CONTINUOUS"),
            readiness_check("instance_profile", False, "no DRS policy", "attach the policy", severity="warning")]},
        {"name": EVIL, "customer": "acme", "resource": "s-2", "checks": [
            readiness_check("launch_into_target", False, "no target named x", "tag a stopped instance Name=x")]},
    ]
    report = readiness_report(rows, scope={"customers": ["acme"]}, now=NOW)
    assert report["counts"] == {"total": 2, "ready": 1, "not_ready": 1, "problems": 2}
    by_name = {r["name"]: r for r in report["resources"]}
    assert by_name["web01"]["ready"] is True
    assert by_name[EVIL]["problems"] == [{"check": "launch_into_target", "detail": "no target named x",
                                          "fix": "tag a stopped instance Name=x", "severity": "critical"}]
    page = render(report)
    assert EVIL not in page and "tag a stopped instance Name=x" in page
    assert page.count('data-ready="false"') == 1


def test_drs_readiness_of_a_failed_over_server_is_about_failback():
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report_drs import drs_readiness_rows

    hosts = [{"inventory_hostname": h, "dr_source_server_id": sid, "dr_customer": "acme", "dr_rpo_target": 5,
              "dr_hostname": h} for h, sid in (("db01", "s-1"), ("web01", "s-2"))]
    servers = [{"source_server_id": "s-1", "hostname": "db01", "replication_state": "DISCONNECTED", "lag_seconds": None,
                "matched_target": {"instance_id": "i-1", "name": "db01", "state": "running"}},
               {"source_server_id": "s-2", "hostname": "web01", "replication_state": "CONTINUOUS", "lag_seconds": 900,
                "matched_target": {"instance_id": "i-2", "name": "web01", "state": "stopped"}}]
    failback = [{"source_server_id": "s-1", "passed": False, "blocking": ["private_ip"], "recovery_instance_id": "i-1",
                 "warnings": ["instance_profile"],
                 "checks": {"instance_profile": {"passed": False, "detail": "no profile", "fix": "attach one"},
                            "private_ip": {"passed": False, "detail": "10.0.0.9, expected 10.0.0.5",
                                           "fix": "relaunch into the target", "severity": "critical"},
                            "drs_initialized": {"passed": True, "detail": "DRS answers"}}}]
    rows = {r["name"]: r for r in readiness_report(drs_readiness_rows(hosts, servers, failback=failback),
                                                   now=NOW)["resources"]}
    assert rows["db01"]["failback"] == "blocked: private_ip" and rows["db01"]["ready"] is False
    assert [(p["check"], p["severity"]) for p in rows["db01"]["problems"]] == [
        ("failback_private_ip", "critical"), ("failback_instance_profile", "warning")]
    assert rows["db01"]["problems"][0]["fix"] == "relaunch into the target"
    # Not failed over: replication lag against the RPO target (15 min > 5 min) is the problem, with its fix.
    assert rows["web01"]["failback"] == "not failed over" and rows["web01"]["lag"]["met"] is False
    assert [p["check"] for p in rows["web01"]["problems"]] == ["replication_lag"]
    assert rows["web01"]["problems"][0]["fix"]
