from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_failback import dr_failback_record_entries
from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_record_entries import dr_record_entries
from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_wave_failures import dr_wave_failures

HOSTS = [
    {"inventory_hostname": "acme-prod-web01", "dr_hostname": "web01.acme", "dr_source_server_id": "s-1",
     "dr_arn": "arn:aws:drs:us-west-2:210987654321:source-server/s-1", "dr_technology": "drs"},
    {"inventory_hostname": "acme-prod-web02", "dr_source_server_id": "s-2", "dr_technology": "drs"},
    {"inventory_hostname": "acme-prod-db01", "dr_source_server_id": "s-3", "dr_technology": "drs"},
]


def test_failed_launches_fail_their_inventory_host_with_error_and_fix():
    rows = [
        {"source_server_id": "s-1", "launch_status": "FAILED", "raw_error": "Target instance is running"},
        {"source_server_id": "s-2", "launch_status": "LAUNCHED"},
        {"source_server_id": "s-3", "launch_status": "LAUNCHED"},
    ]
    failed = dr_wave_failures(dr_record_entries(rows, HOSTS, "INSTANTIATE"), HOSTS, "INSTANTIATE")
    assert list(failed) == ["acme-prod-web01"]
    assert failed["acme-prod-web01"].startswith(
        "INSTANTIATE failed: Target instance is running. Fix: read the DRS job log")


def test_failed_checks_name_each_check_and_fix():
    rows = [{"source_server_id": "s-2", "passed": False, "checks": {
        "running": {"passed": False, "detail": "EC2 state stopped", "fix": "start i-2"},
        "health_check": {"passed": False, "detail": "http://x/health answered HTTP 503", "fix": "check the app"},
        "private_ip": {"passed": True, "detail": "private IP 10.0.0.2"}}}]
    failed = dr_wave_failures(dr_record_entries(rows, HOSTS, "ACTIVATE"), HOSTS, "ACTIVATE")
    assert failed == {"acme-prod-web02": "ACTIVATE failed: running: EC2 state stopped; health_check: http://x/health "
                                         "answered HTTP 503. Fix: start i-2; check the app"}


def test_failback_entries_are_matched_by_the_forward_server_not_the_failback_server():
    readiness = [{"source_server_id": "s-3", "failback_source_server_id": "s-fb3", "hostname": "db01.acme"}]
    rows = [{"source_server_id": "s-fb3", "passed": False, "checks": {}, "error": "replication STOPPED"}]
    entries = dr_failback_record_entries(rows, readiness, HOSTS, "ACTIVATE")
    assert dr_wave_failures(entries, HOSTS, "ACTIVATE") == {
        "acme-prod-db01": "ACTIVATE failed: replication STOPPED. Fix: fix the cause named in the error and re-run "
                          "failback.yml (it resumes)"}


def test_successes_running_entries_and_junk_fail_nothing():
    rows = [{"source_server_id": "s-1", "launch_status": "PENDING"},
            {"source_server_id": "s-2", "launch_status": "LAUNCHED"}]
    assert dr_wave_failures(dr_record_entries(rows, HOSTS, "INSTANTIATE") + [None, "x"], HOSTS, "INSTANTIATE") == {}


def test_an_entry_of_no_wave_host_keeps_its_name_and_two_failures_of_one_host_are_joined():
    entries = [{"name": "other-host", "status": "failed", "error": "boom"},
               {"name": "web01.acme", "status": "failed", "error": "first"},
               {"resource": "arn:aws:drs:us-west-2:210987654321:source-server/s-1", "status": "failed",
                "error": "second"}]
    failed = dr_wave_failures(entries, HOSTS, "CLEANUP")
    assert failed["other-host"] == "CLEANUP failed: boom"
    assert failed["acme-prod-web01"] == "CLEANUP failed: first; CLEANUP failed: second"
