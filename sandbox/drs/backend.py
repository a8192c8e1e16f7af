"""DRS operations over the per account/region state, with the job state machine and EC2 effects."""

from __future__ import annotations

import base64
import json
import random

from sandbox.locking import STATE_LOCK

from . import ec2
from .errors import field_error
from .errors import not_found
from .errors import throttled
from .errors import uninitialized
from .state import DEFAULT_SETTINGS
from .state import DURATIONS
from .state import LAUNCHABLE_STATES
from .state import RecoveryInstance
from .state import RegionState
from .state import SourceServer
from .state import iso
from .state import new_id
from .state import now

LOCK = STATE_LOCK  # shared with moto: the emulator starts and stops moto EC2 instances
SETTINGS: dict = {}
REGIONS: dict[tuple[str, str], RegionState] = {}

ACTIVE_JOB_CONFLICT = "One or more of the Source Servers included in API call are currently being processed by a Job"


def reset() -> None:
    with LOCK:
        REGIONS.clear()
        SETTINGS.clear()
        SETTINGS.update(json.loads(json.dumps(DEFAULT_SETTINGS)))


reset()


def configure(**settings) -> None:
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown DRS emulator settings: {', '.join(sorted(unknown))}")
    with LOCK:
        SETTINGS.update(settings)


def get_settings() -> dict:
    with LOCK:
        return json.loads(json.dumps(SETTINGS))


def region_state(account_id: str, region: str) -> RegionState:
    key = (account_id, region)
    if key not in REGIONS:
        REGIONS[key] = RegionState(account_id, region)
    return REGIONS[key]


def scaled(name: str) -> float:
    return DURATIONS[name] * float(SETTINGS["time_scale"])


# --- clock -----------------------------------------------------------------------------------------------

def advance(at: float | None = None) -> None:
    """Apply every job step that is due, in time order, across all accounts and regions."""
    at = now() if at is None else at
    with LOCK:
        due = []
        for state in REGIONS.values():
            for job in state.jobs.values():
                count = 0
                while count < len(job.steps) and job.steps[count][0] <= at:
                    count += 1
                if count:
                    due.extend((when, seq, func) for when, seq, func in job.steps[:count])
                    del job.steps[:count]
        # Steps never schedule further steps, so one ordered pass applies everything that is due.
        due.sort(key=lambda item: (item[0], item[1]))
        for when, _seq, func in due:
            func(when)


# --- throttling ------------------------------------------------------------------------------------------

def throttle(state: RegionState) -> None:
    rate = float(SETTINGS["throttle_rate"] or 0)
    if rate > 0 and random.random() < rate:
        raise throttled()
    rps = float(SETTINGS["rate_limit_rps"])
    burst = float(SETTINGS["rate_limit_burst"])
    current = now()
    if state.tokens is None:
        state.tokens = burst
    else:
        state.tokens = min(burst, state.tokens + (current - state.tokens_at) * rps)
    state.tokens_at = current
    if state.tokens < 1:
        raise throttled(max(1, int(1 / rps) if rps > 0 else 1))
    state.tokens -= 1


# --- pagination ------------------------------------------------------------------------------------------

def page(items: list, params: dict, key: str = "items", operation: str = "", render=None) -> dict:
    """One page of items; render (optional) converts only the items of the page."""
    size = params.get("maxResults") or SETTINGS["default_page_size"]
    start = 0
    token = params.get("nextToken")
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            start = int(decoded["offset"])
            if decoded.get("op") != operation or start < 0:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise field_error("nextToken", "Invalid pagination token") from None
    chunk = items[start:start + size]
    result = {key: [render(item) for item in chunk] if render else chunk}
    if start + size < len(items):
        result["nextToken"] = base64.urlsafe_b64encode(
            json.dumps({"offset": start + size, "op": operation}).encode()).decode()
    return result


# --- seeding ---------------------------------------------------------------------------------------------

def default_launch_template() -> dict:
    return {
        "launchDisposition": "STARTED",
        "targetInstanceTypeRightSizingMethod": "BASIC",
        "copyPrivateIp": False,
        "copyTags": False,
        "licensing": {"osByol": False},
        "postLaunchEnabled": False,
        "launchIntoSourceInstance": False,
    }


def initialize(state: RegionState) -> None:
    if state.initialized:
        return
    state.initialized = True
    if not state.launch_templates:
        template_id = new_id("lct-")
        template = default_launch_template()
        template.update({
            "launchConfigurationTemplateID": template_id,
            "arn": f"arn:aws:drs:{state.region}:{state.account_id}:launch-configuration-template/{template_id}",
            "tags": {},
        })
        state.launch_templates[template_id] = template
    if not state.replication_templates:
        template_id = new_id("rct-")
        state.replication_templates[template_id] = {
            "replicationConfigurationTemplateID": template_id,
            "arn": f"arn:aws:drs:{state.region}:{state.account_id}:replication-configuration-template/{template_id}",
            **_replication_defaults(state),
            "tags": {},
        }


