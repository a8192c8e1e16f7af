"""FSx backup copies and restores (moto 5.2.5: ``CopyBackup``/``CreateFileSystemFromBackup`` answer HTTP 500), and
the lifecycle moto leaves out.

Reproduces reference/failover_apis.md section 12 and Appendix B item 11:

- file systems have ``Lifecycle`` (``CREATING -> AVAILABLE``);
- backups go ``CREATING -> AVAILABLE`` (moto leaves them ``CREATING`` forever) and have the model's shape (``Type``,
  ``OwnerId``, ``ProgressPercent``, the nested ``FileSystem``, no ``FileSystemId``/``ClientRequestToken`` keys);
- ``CopyBackup`` is called in the destination region: the source (``SourceRegion``) must exist and be ``AVAILABLE``,
  at most 5 copies are in flight per destination region; the copy is ``COPYING -> AVAILABLE`` with
  ``SourceBackupId``/``SourceBackupRegion``;
- ``CreateFileSystemFromBackup`` restores Windows, Lustre and OpenZFS backups (ONTAP backups are per volume) into a
  new file system of the backup's type and configuration, ``CREATING -> AVAILABLE``; idempotent by
  ``ClientRequestToken``.

State lives in moto's FSx backends (private attributes on its objects), so moto's describe calls show it.
"""

from __future__ import annotations

import json

from sandbox.emulators import _clock
from sandbox.emulators import register
from sandbox.locking import STATE_LOCK

BACKUP_SECONDS = 2.0
COPY_SECONDS = 3.0
CREATE_FILE_SYSTEM_SECONDS = 3.0
MAX_COPIES_IN_FLIGHT = 5
RESTORABLE = ("WINDOWS", "LUSTRE", "OPENZFS")


class FsxError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _backend(account, region):
    from moto.fsx.models import fsx_backends

    return fsx_backends[account][region]


def _fs_lifecycle(fs):
    # A transition once seen over stays over: raising the time scale later never takes a file system back.
    if getattr(fs, "_sandbox_available", False):
        return "AVAILABLE"
    if not hasattr(fs, "_sandbox_lifecycle"):
        fs._sandbox_lifecycle = _clock.start(CREATE_FILE_SYSTEM_SECONDS)  # pylint: disable=protected-access
    if _clock.over(fs._sandbox_lifecycle):  # pylint: disable=protected-access
        fs._sandbox_available = True  # pylint: disable=protected-access
        return "AVAILABLE"
    return "CREATING"


def _fs_descriptor(fs):
    keys = ("FileSystemId", "FileSystemType", "StorageCapacity", "StorageType", "ResourceARN", "KmsKeyId",
            "WindowsConfiguration", "LustreConfiguration", "OpenZFSConfiguration", "OntapConfiguration")
    info = fs.to_dict()
    return {key: info[key] for key in keys if key in info}


def _backup_lifecycle(backup):
    if getattr(backup, "_sandbox_available", False):
        return "AVAILABLE"
    transition = getattr(backup, "_sandbox_transition", None)
    if transition is None:
        transition = {"started": backup.creation_time, "seconds": BACKUP_SECONDS}
    if _clock.over(transition):
        backup._sandbox_available = True  # pylint: disable=protected-access
        return "AVAILABLE"
    return "COPYING" if getattr(backup, "_sandbox_source", None) else "CREATING"


def _patch_moto():
    from moto.fsx.models import Backup
    from moto.fsx.models import FileSystem

    if getattr(FileSystem.to_dict, "_sandbox", False):
        return
    fs_to_dict = FileSystem.to_dict
    moto_backup_to_dict = Backup.to_dict

    def file_system_to_dict(self):
        info = fs_to_dict(self)
        info["Lifecycle"] = _fs_lifecycle(self)
        info.setdefault("OwnerId", self.resource_arn.split(":")[4])
        info.setdefault("CreationTime", getattr(self, "_sandbox_created", None) or _clock.now())
        return info

    def backup_to_dict(self):
        info = moto_backup_to_dict(self)
        lifecycle = _backup_lifecycle(self)
        info["Lifecycle"] = lifecycle
        info["ProgressPercent"] = 100 if lifecycle == "AVAILABLE" else 50
        info["Type"] = getattr(self, "_sandbox_type", "USER_INITIATED")
        info["OwnerId"] = self.resource_arn.split(":")[4]
        source = getattr(self, "_sandbox_source", None)
        if source:
            info["SourceBackupId"], info["SourceBackupRegion"] = source
        descriptor = getattr(self, "_sandbox_file_system", None)
        if descriptor is None:
            fs = self.backend.file_systems.get(self.file_system_id)
            descriptor = _fs_descriptor(fs) if fs else {"FileSystemId": self.file_system_id}
            self._sandbox_file_system = descriptor  # the backup keeps its file system's description
        info["FileSystem"] = descriptor
        for key in ("FileSystemId", "ClientRequestToken"):  # not in the model (botocore drops them)
            info.pop(key, None)
        return info

    file_system_to_dict._sandbox = True
    FileSystem.to_dict = file_system_to_dict
    Backup.to_dict = backup_to_dict


