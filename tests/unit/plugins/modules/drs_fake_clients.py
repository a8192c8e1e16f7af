"""In-memory DRS and EC2 clients for the DRS module unit tests, and a module runner.

They keep the API's shapes (botocore ClientError with the modeled error codes, nextToken paging,
partial UpdateLaunchConfiguration) and record every call, so tests can assert what was called.
"""

import copy
import json
import threading

import pytest
from botocore.exceptions import ClientError

from ansible.module_utils.testing import patch_module_args

MUTATING = {"update_launch_configuration", "tag_resource", "untag_resource", "start_recovery",
            "create_tags", "delete_tags"}


def client_error(code, message, operation):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def source_server(sid, hostname, account="210987654321", region="us-west-2", tags=None, state="CONTINUOUS",
                  lag="PT5S", instance_id=None, direction="FAILOVER", staging=None, architecture="x86_64",
                  os_string="Linux 5.10 Amazon Linux 2"):
    return {
        "sourceServerID": sid,
        "arn": f"arn:aws:drs:{region}:{account}:source-server/{sid}",
        "tags": dict(tags or {}),
        "replicationDirection": direction,
        "dataReplicationInfo": {"dataReplicationState": state, "lagDuration": lag},
        "lifeCycle": {"lastSeenByServiceDateTime": "2026-01-01T00:00:00Z"},
        "sourceProperties": {
            "identificationHints": {"hostname": hostname, "awsInstanceID": instance_id or "i-" + sid[2:]},
            "architecture": architecture,
            "os": {"fullString": os_string},
        },
        "sourceCloudProperties": {"originAccountID": account, "originRegion": "us-east-1"},
        "stagingArea": {"status": "NOT_EXTENDED", "stagingAccountID": staging or account},
    }


def launch_config(sid, **overrides):
    config = {
        "sourceServerID": sid,
        "name": f"Launch Configuration for Source Server {sid}",
        "ec2LaunchTemplateID": "lt-0123456789abcdef0",
        "launchDisposition": "STARTED",
        "targetInstanceTypeRightSizingMethod": "BASIC",
        "copyPrivateIp": True,
        "copyTags": True,
        "licensing": {"osByol": False},
        "postLaunchEnabled": False,
        "launchIntoInstanceProperties": {},
    }
    config.update(overrides)
    return config


class FakeDRS:
    page_size = 2

    def __init__(self, servers=(), configs=None, snapshots=None, calls=None):
        self.servers = {s["sourceServerID"]: copy.deepcopy(s) for s in servers}
        self.configs = configs if configs is not None else {sid: launch_config(sid) for sid in self.servers}
        self.snapshots = snapshots or {}
        self.calls = calls if calls is not None else []
        self._lock = threading.Lock()

    def _record(self, op, **kwargs):
        with self._lock:
            self.calls.append((op, kwargs))

    def describe_source_servers(self, filters=None, nextToken=None, maxResults=None):
        self._record("describe_source_servers", filters=filters, nextToken=nextToken)
        ids = (filters or {}).get("sourceServerIDs")
        items = [s for sid, s in sorted(self.servers.items()) if not ids or sid in ids]
        start = int(nextToken or 0)
        page = items[start:start + self.page_size]
        result = {"items": copy.deepcopy(page)}
        if start + self.page_size < len(items):
            result["nextToken"] = str(start + self.page_size)
        return result

    def get_launch_configuration(self, sourceServerID):
        self._record("get_launch_configuration", sourceServerID=sourceServerID)
        if sourceServerID not in self.configs:
            raise client_error("ResourceNotFoundException", f"Source server {sourceServerID} not found",
                               "GetLaunchConfiguration")
        return copy.deepcopy(self.configs[sourceServerID])

    def update_launch_configuration(self, sourceServerID, **changes):
        self._record("update_launch_configuration", sourceServerID=sourceServerID, **changes)
        if sourceServerID not in self.configs:
            raise client_error("ResourceNotFoundException", f"Source server {sourceServerID} not found",
                               "UpdateLaunchConfiguration")
        config = self.configs[sourceServerID]
        into = changes.get("launchIntoInstanceProperties", {}).get("launchIntoEC2InstanceID")
        copies = changes.get("copyPrivateIp", config["copyPrivateIp"]) or changes.get("copyTags", config["copyTags"])
        if into and copies:
            raise client_error("ValidationException", "copyPrivateIp and copyTags must be false to launch into an "
                               "instance", "UpdateLaunchConfiguration")
        config.update(copy.deepcopy(changes))
        return copy.deepcopy(config)

    def describe_recovery_snapshots(self, sourceServerID, order=None, maxResults=None, nextToken=None):
        self._record("describe_recovery_snapshots", sourceServerID=sourceServerID, order=order)
        items = sorted(self.snapshots.get(sourceServerID, []), key=lambda s: s["timestamp"], reverse=order == "DESC")
        return {"items": items[:maxResults] if maxResults else items}

    def list_tags_for_resource(self, resourceArn):
        self._record("list_tags_for_resource", resourceArn=resourceArn)
        return {"tags": dict(self._by_arn(resourceArn)["tags"])}

    def tag_resource(self, resourceArn, tags):
        self._record("tag_resource", resourceArn=resourceArn, tags=tags)
        self._by_arn(resourceArn)["tags"].update(tags)
        return {}

    def untag_resource(self, resourceArn, tagKeys):
        self._record("untag_resource", resourceArn=resourceArn, tagKeys=tagKeys)
        for key in tagKeys:
            self._by_arn(resourceArn)["tags"].pop(key, None)
        return {}

    def _by_arn(self, arn):
        for server in self.servers.values():
            if server["arn"] == arn:
                return server
        raise client_error("ResourceNotFoundException", f"{arn} not found", "Tags")


