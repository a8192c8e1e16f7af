# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""discovery.py without AWS: fake clients that page like botocore's, and the emergency cache merge."""

import threading

from botocore.exceptions import ClientError

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import discovery
from tests.unit.plugins.plugin_utils.fixtures import WA
from tests.unit.plugins.plugin_utils.fixtures import WB
from tests.unit.plugins.plugin_utils.fixtures import account
from tests.unit.plugins.plugin_utils.fixtures import demo_raw
from tests.unit.plugins.plugin_utils.fixtures import raw


class FakePaginator:
    def __init__(self, pages, calls, name):
        self.pages, self.calls, self.name = pages, calls, name

    def paginate(self, **kwargs):
        self.calls.append((self.name, kwargs))
        if isinstance(self.pages, Exception):
            raise self.pages
        return iter(self.pages)


class FakeClient:
    def __init__(self, pages, calls):
        self._pages, self.calls = pages, calls

    def get_paginator(self, name):
        return FakePaginator(self._pages.get(name, [{}]), self.calls, name)


class FakeSessions:
    """Stands in for AccountSessions: per (account, region, service) pages, and accounts that cannot be reached."""

    def __init__(self, pages, unreachable=()):
        self.pages, self.unreachable, self.calls = pages, set(unreachable), []
        self.lock = threading.Lock()

    def session(self, spec):
        if spec["account_id"] in self.unreachable:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to assume"}}, "AssumeRole")
        return object()

    def client(self, spec, service, region):
        with self.lock:
            return FakeClient(self.pages.get((spec["account_id"], region, service), {}), self.calls)


def spec(account_id, name):
    return {"account_id": account_id, "name": name, "primary_region": "us-east-1", "dr_region": "us-west-2",
            "role_arn": f"arn:aws:iam::{account_id}:role/R", "external_id": "secret-external-id"}


def test_discover_collects_tagged_asg_drs_targets_and_source_instances():
    pages = {
        (WA, "us-east-1", "resourcegroupstaggingapi"): {"get_resources": [
            {"ResourceTagMappingList": [{"ResourceARN": "arn:aws:rds:us-east-1:1:cluster:a",
                                         "Tags": [{"Key": "dr:enabled", "Value": "true"}]}]},
            {"ResourceTagMappingList": [{"ResourceARN": "arn:aws:rds:us-east-1:1:cluster:b", "Tags": []}]}]},
        (WA, "us-east-1", "autoscaling"): {"describe_auto_scaling_groups": [{"AutoScalingGroups": [
            {"AutoScalingGroupARN": "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:u:autoScalingGroupName/g",
             "Tags": [{"Key": "dr:enabled", "Value": "true"}]}]}]},
        (WA, "us-west-2", "drs"): {"describe_source_servers": [{"items": [{
            "sourceServerID": "s-1", "arn": "arn:aws:drs:us-west-2:1:source-server/s-1", "tags": {"dr:wave": "1"},
            "sourceProperties": {"identificationHints": {"fqdn": "web01.example.internal", "awsInstanceID": "i-1"}},
            "sourceCloudProperties": {"originRegion": "us-east-1", "originAccountID": WA},
            "replicationDirection": "FAILOVER", "dataReplicationInfo": {"dataReplicationState": "CONTINUOUS"}}]}]},
        (WA, "us-west-2", "ec2"): {"describe_instances": [{"Reservations": [{"Instances": [
            {"InstanceId": "i-t", "Tags": [{"Key": "Name", "Value": "web01"}], "State": {"Name": "stopped"},
             "PrivateIpAddress": "10.1.0.1", "SubnetId": "subnet-1", "SecurityGroups": [{"GroupId": "sg-1"}]}]}]}]},
        (WA, "us-east-1", "ec2"): {"describe_instances": [{"Reservations": [{"Instances": [
            {"InstanceId": "i-1", "Tags": [{"Key": "Customer", "Value": "acme"}], "State": {"Name": "running"}}]}]}]},
    }
    sessions = FakeSessions(pages)
    result = discovery.discover(sessions, [spec(WA, "workload-a")], customers=["acme"])
    (entry,) = result["accounts"]
    assert entry["credentials"] == {"role_arn": f"arn:aws:iam::{WA}:role/R"}  # never the external ID
    assert "secret-external-id" not in repr(result)
    east, west = entry["regions"]["us-east-1"], entry["regions"]["us-west-2"]
    assert [t["arn"] for t in east["tagged"]][:2] == ["arn:aws:rds:us-east-1:1:cluster:a",
                                                      "arn:aws:rds:us-east-1:1:cluster:b"]
    assert east["tagged"][2]["arn"].endswith("autoScalingGroupName/g")
    (server,) = west["drs_servers"]
    assert server["hostname"] == "web01" and server["aws_instance_id"] == "i-1"
    assert west["targets"][0]["security_group_ids"] == ["sg-1"]
    assert east["instances"]["i-1"]["tags"] == {"Customer": "acme"}
    tagging = [kw for name, kw in sessions.calls if name == "get_resources"]
    assert {"Key": "dr:enabled"} in tagging[0]["TagFilters"]
    customer_filter = [f for f in tagging[0]["TagFilters"] if f["Key"] == "Customer"][0]
    assert "acme" in customer_filter["Values"] and "ACME" in customer_filter["Values"]
    lookups = [kw for name, kw in sessions.calls if name == "describe_instances" and
               kw["Filters"][0]["Name"] == "instance-id"]
    assert lookups == [{"Filters": [{"Name": "instance-id", "Values": ["i-1"]}]}]


