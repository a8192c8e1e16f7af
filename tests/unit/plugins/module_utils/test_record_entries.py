"""The one record-entry schema of the adapter contract."""

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import record_entries

HOST = {"inventory_hostname": "orders-db", "dr_arn": "arn:aws:rds:us-east-1:111111111111:cluster:orders",
        "dr_technology": "aurora", "dr_wave": 1, "dr_account_id": "111111111111", "dr_resource_region": "us-east-1",
        "dr_rto_target": 15, "dr_rpo_target": 1}


def test_rows_become_entries_keyed_by_resource_and_host_with_targets():
    rows = [{"resource": HOST["dr_arn"], "summary": "writer moved", "before": {"writer": "a"},
             "after": {"writer": "b", "gone": None}, "replication_lag_seconds": 0}]
    [entry] = record_entries.entries_for_rows(rows, [HOST], "ACTIVATE")
    assert entry["resource"] == HOST["dr_arn"] and entry["name"] == "orders-db"
    assert entry["technology"] == "aurora" and entry["wave"] == 1 and entry["phase"] == "ACTIVATE"
    assert entry["status"] == "succeeded" and entry["summary"] == "writer moved"
    assert entry["after"] == {"writer": "b"} and entry["rto_target_minutes"] == 15
    assert entry["replication_lag_seconds"] == 0


def test_a_row_with_an_error_fails_and_keeps_the_fix():
    [entry] = record_entries.entries_for_rows(
        [{"name": "orders-db", "error": "InvalidGlobalClusterStateFault", "remediation": "wait"}], [HOST], "ACTIVATE")
    assert entry["status"] == "failed" and entry["remediation"] == "wait"


def test_a_row_for_a_resource_outside_the_wave_is_an_error_not_dropped():
    with pytest.raises(ValueError, match="matches no resource"):
        record_entries.entries_for_rows([{"resource": "arn:aws:rds:us-east-1:1:cluster:other"}], [HOST], "ACTIVATE")


def test_unknown_fields_and_statuses_are_refused():
    with pytest.raises(ValueError):
        record_entries.make_entry("r", "n", "drs", "ACTIVATE", "done")
    with pytest.raises(ValueError):
        record_entries.make_entry("r", "n", "drs", "ACTIVATE", "succeeded", colour="red")