def _replication_defaults(state: RegionState) -> dict:
    return {
        "stagingAreaSubnetId": "",
        "associateDefaultSecurityGroup": True,
        "replicationServersSecurityGroupsIDs": [],
        "replicationServerInstanceType": "t3.small",
        "useDedicatedReplicationServer": False,
        "defaultLargeStagingDiskType": "GP3",
        "ebsEncryption": "DEFAULT",
        "bandwidthThrottling": 0,
        "dataPlaneRouting": "PRIVATE_IP",
        "createPublicIP": False,
        "stagingAreaTags": {},
        "pitPolicy": [
            {"ruleID": 1, "units": "MINUTE", "interval": 10, "retentionDuration": 60, "enabled": True},
            {"ruleID": 2, "units": "HOUR", "interval": 1, "retentionDuration": 24, "enabled": True},
            {"ruleID": 3, "units": "DAY", "interval": 1, "retentionDuration": 7, "enabled": True},
        ],
        "autoReplicateNewDisks": True,
        "internetProtocol": "IPV4",
    }


def _template(state: RegionState) -> dict:
    if state.launch_templates:
        return next(iter(state.launch_templates.values()))
    return default_launch_template()


def add_server(state: RegionState, spec: dict, at: float) -> SourceServer:
    server = SourceServer(state.account_id, state.region, spec, at)
    template = _template(state)
    server.launch_config = {
        "sourceServerID": server.id,
        "name": server.hostname,
        "ec2LaunchTemplateID": ec2.create_launch_template(state.account_id, state.region, server.id,
                                                          server.instance_type),
        "launchDisposition": template["launchDisposition"],
        "targetInstanceTypeRightSizingMethod": template["targetInstanceTypeRightSizingMethod"],
        "copyPrivateIp": template["copyPrivateIp"],
        "copyTags": template["copyTags"],
        "licensing": dict(template.get("licensing") or {"osByol": False}),
        "postLaunchEnabled": template.get("postLaunchEnabled", False),
        "launchIntoInstanceProperties": {},
    }
    if template.get("launchIntoSourceInstance") and server.aws_instance_id and \
            server.origin_region == state.region:
        server.launch_config["launchIntoInstanceProperties"] = {"launchIntoEC2InstanceID": server.aws_instance_id}
        server.launch_config["copyPrivateIp"] = False
        server.launch_config["copyTags"] = False
    server.replication_config = {"sourceServerID": server.id, "name": server.hostname,
                                 **_replication_defaults(state),
                                 "replicatedDisks": [{"deviceName": d["deviceName"], "isBootDisk": i == 0,
                                                      "stagingDiskType": "AUTO"}
                                                     for i, d in enumerate(server.disks)]}
    state.servers[server.id] = server
    return server


def seed_source_server(account_id: str, region: str, spec: dict) -> dict:
    if not spec.get("hostname"):
        raise ValueError("seed_source_server: spec['hostname'] is required")
    architecture = spec.get("architecture") or "x86_64"
    if architecture not in ("x86_64", "arm64"):
        raise ValueError(f"seed_source_server: architecture must be x86_64 or arm64, not {architecture!r}")
    with LOCK:
        at = now()
        state = region_state(account_id, region)
        if spec.get("initialize", True):
            initialize(state)
        server = add_server(state, spec, at)
        lag = spec.get("lag_seconds", 0)
        replication_state = spec.get("replication_state", "CONTINUOUS")
        server.set_state(at - 3600, replication_state, lag if replication_state != "DISCONNECTED" else None,
                         spec.get("replication_error"))
        if replication_state in LAUNCHABLE_STATES:
            newest = at - 60 * float(spec.get("last_snapshot_minutes_ago", 5))
            for index in (2, 1, 0):
                _add_snapshot(server, newest - index * 600)
        return server.to_api(at)


def _add_snapshot(server: SourceServer, at: float) -> dict:
    snapshot = {"snapshotID": new_id("pit-"), "sourceServerID": server.id, "expectedTimestamp": iso(at),
                "timestamp": iso(at), "ebsSnapshots": [new_id("snap-") for _disk in server.disks], "_at": at}
    server.snapshots.append(snapshot)
    return snapshot


# --- request context -------------------------------------------------------------------------------------

class Context:
    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self.state = region_state(account_id, region)
        self.now = now()

    def require_initialized(self) -> None:
        if not self.state.initialized:
            raise uninitialized(self.account_id, self.region)

    def server(self, server_id: str) -> SourceServer:
        server = self.state.servers.get(server_id)
        if server is None:
            raise not_found(f"Source server {server_id} does not exist in {self.region}.", server_id,
                            "SOURCE_SERVER")
        return server

    def recovery_instance(self, instance_id: str) -> RecoveryInstance:
        item = self.state.recovery_instances.get(instance_id)
        if item is None:
            raise not_found(f"Recovery instance {instance_id} does not exist in {self.region}.", instance_id,
                            "RECOVERY_INSTANCE")
        return item

    def ri_api(self, item: RecoveryInstance) -> dict:
        return item.to_api(self.now, ec2.ec2_state(item.account_id, item.region, item.id), SETTINGS)
