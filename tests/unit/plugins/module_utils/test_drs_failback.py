"""Failback logic: pairing with the failover record, FAILBACK server lookup, prerequisites, agent-not-ready retries."""

import pytest
from botocore.exceptions import ClientError

from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_failback import dr_failback_record_entries
from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_failback import dr_failback_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import drs_failback as fb

ARN = "arn:aws:drs:{region}:{account}:source-server/{sid}"


def server(sid, direction="FAILBACK", instance="i-0000000000000000b", state="CONTINUOUS", lag="P0D",
           account="210987654321", region="us-east-1", added="2026-01-01T00:00:00+00:00", staging=None):
    item = {"sourceServerID": sid, "arn": ARN.format(region=region, account=account, sid=sid),
            "replicationDirection": direction,
            "sourceProperties": {"identificationHints": {"awsInstanceID": instance}},
            "dataReplicationInfo": {"dataReplicationState": state, "lagDuration": lag},
            "lifeCycle": {"addedToServiceDateTime": added}}
    if staging:
        item["stagingArea"] = {"status": "EXTENDED", "stagingAccountID": staging}
    return item


def conflict(message):
    return ClientError({"Error": {"Code": "ConflictException", "Message": message}}, "ReverseReplication")


RECORD = [{
    "resource": "arn:aws:drs:us-west-2:210987654321:source-server/s-f",
    "before": {"source_server_id": "s-f", "source_instance_id": "i-orig", "source_region": "us-east-1",
               "target_instance_id": "i-dr", "target_private_ip": "10.20.1.11", "staging_account_id": "210987654321",
               "source_private_ip": "10.10.1.11"},
    "after": {"ec2_instance_id": "i-dr", "failback_source_server_id": "s-b"},
}]


def test_pair_servers_takes_staging_account_instances_and_ips_from_the_record():
    pairs = fb.pair_servers([{"source_server_id": "s-f", "account_id": "210987654321", "region": "us-west-2",
                              "hostname": "db01"}, {"source_server_id": "s-unknown"}], RECORD)
    assert pairs[0]["staging_account_id"] == "210987654321"
    assert pairs[0]["original_instance_id"] == "i-orig"
    assert pairs[0]["original_private_ip"] == "10.10.1.11"
    assert pairs[0]["dr_instance_id"] == "i-dr" and pairs[0]["dr_private_ip"] == "10.20.1.11"
    assert pairs[0]["resource"].endswith("s-f") and pairs[0]["failback_source_server_id"] == "s-b"
    assert pairs[1]["staging_account_id"] is None and pairs[1]["recorded"] is False


def test_find_reversed_server_matches_direction_and_instance_never_the_arn():
    items = [server("s-1", direction="FAILOVER", instance="i-dr"),
             server("s-2", instance="i-other"),
             server("s-3", instance="i-dr", state="DISCONNECTED"),
             server("s-4", instance="i-dr", state="STOPPED", added="2026-03-01T00:00:00+00:00"),
             server("s-5", instance="i-dr", state="CONTINUOUS", added="2026-02-01T00:00:00+00:00")]
    assert fb.find_reversed_server(items, "i-dr", "FAILBACK")["sourceServerID"] == "s-5"
    assert fb.find_reversed_server(items[:4], "i-dr", "FAILBACK")["sourceServerID"] == "s-4"
    assert fb.find_reversed_server(items, "i-none", "FAILBACK") is None


@pytest.mark.parametrize("state,lag,ready", [("CONTINUOUS", "PT5S", True), ("CONTINUOUS", "PT60S", False),
                                             ("INITIAL_SYNC", None, False), ("STOPPED", None, False)])
def test_replication_ready_needs_continuous_and_lag_under_threshold(state, lag, ready):
    assert fb.replication_ready(server("s-1", state=state, lag=lag), 60)[0] is ready


def test_effective_staging_account_prefers_the_extended_one():
    assert fb.effective_staging_account(server("s-1")) == "210987654321"
    assert fb.effective_staging_account(server("s-1", staging="345678901234")) == "345678901234"


def test_egress_checks_tcp_ranges_and_all_traffic():
    tcp1500 = {"IpProtocol": "tcp", "FromPort": 1500, "ToPort": 1500}
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    assert fb.egress_missing_ports([{"IpPermissionsEgress": [tcp1500, https]}]) == []
    assert fb.egress_missing_ports([{"IpPermissionsEgress": [https]}]) == [1500]
    assert fb.egress_missing_ports([{"IpPermissionsEgress": [{"IpProtocol": "-1"}]}]) == []
    assert fb.egress_missing_ports([{"IpPermissionsEgress": [{"IpProtocol": "udp", "FromPort": 0,
                                                              "ToPort": 65535}]}]) == [1500, 443]


