from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recovery_validate import add_health_checks
from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recovery_validate import evaluate
from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recovery_validate import health_check
from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recovery_validate import pick_recovery_instance
from ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recovery_validate import probe
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


def _rows(*ids):
    return [{"source_server_id": i, "hostname": f"host-{i}", "ec2_instance_id": f"i-{i}", "passed": True,
             "checks": {"running": {"passed": True, "detail": "EC2 state running"}}} for i in ids]


def test_health_checks_run_only_for_servers_with_a_url_that_passed_their_instance_checks():
    rows = _rows("s-1", "s-2", "s-3")
    rows[2]["passed"] = False
    seen = []

    def check(url, deadline, name, instance_id):
        seen.append((url, name, instance_id))
        return {"passed": url.endswith("/ok"), "detail": url}

    add_health_checks(rows, {"s-1": "http://a/ok", "s-2": "http://b/down", "s-3": "http://c/ok"}, 30, check=check)
    assert sorted(seen) == [("http://a/ok", "host-s-1", "i-s-1"), ("http://b/down", "host-s-2", "i-s-2")]
    assert [r["passed"] for r in rows] == [True, False, False]
    assert "health_check" not in rows[2]["checks"]


def test_health_check_retries_until_it_passes_then_stops():
    answers = iter([(False, "http://a answered HTTP 503"), (False, "http://a did not answer"),
                    (True, "http://a answered HTTP 200")])
    sleeps = []
    check = health_check("http://a", deadline=100, name="web01", instance_id="i-1",
                         attempt=lambda url: next(answers), sleep=sleeps.append, clock=lambda: 0)
    assert check == {"passed": True, "detail": "http://a answered HTTP 200"}
    assert sleeps == [5, 5]


def test_health_check_gives_up_at_the_deadline_and_names_the_fix():
    clock = iter(range(0, 1000, 4))
    check = health_check("tcp://10.0.0.1:5432", deadline=20, name="db01", instance_id="i-db",
                         attempt=lambda url: (False, "tcp://10.0.0.1:5432 did not answer: timed out"),
                         sleep=lambda s: None, clock=lambda: next(clock))
    assert check["passed"] is False
    assert check["detail"].startswith("tcp://10.0.0.1:5432 did not answer: timed out (after ")
    assert "db01 on i-db" in check["fix"]


def test_probe_answers_http_and_tcp_and_hides_credentials():
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        assert probe(f"http://127.0.0.1:{port}/ok") == (True, f"http://127.0.0.1:{port}/ok answered HTTP 200")
        passed, seen = probe(f"http://user:secret@127.0.0.1:{port}/down")
        assert passed is False and seen == f"http://127.0.0.1:{port}/down answered HTTP 503"
        assert probe(f"tcp://127.0.0.1:{port}")[0] is True
        assert probe("ftp://127.0.0.1/x") == (False, "ftp://127.0.0.1/x is not an http(s):// or tcp://host:port URL")
    finally:
        server.shutdown()
        server.server_close()
    passed, seen = probe(f"tcp://127.0.0.1:{port}", timeout=1)
    assert passed is False and "did not answer" in seen
