"""DRS resources of one account and region, and the clock that drives them.

Everything time-dependent (job progress, replication progress) is stored as a timeline of absolute
timestamps decided when the action happens, and read against the clock on every request: no
background thread is needed, and ``time_scale`` stretches or shrinks every duration.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from datetime import timezone

DEFAULT_SETTINGS = {
    "time_scale": 1.0,
    "launch_failures": [],
    "agent_not_ready_seconds": 2.0,
    "throttle_rate": 0.0,
    "rate_limit_rps": 200.0,
    "rate_limit_burst": 400,
    "terminate_launch_into_targets": True,
    "max_servers_per_job": 100,
    "max_concurrent_jobs": 20,
    "max_servers_in_active_jobs": 500,
    "default_page_size": 100,
}

# Emulated durations in seconds at time_scale 1 (time_scale 60 gives realistic minutes).
DURATIONS = {
    "job_pending": 1.0,
    "cleanup": 0.3,
    "snapshot": 0.2,
    "conversion": 1.0,
    "launch": 2.0,
    "job_end": 0.1,
    "terminate": 1.0,
    "initiating": 0.5,
    "initial_sync": 2.5,
    "stalled": 0.5,
    "rescan": 1.5,
}

ARCHITECTURES = ("x86_64", "arm64")
LAUNCHABLE_STATES = {"CONTINUOUS", "BACKLOG", "RESCAN", "CREATING_SNAPSHOT", "STALLED", "PAUSED"}
GIB = 1024 ** 3


def now() -> float:
    return time.time()


def iso(ts: float | None) -> str | None:
    """DRS timestamps are strings; the service writes microseconds and a +00:00 offset."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="microseconds")


def parse_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def iso_duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    seconds = max(0, int(seconds))
    if seconds == 0:
        return "P0D"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    time_part = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return text + ("T" + time_part if time_part else "")


def new_id(prefix: str, length: int = 17) -> str:
    return prefix + secrets.token_hex(9)[:length]