def test_policy_document_equivalent_to_the_recovery_instance_policy():
    assert fb.document_allows({"Statement": [{"Effect": "Allow", "Action": "drs:*", "Resource": "*"}]})
    assert fb.document_allows({"Statement": {"Effect": "Allow", "Action": ["drs:SendAgent*"]}})
    assert not fb.document_allows({"Statement": [{"Effect": "Deny", "Action": "drs:*"}]})
    assert not fb.document_allows({"Statement": [{"Effect": "Allow", "Action": "drs:SendAgentLogsForDrs"}]})


def facts(**overrides):
    base = {
        "recovery_instance": {"recoveryInstanceID": "i-dr"},
        "instance": {"InstanceId": "i-dr", "State": {"Name": "running"}, "PrivateIpAddress": "10.20.1.11"},
        "security_groups": [{"GroupId": "sg-1", "IpPermissionsEgress": [{"IpProtocol": "-1"}]}],
        "profile": {"name": "p", "arn": "arn", "roles": [{"name": "r", "managed": [], "grants": True}]},
        "origin_initialized": True,
        "original_instance": {"InstanceId": "i-orig", "State": {"Name": "stopped"},
                              "Tags": [{"Key": "dr:failback-target", "Value": "true"}]},
        "reversed": server("s-b", instance="i-dr"),
    }
    base.update(overrides)
    return base


PAIR = dict(fb.pair_servers([{"source_server_id": "s-f", "hostname": "db01", "region": "us-west-2"}], RECORD)[0])


def test_assess_passes_when_every_prerequisite_holds():
    verdict = fb.assess(PAIR, facts())
    assert verdict["passed"] and verdict["blocking"] == [] and verdict["warnings"] == []


@pytest.mark.parametrize("override,check", [
    ({"instance": {"InstanceId": "i-dr", "State": {"Name": "running"}, "PrivateIpAddress": "10.20.1.99"}},
     "private_ip"),
    ({"security_groups": [{"GroupId": "sg-1", "IpPermissionsEgress": [{"IpProtocol": "tcp", "FromPort": 443,
                                                                       "ToPort": 443}]}]}, "security_groups"),
    ({"reversed": server("s-b", instance="i-dr", state="INITIAL_SYNC")}, "failback_replication"),
    ({"reversed": None}, "failback_replication"),
    ({"origin_initialized": False}, "drs_initialized"),
    ({"original_instance": None}, "original_instance"),
    ({"original_instance": {"InstanceId": "i-orig", "State": {"Name": "running"}, "Tags": []}}, "original_instance"),
    ({"recovery_instance": None}, "recovery_instance_running"),
    ({"reversed": server("s-b", instance="i-dr", staging="345678901234")}, "staging_account"),
])
def test_assess_blocks_each_failure_with_a_fix_naming_the_server(override, check):
    verdict = fb.assess(PAIR, facts(**override))
    assert not verdict["passed"] and check in verdict["blocking"]
    line = [x for x in fb.describe_failures([dict(verdict, hostname="db01", source_server_id="s-f")])
            if f"[{check}]" in x][0]
    assert line.startswith("db01 ") and "Fix: " in line


def test_missing_staging_account_blocks_and_profile_is_a_warning_by_default():
    pair = dict(PAIR, staging_account_id=None)
    verdict = fb.assess(pair, facts(profile=None, reversed=None), stage="reverse_replication")
    assert "failover_record" in verdict["blocking"]
    assert verdict["warnings"] == ["instance_profile"]
    strict = fb.assess(PAIR, facts(profile=None), profile_severity="critical")
    assert strict["blocking"] == ["instance_profile"]


def test_agent_not_ready_conflict_is_retried_with_backoff_then_succeeds():
    calls, sleeps = [], []
    clock = iter(range(0, 1000)).__next__

    def call():
        calls.append(1)
        if len(calls) < 3:
            raise conflict("Recovery instance i-1 has not finished initializing. Try again later.")
        return {"reversedDirectionSourceServerArn": "arn"}

    result, attempts = fb.call_when_agent_ready(call, 600, clock=clock, sleep=sleeps.append)
    assert result["reversedDirectionSourceServerArn"] == "arn" and attempts == 3
    assert sleeps == [1.0, 2.0]


def test_other_conflicts_and_timeouts_are_raised():
    def other():
        raise conflict("Cannot start reversed replication: launch into source instance is enabled")

    with pytest.raises(ClientError):
        fb.call_when_agent_ready(other, 600, clock=lambda: 0, sleep=lambda s: None)
    times = iter([0, 0, 5, 5, 100, 100, 100]).__next__

    def never():
        raise conflict("has not finished initializing")

    with pytest.raises(ClientError):
        fb.call_when_agent_ready(never, 10, clock=times, sleep=lambda s: None)