def copy_backup(params, account, region):
    source_region = params.get("SourceRegion") or region
    source_id = params.get("SourceBackupId")
    with STATE_LOCK:
        source_backend = _backend(account, source_region)
        source = source_backend.backups.get(source_id)
        if source is None:
            raise FsxError("BackupNotFound", f"Backup {source_id} does not exist in {source_region}.")
        if _backup_lifecycle(source) != "AVAILABLE":
            raise FsxError("SourceBackupUnavailable",
                           f"The source backup {source_id} is {_backup_lifecycle(source)}, not AVAILABLE.")
        destination = _backend(account, region)
        token = params.get("ClientRequestToken")
        if token:
            for backup in destination.backups.values():
                if backup.client_request_token == token and getattr(backup, "_sandbox_source", None):
                    return {"Backup": backup.to_dict()}
        in_flight = [b for b in destination.backups.values() if _backup_lifecycle(b) == "COPYING"]
        if len(in_flight) >= MAX_COPIES_IN_FLIGHT:
            raise FsxError("ServiceLimitExceeded",
                           f"At most {MAX_COPIES_IN_FLIGHT} backup copies can be in progress per Region.")
        tags = list(params.get("Tags") or [])
        if params.get("CopyTags") and not tags:
            tags = source_backend.list_tags_for_resource(source.resource_arn)
        descriptor = dict(source.to_dict()["FileSystem"])
        from moto.fsx.models import Backup

        copy = Backup(account_id=account, region_name=region, file_system_id=descriptor.get("FileSystemId"),
                      client_request_token=token, volume_id=None, tags=tags, backend=destination)
        copy._sandbox_source = (source_id, source_region)
        copy._sandbox_file_system = descriptor
        copy._sandbox_transition = _clock.start(COPY_SECONDS)
        copy._sandbox_source_time = source.creation_time
        destination.backups[copy.backup_id] = copy
        return {"Backup": copy.to_dict()}


def create_file_system_from_backup(params, account, region):
    backup_id = params.get("BackupId")
    with STATE_LOCK:
        backend = _backend(account, region)
        backup = backend.backups.get(backup_id)
        if backup is None:
            raise FsxError("BackupNotFound", f"Backup {backup_id} does not exist.")
        if _backup_lifecycle(backup) != "AVAILABLE":
            raise FsxError("BackupInProgress", f"Backup {backup_id} is {_backup_lifecycle(backup)}, not AVAILABLE.")
        descriptor = backup.to_dict()["FileSystem"]
        fs_type = descriptor.get("FileSystemType")
        if fs_type not in RESTORABLE:
            raise FsxError("BadRequest", f"{fs_type} backups are per volume: restore them with "
                                         "CreateVolumeFromBackup.")
        if not params.get("SubnetIds"):
            raise FsxError("BadRequest", "SubnetIds is required.")
        token = params.get("ClientRequestToken")
        if token:
            for fs in backend.file_systems.values():
                if getattr(fs, "_sandbox_token", None) == token:
                    return {"FileSystem": fs.to_dict()}
        fs = backend.create_file_system(
            client_request_token=token, file_system_type=fs_type,
            storage_capacity=params.get("StorageCapacity") or descriptor.get("StorageCapacity"),
            storage_type=params.get("StorageType") or descriptor.get("StorageType"),
            subnet_ids=params["SubnetIds"], security_group_ids=params.get("SecurityGroupIds") or [],
            tags=params.get("Tags"), kms_key_id=params.get("KmsKeyId") or descriptor.get("KmsKeyId"),
            windows_configuration=params.get("WindowsConfiguration") or descriptor.get("WindowsConfiguration"),
            lustre_configuration=params.get("LustreConfiguration") or descriptor.get("LustreConfiguration"),
            ontap_configuration=None, file_system_type_version=None,
            open_zfs_configuration=params.get("OpenZFSConfiguration") or descriptor.get("OpenZFSConfiguration"))
        fs._sandbox_token = token
        fs._sandbox_lifecycle = _clock.start(CREATE_FILE_SYSTEM_SECONDS)
        fs._sandbox_created = _clock.now()
        return {"FileSystem": fs.to_dict()}


OPERATIONS = {"CopyBackup": copy_backup, "CreateFileSystemFromBackup": create_file_system_from_backup}


def _handle(call):
    try:
        params = json.loads(call.body or b"{}")
    except ValueError:
        params = {}
    try:
        result = OPERATIONS[call.operation](params, call.account, call.region)
    except FsxError as exc:
        return exc.status, {"Content-Type": "application/x-amz-json-1.1"}, {"__type": exc.code, "Message": exc.message}
    return 200, {"Content-Type": "application/x-amz-json-1.1"}, result


_patch_moto()
register("fsx", "fsx", _handle, operations=OPERATIONS)