def test_unreachable_account_and_failing_region_are_reported_not_raised():
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetResources")
    pages = {(WB, "us-west-2", "resourcegroupstaggingapi"): {"get_resources": denied}}
    result = discovery.discover(FakeSessions(pages, unreachable=[WA]), [spec(WA, "a"), spec(WB, "b")])
    a, b = result["accounts"]
    assert a["error"] == "AccessDenied (AssumeRole): not authorized to assume" and a["regions"] == {}
    assert b["error"] is None
    assert b["regions"]["us-west-2"]["error"] == "AccessDeniedException (GetResources): no"
    assert b["regions"]["us-east-1"]["error"] is None


def test_uninitialized_drs_region_has_no_servers():
    uninitialized = ClientError({"Error": {"Code": "UninitializedAccountException", "Message": "x"}},
                                "DescribeSourceServers")
    pages = {(WA, "us-west-2", "drs"): {"describe_source_servers": uninitialized}}
    result = discovery.discover(FakeSessions(pages), [spec(WA, "a")])
    block = result["accounts"][0]["regions"]["us-west-2"]
    assert block["error"] is None and block["drs_servers"] == []


def test_fill_from_cache_replaces_only_what_did_not_answer():
    cached = demo_raw()
    fresh = raw(account("123456789012", "hub"),
                account(WA, "workload-a", error="EndpointConnectionError: could not connect"),
                account(WB, "workload-b", dr={"error": "timeout"}))
    merged, substituted = discovery.fill_from_cache(fresh, cached)
    assert substituted == [(WA, None), (WB, "us-west-2")]
    wa = merged["accounts"][1]
    assert wa["error"] is None and wa["stale_reason"].startswith("EndpointConnectionError")
    assert {b["source"] for b in wa["regions"].values()} == {"cache"}
    assert wa["regions"]["us-east-1"]["cached_at"] == cached["discovered_at"]
    wb = merged["accounts"][2]
    assert wb["regions"]["us-west-2"]["source"] == "cache" and wb["regions"]["us-east-1"]["source"] == "live"
    assert fresh["accounts"][1]["error"]  # the fresh result itself is not modified


def test_fill_from_cache_without_usable_cache_changes_nothing():
    fresh = raw(account(WA, "workload-a", error="denied"))
    assert discovery.fill_from_cache(fresh, None) == (fresh, [])
    assert discovery.fill_from_cache(fresh, {"format": 99, "accounts": []}) == (fresh, [])
    cached = raw(account(WA, "workload-a", error="denied too"))
    merged, substituted = discovery.fill_from_cache(fresh, cached)
    assert substituted == [] and merged["accounts"][0]["error"] == "denied"


def test_customer_filter_values_cover_case_variants():
    assert discovery.customer_filter_values(["Acme "]) == ["Acme ", "Acme", "acme", "ACME"]
    assert discovery.customer_filter_values([]) == []


def test_role_session_passes_external_id_and_refreshes_late():
    import boto3

    base = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
    session = discovery.role_session(base, "arn:aws:iam::1:role/R", "ext-1", "name", region="us-east-1")
    credentials = session._session._credentials  # pylint: disable=protected-access
    assert isinstance(credentials, discovery.ShortSessionCredentials)
    assert credentials._advisory_refresh_timeout < discovery.ROLE_SESSION_SECONDS  # pylint: disable=protected-access
    fetcher = credentials._refresh_using.__self__  # pylint: disable=protected-access
    assert fetcher._assume_kwargs["ExternalId"] == "ext-1"  # pylint: disable=protected-access
    assert fetcher._assume_kwargs["DurationSeconds"] == 900  # pylint: disable=protected-access
