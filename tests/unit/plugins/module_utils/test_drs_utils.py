import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import batch
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import drs


@pytest.mark.parametrize("value,expected", [
    ("PT12S", 12), ("PT1M30S", 90), ("PT2H", 7200), ("P1DT1S", 86401), ("PT0.5S", 0.5),
    ("P0D", 0), (None, None), ("", None), ("P", None), ("PT", None), ("12 seconds", None),
])
def test_parse_iso8601_duration(value, expected):
    assert drs.parse_iso8601_duration(value) == expected


def _server(state="CONTINUOUS", lag="PT5S", error=None):
    info = {"dataReplicationState": state, "lagDuration": lag}
    if error:
        info["dataReplicationError"] = error
    return {
        "sourceServerID": "s-1234567890abcdef0",
        "arn": "arn:aws:drs:us-west-2:210987654321:source-server/s-1234567890abcdef0",
        "dataReplicationInfo": info,
        "sourceProperties": {"identificationHints": {"hostname": "acme-prod-web01", "awsInstanceID": "i-0abc"}},
        "stagingArea": {"stagingAccountID": "210987654321"},
        "tags": {"Customer": "acme"},
    }


def test_readiness_continuous_within_threshold():
    summary = drs.server_readiness(_server(), lag_threshold_seconds=60)
    assert summary["ready"] is True
    assert summary["problems"] == []
    assert summary["lag_seconds"] == 5
    assert summary["hostname"] == "acme-prod-web01"
    assert summary["source_instance_id"] == "i-0abc"
    assert summary["staging_account_id"] == "210987654321"


def test_readiness_reports_state_lag_and_error():
    summary = drs.server_readiness(
        _server(state="STALLED", lag="PT10M", error={"error": "AGENT_NOT_SEEN", "rawError": "agent offline"}),
        lag_threshold_seconds=60,
    )
    assert summary["ready"] is False
    assert any("STALLED" in p for p in summary["problems"])
    assert any("600s exceeds 60s" in p for p in summary["problems"])
    assert any("AGENT_NOT_SEEN" in p for p in summary["problems"])


def test_normalize_name():
    assert drs.normalize_name("  ACME-Prod-Web01 ") == drs.normalize_name("acme-prod-web01")
    assert drs.normalize_name(None) == ""


def test_group_by_account_region_uses_defaults():
    groups = batch.group_by_account_region(
        [{"id": 1, "account_id": "1", "region": "us-west-2"}, {"id": 2},
         {"id": 3, "account_id": "1", "region": "us-west-2"}],
        default_account="9", default_region="us-east-2",
    )
    assert [i["id"] for i in groups[("1", "us-west-2")]] == [1, 3]
    assert [i["id"] for i in groups[("9", "us-east-2")]] == [2]