class SourceServer:
    def __init__(self, account_id: str, region: str, spec: dict, created: float):
        self.id = spec.get("source_server_id") or new_id("s-")
        self.account_id = account_id
        self.region = region
        self.arn = f"arn:aws:drs:{region}:{account_id}:source-server/{self.id}"
        self.hostname = spec["hostname"]
        self.tags = dict(spec.get("tags") or {})
        self.aws_instance_id = spec.get("source_instance_id")
        self.origin_region = spec.get("origin_region") or ("us-east-1" if self.aws_instance_id else None)
        self.origin_account_id = spec.get("origin_account_id") or (account_id if self.aws_instance_id else None)
        self.origin_az = spec.get("origin_availability_zone") or (
            f"{self.origin_region}a" if self.origin_region else None)
        self.private_ip = spec.get("private_ip")
        self.os = (spec.get("os") or "linux").lower()
        self.instance_type = spec.get("instance_type") or "t3.small"
        self.boot_mode = spec.get("boot_mode") or ("LEGACY_BIOS" if self.os == "linux" else "UEFI")
        self.architecture = spec.get("architecture") or "x86_64"
        disks = spec.get("disks") or [8]
        self.disks = []
        for index, disk in enumerate(disks):
            if isinstance(disk, dict):
                self.disks.append({"deviceName": disk.get("deviceName", f"/dev/xvd{'abcdefgh'[index]}"),
                                   "bytes": int(disk.get("bytes", 8 * GIB))})
            else:
                self.disks.append({"deviceName": f"/dev/xvd{'abcdefgh'[index]}", "bytes": int(disk) * GIB})
        self.staging_account_id = spec.get("staging_account_id") or account_id
        self.direction = spec.get("replication_direction", "FAILOVER")
        self.reversed_arn: str | None = None
        self.added = created
        self.agent_version = "6.42.12.2025.353.1309"
        self.mac = spec.get("mac_address") or "0a:%02x:%02x:%02x:%02x:%02x" % tuple(secrets.token_bytes(5))
        # Replication timeline: list of (timestamp, state, lag seconds, error or None).
        self.timeline: list[tuple[float, str, float | None, str | None]] = []
        self.snapshots: list[dict] = []
        self.launch_config: dict = {}
        self.replication_config: dict = {}
        self.last_launch: dict | None = None
        self.last_launch_result = "NOT_STARTED"
        self.recovery_instance_id: str | None = None
        # Every recovery instance ever launched for this server (a new launch cleans them all up).
        self.launched_instances: list[tuple[str, str, str, bool]] = []

    def set_state(self, at: float, state: str, lag: float | None = 0, error: str | None = None) -> None:
        self.timeline = [entry for entry in self.timeline if entry[0] <= at]
        self.timeline.append((at, state, lag, error))

    def replication(self, at: float) -> tuple[str, float | None, str | None, float]:
        current = self.timeline[0]
        for entry in self.timeline:
            if entry[0] <= at:
                current = entry
        return current[1], current[2], current[3], current[0]

    def state(self, at: float) -> str:
        return self.replication(at)[0]

    def to_api(self, at: float) -> dict:
        state, lag, error, since = self.replication(at)
        disconnected = state == "DISCONNECTED"
        disks = []
        for disk in self.disks:
            total = 0 if disconnected else disk["bytes"]
            replicated = total if state not in ("INITIATING", "INITIAL_SYNC") else total // 2
            rescanned = total if state != "RESCAN" else total // 2
            disks.append({"deviceName": disk["deviceName"], "totalStorageBytes": total,
                          "replicatedStorageBytes": replicated, "rescannedStorageBytes": rescanned,
                          "backloggedStorageBytes": 0, "volumeStatus": "REGULAR"})
        step_names = ["WAIT", "CREATE_SECURITY_GROUP", "LAUNCH_REPLICATION_SERVER", "BOOT_REPLICATION_SERVER",
                      "AUTHENTICATE_WITH_SERVICE", "DOWNLOAD_REPLICATION_SOFTWARE", "CREATE_STAGING_DISKS",
                      "ATTACH_STAGING_DISKS", "PAIR_REPLICATION_SERVER_WITH_AGENT",
                      "CONNECT_AGENT_TO_REPLICATION_SERVER", "START_DATA_TRANSFER"]
        step_status = "IN_PROGRESS" if state == "INITIATING" else "SUCCEEDED"
        info: dict = {
            "dataReplicationState": state,
            "replicatedDisks": disks,
            "dataReplicationInitiation": {
                "startDateTime": iso(self.timeline[0][0]),
                "steps": [{"name": name, "status": "SUCCEEDED" if index < 5 else step_status}
                          for index, name in enumerate(step_names)],
            },
            "stagingAvailabilityZone": f"{self.region}a",
        }
        if not disconnected and lag is not None:
            info["lagDuration"] = iso_duration(lag)
        if state in ("INITIATING", "INITIAL_SYNC"):
            info["etaDateTime"] = iso(at + 60)
        if error:
            info["dataReplicationError"] = {"error": error, "rawError": f"Replication error: {error}"}
        item: dict = {
            "sourceServerID": self.id,
            "arn": self.arn,
            "tags": dict(self.tags),
            "lastLaunchResult": self.last_launch_result,
            "dataReplicationInfo": info,
            "lifeCycle": {
                "addedToServiceDateTime": iso(self.added),
                "firstByteDateTime": iso(self.added + 1),
                "elapsedReplicationDuration": iso_duration(at - self.added),
                "lastSeenByServiceDateTime": iso(at if not disconnected else since),
                "lastLaunch": self.last_launch or {"initiated": {}},
            },
            "sourceProperties": {
                "lastUpdatedDateTime": iso(self.added),
                "recommendedInstanceType": self.instance_type,
                "identificationHints": {"hostname": self.hostname, "fqdn": self.hostname},
                "networkInterfaces": [{"macAddress": self.mac, "ips": [self.private_ip] if self.private_ip else [],
                                       "isPrimary": True}],
                "disks": [dict(d) for d in self.disks],
                "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
                "ramBytes": 8 * GIB,
                "os": {"fullString": "Microsoft Windows Server 2019 Datacenter" if self.os == "windows"
                       else "Amazon Linux release 2 (Karoo)"},
                "supportsNitroInstances": True,
            },
            "stagingArea": {"status": "NOT_EXTENDED"},
            "replicationDirection": self.direction,
            "agentVersion": self.agent_version,
        }
        if self.architecture:
            item["sourceProperties"]["architecture"] = self.architecture
        if self.aws_instance_id:
            item["sourceProperties"]["identificationHints"]["awsInstanceID"] = self.aws_instance_id
        if self.origin_region:
            item["sourceCloudProperties"] = {"originAccountID": self.origin_account_id,
                                             "originRegion": self.origin_region,
                                             "originAvailabilityZone": self.origin_az}
        if self.staging_account_id != self.account_id:
            item["stagingArea"] = {
                "status": "EXTENDED", "stagingAccountID": self.staging_account_id,
                "stagingSourceServerArn": f"arn:aws:drs:{self.region}:{self.staging_account_id}:"
                                          f"source-server/{self.id}",
            }
        if self.recovery_instance_id:
            item["recoveryInstanceId"] = self.recovery_instance_id
        if self.reversed_arn:
            item["reversedDirectionSourceServerArn"] = self.reversed_arn
        return item