def instance(instance_id, name=None, state="stopped", tagged=True, subnet="subnet-0aaa", private_ip="10.1.0.10",
             tags=None, architecture="x86_64", platform="Linux/UNIX", boot_mode=None, region="us-west-2"):
    all_tags = dict(tags or {})
    if name is not None:
        all_tags["Name"] = name
    if tagged:
        all_tags["AWSDRS"] = "AllowLaunchingIntoThisInstance"
    result = {
        "InstanceId": instance_id,
        "State": {"Name": state},
        "PrivateIpAddress": private_ip,
        "SubnetId": subnet,
        "VpcId": "vpc-0aaa",
        "Placement": {"AvailabilityZone": f"{region}a"},
        "SecurityGroups": [{"GroupId": "sg-0aaa", "GroupName": "app"}],
        "InstanceType": "t3.micro",
        "Architecture": architecture,
        "PlatformDetails": platform,
        "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
    }
    if boot_mode:
        result["BootMode"] = boot_mode
    return result


class _Paginator:
    def __init__(self, ec2):
        self.ec2 = ec2

    def paginate(self, **kwargs):
        ec2 = self.ec2

        class _Result:
            def build_full_result(self):
                return ec2.describe_instances(**kwargs)

        return _Result()


def _filter_match(inst, filters):
    tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
    for flt in filters or []:
        name, values = flt["Name"], flt["Values"]
        if name.startswith("tag:") and tags.get(name[4:]) not in values:
            return False
        if name == "instance-state-name" and inst["State"]["Name"] not in values:
            return False
        if name == "instance-id" and inst["InstanceId"] not in values:
            return False
    return True


class FakeEC2:
    def __init__(self, instances=(), subnets=("subnet-0aaa",), calls=None):
        self.instances = {i["InstanceId"]: copy.deepcopy(i) for i in instances}
        self.subnets = set(subnets)
        self.calls = calls if calls is not None else []

    def get_paginator(self, name):
        assert name == "describe_instances"
        return _Paginator(self)

    def describe_instances(self, Filters=None, InstanceIds=None, **kwargs):
        self.calls.append(("describe_instances", {"Filters": Filters, "InstanceIds": InstanceIds}))
        found = [i for i in self.instances.values()
                 if (not InstanceIds or i["InstanceId"] in InstanceIds) and _filter_match(i, Filters)]
        if InstanceIds and not found:
            raise client_error("InvalidInstanceID.NotFound", f"The instance IDs '{InstanceIds}' do not exist",
                               "DescribeInstances")
        return {"Reservations": [{"Instances": copy.deepcopy(found)}] if found else []}

    def describe_subnets(self, SubnetIds=None, Filters=None, **kwargs):
        self.calls.append(("describe_subnets", {"SubnetIds": SubnetIds, "Filters": Filters}))
        wanted = SubnetIds or [v for f in Filters or [] if f["Name"] == "subnet-id" for v in f["Values"]]
        return {"Subnets": [{"SubnetId": s, "VpcId": "vpc-0aaa"} for s in wanted if s in self.subnets]}


class Clients:
    """What ClientFactory.client returns in tests: fakes keyed by (service, account_id, region)."""

    def __init__(self):
        self.by_key = {}
        self.calls = []

    def add(self, service, account_id, region, fake):
        fake.calls = self.calls
        self.by_key[(service, account_id, region)] = fake
        return fake

    def get(self, service, account_id=None, region=None):
        key = (service, account_id, region)
        if key not in self.by_key:
            raise AssertionError(f"unexpected client {key}")
        return self.by_key[key]

    def mutating_calls(self):
        return [c for c in self.calls if c[0] in MUTATING]


def fake_clients(monkeypatch):
    """Patch ClientFactory.client to hand out the fakes registered on the returned Clients."""
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients as clients_mod

    fakes = Clients()
    monkeypatch.setattr(clients_mod.ClientFactory, "client",
                        lambda self, service, account_id=None, region=None, retries=True:
                        fakes.get(service, account_id, region or self.default_region))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return fakes


def run_module(module, args, capsys, check_mode=False, diff=False):
    """Run a module's main() with ``args``; returns its JSON result (``failed`` set on fail_json)."""
    args = dict(args)
    args.setdefault("region", "us-west-2")
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out)