def test_filters_map_forward_servers_to_failback_servers_and_back():
    rows = [{"source_server_id": "s-f", "failback_source_server_id": "s-b", "hostname": "db01",
             "staging_account_id": "210987654321", "original_region": "us-east-1", "original_instance_id": "i-orig",
             "original_private_ip": "10.10.1.11", "original_state": "stopped", "resource": "arn-f",
             "account_id": "210987654321", "region": "us-west-2"},
            {"source_server_id": "s-g", "failback_source_server_id": None, "hostname": "app01"}]
    servers = dr_failback_servers(rows, keys=["source_server_id", "region", "target_instance_id"])
    assert servers == [{"source_server_id": "s-b", "region": "us-east-1", "target_instance_id": "i-orig"}]
    assert dr_failback_servers([dict(rows[0], original_state="running")], stopped_only=True) == []
    entries = dr_failback_record_entries([{"source_server_id": "s-b", "launch_status": "LAUNCHED", "job_id": "j-1"}],
                                         rows, [{"dr_source_server_id": "s-f", "dr_wave": 1}], "INSTANTIATE")
    assert entries[0]["resource"] == "arn-f" and entries[0]["status"] == "succeeded" and entries[0]["wave"] == 1
    assert entries[0]["after"]["failback_source_server_id"] == "s-b" and entries[0]["job_ids"] == ["j-1"]


class RecordingDrs:
    """DescribeSourceServers / DescribeRecoveryInstances of one account and region, as DRS filters them."""

    def __init__(self, servers, instances):
        self.servers, self.instances, self.calls = servers, instances, []

    def _filtered(self, operation, items, filters, key):
        self.calls.append((operation, sorted((filters or {}).get(key) or [])))
        wanted = set((filters or {}).get(key) or [])
        return {"items": [i for i in items if not wanted or i["sourceServerID"] in wanted]}

    def describe_source_servers(self, filters=None, maxResults=None):
        if maxResults == 1:  # the initialization probe
            return {"items": self.servers[:1]}
        return self._filtered("DescribeSourceServers", self.servers, filters, "sourceServerIDs")

    def describe_recovery_instances(self, filters=None):
        return self._filtered("DescribeRecoveryInstances", self.instances, filters, "sourceServerIDs")


class Factory:
    def __init__(self, clients):
        self.clients = clients

    def client(self, service, account_id=None, region=None):
        assert service == "drs"
        return self.clients[(account_id, region)]


def test_the_view_reads_the_waves_own_servers_in_the_dr_region_and_the_whole_original_region():
    estate = [server(f"s-{n}", direction="FAILOVER", instance=f"i-src{n}", region="us-west-2") for n in range(250)]
    dr = RecordingDrs(estate, [{"sourceServerID": "s-3", "recoveryInstanceID": "ri-3", "ec2InstanceID": "i-dr3",
                                "isDrill": False, "ec2InstanceState": "RUNNING"},
                               {"sourceServerID": "s-9", "recoveryInstanceID": "ri-9", "ec2InstanceID": "i-dr9",
                                "isDrill": False, "ec2InstanceState": "RUNNING"}])
    origin = RecordingDrs([server("s-b3", instance="i-dr3"), server("s-b9", instance="i-dr9")], [])
    view = fb.FailbackView(Factory({("210987654321", "us-west-2"): dr, ("210987654321", "us-east-1"): origin}),
                           lambda fn, keys: {key: fn(key) for key in keys})
    pairs = [{"source_server_id": sid, "account_id": "210987654321", "region": "us-west-2",
              "staging_account_id": "210987654321", "original_region": "us-east-1"} for sid in ("s-3", "s-9")]
    view.load(pairs)
    # The DR region: only the wave's two servers, by ID; the original region: every server (found by instance).
    assert dr.calls == [("DescribeSourceServers", ["s-3", "s-9"]), ("DescribeRecoveryInstances", ["s-3", "s-9"])]
    assert origin.calls == [("DescribeSourceServers", []), ("DescribeRecoveryInstances", [])]
    assert [p["forward"]["sourceServerID"] for p in pairs] == ["s-3", "s-9"]
    assert [p["dr_instance_id"] for p in pairs] == ["i-dr3", "i-dr9"]
    assert [p["failback_server"]["sourceServerID"] for p in pairs] == ["s-b3", "s-b9"]
    # A refresh (reverse replication's wait) reads the same scope again.
    view.refresh({("210987654321", "us-west-2")})
    assert dr.calls[2:] == [("DescribeSourceServers", ["s-3", "s-9"]), ("DescribeRecoveryInstances", ["s-3", "s-9"])]