class RecoveryInstance:
    def __init__(self, region_state, server: SourceServer, job, facts: dict, at: float, launch_into: bool):
        self.id = facts["instance_id"]
        self.account_id = region_state.account_id
        self.region = region_state.region
        self.arn = f"arn:aws:drs:{self.region}:{self.account_id}:recovery-instance/{self.id}"
        self.source_server_id = server.id
        self.source_server = server
        self.job_id = job.id
        self.is_drill = job.is_drill
        self.launched = at
        self.point_in_time = job.snapshot_times.get(server.id, at)
        self.origin_environment = "AWS" if (server.aws_instance_id or server.origin_region) else "ON_PREMISES"
        self.origin_az = server.origin_az or facts["az"]
        self.az = facts["az"]
        self.disks = facts["disks"]
        self.launch_into = launch_into
        self.tags = dict(server.tags) if server.launch_config.get("copyTags") else {}
        self.disconnected_at: float | None = None
        # The source server replicating from this instance (ReverseReplication), if any.
        self.reverse_server: SourceServer | None = None
        self.reverse_started: float | None = None

    def agent_ready_at(self, settings: dict) -> float:
        return self.launched + settings["agent_not_ready_seconds"] * settings["time_scale"]

    def to_api(self, at: float, ec2_state: str, settings: dict) -> dict:
        data_info: dict = {"dataReplicationState": "NOT_STARTED"}
        failback: dict = {"state": "FAILBACK_NOT_READY_FOR_LAUNCH"}
        if at >= self.agent_ready_at(settings):
            failback["agentLastSeenByServiceDateTime"] = iso(at)
        if self.reverse_server is not None:
            state, lag, _error, _since = self.reverse_server.replication(at)
            data_info = {
                "dataReplicationState": state,
                "replicatedDisks": [{"deviceName": d["internalDeviceName"], "totalStorageBytes": d["bytes"],
                                     "replicatedStorageBytes": d["bytes"], "rescannedStorageBytes": d["bytes"],
                                     "backloggedStorageBytes": 0} for d in self.disks],
                "stagingAvailabilityZone": f"{self.reverse_server.region}a",
            }
            if lag is not None:
                data_info["lagDuration"] = iso_duration(lag)
            if state == "CONTINUOUS":
                failback["state"] = "FAILBACK_READY_FOR_LAUNCH"
            elif state in ("STOPPED", "DISCONNECTED"):
                failback["state"] = "FAILBACK_NOT_STARTED"
            else:
                failback["state"] = "FAILBACK_IN_PROGRESS"
            failback["failbackInitiationTime"] = iso(self.reverse_started)
            failback["failbackToOriginalServer"] = True
            failback["failbackLaunchType"] = "DRILL" if self.is_drill else "RECOVERY"
        if self.disconnected_at is not None:
            data_info = {"dataReplicationState": "DISCONNECTED",
                         "replicatedDisks": [{"deviceName": d["internalDeviceName"], "totalStorageBytes": 0}
                                             for d in self.disks]}
        server = self.source_server
        return {
            "ec2InstanceID": self.id,
            "ec2InstanceState": ec2_state,
            "jobID": self.job_id,
            "recoveryInstanceID": self.id,
            "sourceServerID": self.source_server_id,
            "arn": self.arn,
            "tags": dict(self.tags),
            "failback": failback,
            "dataReplicationInfo": data_info,
            "recoveryInstanceProperties": {
                "lastUpdatedDateTime": iso(self.launched),
                "identificationHints": {"hostname": server.hostname, "fqdn": server.hostname,
                                        "awsInstanceID": self.id},
                "disks": [dict(d) for d in self.disks],
                "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
                "ramBytes": 8 * GIB,
                "os": {"fullString": "Microsoft Windows Server 2019 Datacenter" if server.os == "windows"
                       else "Amazon Linux release 2 (Karoo)"},
            },
            "pointInTimeSnapshotDateTime": iso(self.point_in_time),
            "isDrill": self.is_drill,
            "originEnvironment": self.origin_environment,
            "originAvailabilityZone": self.origin_az,
            "agentVersion": server.agent_version,
        }


