"""EFS replication (moto 5.2.5 routes none of it: 404/500) and file system protection.

Reproduces reference/failover_apis.md section 11 and Appendix B item 10:

- ``CreateReplicationConfiguration`` (exactly one destination; a new destination file system is created in the
  destination region, or an existing one is used when its ``ReplicationOverwriteProtection`` is ``DISABLED``);
  the destination is ``ENABLING`` during the initial sync, then ``ENABLED`` with ``LastReplicatedTimestamp``
  advancing on every sync; the destination file system's protection is ``REPLICATING`` (read-only) meanwhile, and it
  can be in no other replication configuration;
- ``DeleteReplicationConfiguration`` from either side (``DeletionMode`` ``ALL_CONFIGURATIONS`` or
  ``LOCAL_CONFIGURATION_ONLY``): ``DELETING`` for a while, then gone, and the destination writable again with its
  protection back to ``ENABLED``;
- ``UpdateFileSystemProtection`` (``ENABLED``/``DISABLED``; refused on a file system that is a replication
  destination) and ``FileSystemProtection`` in moto's ``DescribeFileSystems``.

The protection lives on moto's file system objects (so moto's describe shows it); the replication configurations
live in this module, keyed by source account, region and file system, cleared by reset.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from sandbox.emulators import _clock
from sandbox.emulators import register
from sandbox.locking import STATE_LOCK

INITIAL_SYNC_SECONDS = 3.0
SYNC_INTERVAL_SECONDS = 2.0
DELETE_SECONDS = 1.5
PATH_CONFIG = re.compile(r"^/2015-02-01/file-systems/(?P<id>[^/]+)/replication-configuration/?$")
PATH_PROTECTION = re.compile(r"^/2015-02-01/file-systems/(?P<id>[^/]+)/protection/?$")

# One lock with moto's (reentrant): the admin reset holds STATE_LOCK when it calls reset().
_LOCK = STATE_LOCK
_CONFIGS: dict[tuple[str, str, str], dict] = {}


class EfsError(Exception):
    def __init__(self, code, message, status):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def reset():
    with _LOCK:
        _CONFIGS.clear()


def _backend(account, region):
    from moto.efs.models import efs_backends

    return efs_backends[account][region]


def _file_system(account, region, fs_id):
    fs = _backend(account, region).file_systems_by_id.get(fs_id)
    if fs is None:
        raise EfsError("FileSystemNotFound", f"File system '{fs_id}' does not exist.", 404)
    return fs


def protection_of(fs):
    return getattr(fs, "_sandbox_protection", "ENABLED")


def _set_protection(fs, value):
    fs._sandbox_protection = value  # pylint: disable=protected-access


# ------------------------------------------------------------------------------------------- state machine
def _advance(key, config):
    """Apply the transitions that are due; returns the config, or None once a deletion is over."""
    destination = config["Destinations"][0]
    if destination["Status"] == "ENABLING" and _clock.over(config["_sync"]):
        destination["Status"] = "ENABLED"
        config["_enabled_at"] = _clock.now()
    if destination["Status"] == "DELETING" and _clock.over(config["_delete"]):
        _CONFIGS.pop(key, None)
        with STATE_LOCK:
            for account, region, fs_id in config["_members"]:
                fs = _backend(account, region).file_systems_by_id.get(fs_id)
                if fs is not None and protection_of(fs) == "REPLICATING":
                    _set_protection(fs, "ENABLED")  # writable again, protection re-enabled
        return None
    if destination["Status"] == "ENABLED":
        interval = SYNC_INTERVAL_SECONDS * _clock.time_scale()
        elapsed = max(0.0, _clock.now() - config["_enabled_at"])
        synced = config["_enabled_at"] + (int(elapsed / interval) * interval if interval > 0 else elapsed)
        destination["LastReplicatedTimestamp"] = synced
    return config


def _live():
    for key in list(_CONFIGS):
        _advance(key, _CONFIGS[key])
    return _CONFIGS


def _public(config):
    return {key: value for key, value in config.items() if not key.startswith("_")}


def _involving(account, fs_id):
    """Configurations in which the file system is the source or the destination."""
    found = []
    for key, config in _live().items():
        if key[0] == account and (key[2] == fs_id or config["Destinations"][0]["FileSystemId"] == fs_id):
            found.append((key, config))
    return found


# ------------------------------------------------------------------------------------------- operations
def create_replication(call, fs_id, params):
    account, region = call.account, call.region
    destinations = params.get("Destinations") or []
    if len(destinations) != 1:
        raise EfsError("ValidationException", "Exactly one destination is required.", 400)
    spec = destinations[0]
    dest_region = spec.get("Region") or region
    with STATE_LOCK:
        source = _file_system(account, region, fs_id)
        if source.life_cycle_state != "available":
            raise EfsError("IncorrectFileSystemLifeCycleState", f"File system '{fs_id}' is not available.", 409)
    if _involving(account, fs_id):
        raise EfsError("ConflictException", f"File system '{fs_id}' is already in a replication configuration.",
                       409)
    with STATE_LOCK:
        if spec.get("FileSystemId"):
            dest = _file_system(account, dest_region, spec["FileSystemId"])
            if dest.file_system_id == fs_id and dest_region == region:
                raise EfsError("ValidationException", "The source and destination must differ.", 400)
            if protection_of(dest) != "DISABLED":
                raise EfsError("ConflictException",
                               f"Destination file system '{dest.file_system_id}' has ReplicationOverwriteProtection "
                               f"{protection_of(dest)}; set it to DISABLED (UpdateFileSystemProtection) to use it "
                               "as a destination.", 409)
        else:
            backend = _backend(account, dest_region)
            dest = backend.create_file_system(
                creation_token=f"replica-{fs_id}-{_clock.now():.0f}", performance_mode=source.performance_mode,
                encrypted=source.encrypted, kms_key_id=spec.get("KmsKeyId"), throughput_mode=source.throughput_mode,
                provisioned_throughput_in_mibps=source.provisioned_throughput_in_mibps,
                availability_zone_name=spec.get("AvailabilityZoneName"), backup=False, tags=[])
        if _involving(account, dest.file_system_id):
            raise EfsError("ConflictException", f"File system '{dest.file_system_id}' is already in a replication "
                                                "configuration.", 409)
        _set_protection(dest, "REPLICATING")  # read-only while it is a destination
        dest_id = dest.file_system_id
        source_arn = source.file_system_arn
    original = source_arn
    now = _clock.now()
    config = {
        "SourceFileSystemId": fs_id, "SourceFileSystemRegion": region, "SourceFileSystemArn": source_arn,
        "OriginalSourceFileSystemArn": original, "CreationTime": now, "SourceFileSystemOwnerId": account,
        "Destinations": [{"Status": "ENABLING", "FileSystemId": dest_id, "Region": dest_region, "OwnerId": account}],
        "_sync": _clock.start(INITIAL_SYNC_SECONDS),
        "_members": [(account, region, fs_id), (account, dest_region, dest_id)],
    }
    if spec.get("RoleArn"):
        config["Destinations"][0]["RoleArn"] = spec["RoleArn"]
    _CONFIGS[(account, region, fs_id)] = config
    return 200, _public(config)


def delete_replication(call, fs_id, query):
    mode = (query.get("deletionMode") or ["ALL_CONFIGURATIONS"])[0]
    if mode not in ("ALL_CONFIGURATIONS", "LOCAL_CONFIGURATION_ONLY"):
        raise EfsError("BadRequest", f"DeletionMode {mode} is not valid.", 400)
    with STATE_LOCK:
        _file_system(call.account, call.region, fs_id)
    found = [(key, config) for key, config in _involving(call.account, fs_id)
             if (key[1] == call.region and key[2] == fs_id)
             or (config["Destinations"][0]["Region"] == call.region
                 and config["Destinations"][0]["FileSystemId"] == fs_id)]
    if not found:
        raise EfsError("ReplicationNotFound", f"No replication configuration found for '{fs_id}'.", 404)
    key, config = found[0]
    if mode == "LOCAL_CONFIGURATION_ONLY" and key[1] == config["Destinations"][0]["Region"]:
        raise EfsError("BadRequest", "LOCAL_CONFIGURATION_ONLY is not valid for a same-Region replication.", 400)
    if config["Destinations"][0]["Status"] != "DELETING":
        config["Destinations"][0]["Status"] = "DELETING"
        config["_delete"] = _clock.start(DELETE_SECONDS)
    return 204, b""


def describe_replications(call, query):
    fs_id = (query.get("FileSystemId") or [None])[0]
    if fs_id:
        with STATE_LOCK:
            _file_system(call.account, call.region, fs_id)
        found = [config for key, config in _involving(call.account, fs_id)
                 if key[1] == call.region or config["Destinations"][0]["Region"] == call.region]
        if not found:
            raise EfsError("ReplicationNotFound", f"No replication configuration found for '{fs_id}'.", 404)
    else:
        found = [config for key, config in _live().items() if key[0] == call.account and key[1] == call.region]
    return 200, {"Replications": [_public(c) for c in found]}


def update_protection(call, fs_id, params):
    value = params.get("ReplicationOverwriteProtection")
    if value not in ("ENABLED", "DISABLED"):
        raise EfsError("BadRequest", "ReplicationOverwriteProtection must be ENABLED or DISABLED.", 400)
    _live()
    with STATE_LOCK:
        fs = _file_system(call.account, call.region, fs_id)
        if protection_of(fs) == "REPLICATING":
            raise EfsError("ReplicationAlreadyExists", f"File system '{fs_id}' is a replication destination; delete "
                                                       "the replication configuration first.", 409)
        _set_protection(fs, value)
    return 200, {"ReplicationOverwriteProtection": value}


def _handle(call):
    query = parse_qs(call.query_string or "", keep_blank_values=True)
    try:
        params = json.loads(call.body) if call.body else {}
    except ValueError:
        params = {}
    try:
        with _LOCK:
            if call.operation == "DescribeReplicationConfigurations":
                status, body = describe_replications(call, query)
            elif call.operation == "UpdateFileSystemProtection":
                status, body = update_protection(call, PATH_PROTECTION.match(call.path).group("id"), params)
            elif call.operation == "CreateReplicationConfiguration":
                status, body = create_replication(call, PATH_CONFIG.match(call.path).group("id"), params)
            elif call.operation == "DeleteReplicationConfiguration":
                status, body = delete_replication(call, PATH_CONFIG.match(call.path).group("id"), query)
            else:  # DescribeFileSystems: advance replications first so the protection moto shows is current
                _live()
                return None
    except EfsError as exc:
        return exc.status, {"x-amzn-ErrorType": exc.code}, {"ErrorCode": exc.code, "Message": exc.message}
    return status, {}, body


def _protection_in_describe():
    """moto's DescribeFileSystems omits FileSystemProtection: add it from the file system's protection."""
    from moto.efs.models import FileSystem

    if getattr(FileSystem.info_json, "_sandbox_protection", False):
        return
    moto_info = FileSystem.info_json

    def info_json(self):
        info = moto_info(self)
        info["FileSystemProtection"] = {"ReplicationOverwriteProtection": protection_of(self)}
        return info

    info_json._sandbox_protection = True
    FileSystem.info_json = info_json


_protection_in_describe()
register("efs", "efs", _handle, reset=reset,
         operations=("CreateReplicationConfiguration", "DeleteReplicationConfiguration",
                     "DescribeReplicationConfigurations", "UpdateFileSystemProtection", "DescribeFileSystems"))