class Job:
    def __init__(self, region_state, job_type: str, initiated_by: str, is_drill: bool, tags: dict, at: float):
        self.id = new_id("drsjob-")
        self.region_state = region_state
        self.arn = f"arn:aws:drs:{region_state.region}:{region_state.account_id}:job/{self.id}"
        self.type = job_type
        self.initiated_by = initiated_by
        self.is_drill = is_drill
        self.tags = dict(tags or {})
        self.created = at
        self.ended: float | None = None
        self.status = "PENDING"
        self.participants: list[dict] = []
        self.log: list[dict] = []
        # Pending steps: (timestamp, sequence, callable(timestamp)).
        self.steps: list[tuple[float, int, object]] = []
        self.snapshot_times: dict[str, float] = {}

    def add_step(self, at: float, func) -> None:
        self.steps.append((at, len(self.steps), func))

    def event(self, at: float, name: str, **data) -> None:
        self.log.append({"logDateTime": iso(at), "event": name, "eventData": data})

    def participant(self, key: str) -> dict:
        for item in self.participants:
            if item.get("sourceServerID") == key or item.get("recoveryInstanceID") == key:
                return item
        raise KeyError(key)

    @property
    def active(self) -> bool:
        return self.status != "COMPLETED"

    def to_api(self) -> dict:
        item = {
            "jobID": self.id,
            "arn": self.arn,
            "type": self.type,
            "initiatedBy": self.initiated_by,
            "creationDateTime": iso(self.created),
            "status": self.status,
            "participatingServers": [dict(p) for p in self.participants],
            "tags": dict(self.tags),
            "participatingResources": [],
        }
        if self.ended is not None:
            item["endDateTime"] = iso(self.ended)
        return item


class RegionState:
    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self.initialized = False
        self.servers: dict[str, SourceServer] = {}
        self.jobs: dict[str, Job] = {}
        self.recovery_instances: dict[str, RecoveryInstance] = {}
        self.launch_templates: dict[str, dict] = {}
        self.replication_templates: dict[str, dict] = {}
        self.tokens: float | None = None
        self.tokens_at = 0.0
