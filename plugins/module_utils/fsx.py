# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FSx failover: restore the latest backup copied to the DR region (reference/failover_apis.md section 12).

A protected file system (the host) lives in the primary region; its backups are copied to the DR region
(``CopyBackup``, called in the destination region). A failover restores the newest ``AVAILABLE`` copy into a new
file system there (``CreateFileSystemFromBackup``: Windows, Lustre and OpenZFS; ONTAP backups are per volume) and
waits until it is ``AVAILABLE``. REPLICATE backs the restored file system up and copies that backup to the original
region, so the way back exists. A drill restores into a temporary file system, checks it, and deletes it.

Restored file systems are tagged with the scope, ``dr:restored-from`` (the protected file system),
``dr:restored-backup``, ``dr:purpose`` (failover or drill) and the execution ID: a re-run finds what it restored
(and restores are idempotent by ``ClientRequestToken``), so nothing is restored twice.
"""

import datetime
import hashlib

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error

TAG_RESTORED_FROM = "dr:restored-from"
TAG_RESTORED_BACKUP = "dr:restored-backup"
TAG_PURPOSE = "dr:purpose"
TAG_EXECUTION = "enterprise-dr:execution-id"
TAG_SUBNETS = "dr:dr-subnet-ids"
TAG_SECURITY_GROUPS = "dr:dr-security-group-ids"
SCOPE_TAGS = ("Customer", "Environment")
RESTORABLE = ("WINDOWS", "LUSTRE", "OPENZFS")


def tags_dict(item):
    return {t["Key"]: t["Value"] for t in item.get("Tags") or []}


def _ts(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc)
    return datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc)


def iso(value):
    value = _ts(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def token(*parts):
    """A ClientRequestToken (at most 63 characters) that is the same on every re-run of one execution."""
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:63]


error_text = describe_error  # the client layer's one wording (AccessDenied names the policy)


def file_system_id(host):
    return (host.get("dr_fsx") or {}).get("file_system_id") or host.get("dr_resource_id")


def describe_file_system(client, fs_id):
    try:
        found = client.describe_file_systems(FileSystemIds=[fs_id]).get("FileSystems", [])
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") == "FileSystemNotFound":
            return None
        raise
    return found[0] if found else None


def backups_of(client, fs_id):
    """Backups of the file system held in the client's region (copies carry the source file system's ID)."""
    pages = client.get_paginator("describe_backups").paginate(
        Filters=[{"Name": "file-system-id", "Values": [fs_id]}])
    found = []
    for page in pages:
        found.extend(page.get("Backups", []))
    return [b for b in found if (b.get("FileSystem") or {}).get("FileSystemId", fs_id) == fs_id]


def latest_available(backups):
    available = [b for b in backups if b.get("Lifecycle") == "AVAILABLE"]
    return max(available, key=lambda b: _ts(b.get("CreationTime"))) if available else None


def restored(client, fs_id, execution_id, purpose):
    """File systems this execution restored from ``fs_id`` for ``purpose`` (not deleted)."""
    found = []
    for page in client.get_paginator("describe_file_systems").paginate():
        for fs in page.get("FileSystems", []):
            tags = tags_dict(fs)
            if tags.get(TAG_RESTORED_FROM) == fs_id and tags.get(TAG_EXECUTION) == execution_id and \
                    tags.get(TAG_PURPOSE) == purpose and fs.get("Lifecycle") not in ("DELETING", "FAILED"):
                found.append(fs)
    return found


def subnets_for(ec2, tags):
    """The DR subnets to restore into: the file system's dr:dr-subnet-ids tag, else the DR region's default VPC."""
    if tags.get(TAG_SUBNETS):
        return [s.strip() for s in tags[TAG_SUBNETS].split(",") if s.strip()]
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}]).get("Subnets", [])
    return [s["SubnetId"] for s in subnets][:1]


def read(factory, host, execution_id, purpose):
    """The protected file system (when its region answers), its newest DR copy, and what this execution restored."""
    account = host.get("dr_account_id")
    fs_id = file_system_id(host)
    primary = host.get("dr_resource_region") or host.get("dr_primary_region")
    dr_region = host.get("dr_dr_region")
    state = {"file_system_id": fs_id, "primary_region": primary, "dr_region": dr_region, "errors": {}}
    try:
        source = describe_file_system(factory.client("fsx", account_id=account, region=primary), fs_id)
        state["source"] = source
        state["source_answered"] = True
        state["source_tags"] = tags_dict(source) if source else {}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        state["source"], state["source_answered"] = None, False
        state["source_tags"] = dict(host.get("dr_tags") or {})
        state["errors"][primary] = error_text(e)
    dr = factory.client("fsx", account_id=account, region=dr_region)
    copies = backups_of(dr, fs_id)
    state["copies"] = copies
    state["latest"] = latest_available(copies)
    state["restored"] = restored(dr, fs_id, execution_id, purpose)
    return state


def source_backup_time(factory, host, backup):
    """The time of the data a DR copy holds: its source backup's creation time (when that region answers), else the
    copy's own creation time (later than the data: the RPO is then an upper bound)."""
    if not backup:
        return None, None
    source_id, source_region = backup.get("SourceBackupId"), backup.get("SourceBackupRegion")
    if source_id and source_region:
        try:
            found = factory.client("fsx", account_id=host.get("dr_account_id"), region=source_region).describe_backups(
                BackupIds=[source_id]).get("Backups", [])
            if found:
                return iso(found[0].get("CreationTime")), "source backup"
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            pass
    return iso(backup.get("CreationTime")), "copy (source region did not answer)"


def scope_members(host, state):
    members = []
    name = host.get("inventory_hostname")
    if state.get("source"):
        members.append((f"{state['source'].get('ResourceARN')} ({name})", state["source_tags"]))
    if state.get("latest"):
        members.append((f"{state['latest'].get('ResourceARN')} (DR backup copy of {name})",
                        tags_dict(state["latest"])))
    return members


def plan_restore(state):
    """``(actions, problem)``: ``restore`` and/or ``wait_available``."""
    if state["restored"]:
        fs = state["restored"][0]
        return ([] if fs.get("Lifecycle") == "AVAILABLE" else ["wait_available"]), None
    latest = state.get("latest")
    if latest is None:
        pending = [c for c in state["copies"] if c.get("Lifecycle") in ("COPYING", "CREATING", "PENDING",
                                                                        "TRANSFERRING")]
        if pending:
            return [], (f"the backup copy {pending[0]['BackupId']} in {state['dr_region']} is "
                        f"{pending[0]['Lifecycle']}", "wait until the copy is AVAILABLE, then re-run")
        return [], (f"no backup of {state['file_system_id']} is copied to {state['dr_region']}",
                    f"copy a backup to {state['dr_region']} (aws fsx copy-backup --source-region "
                    f"{state['primary_region']} in {state['dr_region']}), or schedule copies with AWS Backup")
    fs_type = (latest.get("FileSystem") or {}).get("FileSystemType")
    if fs_type not in RESTORABLE:
        return [], (f"{fs_type} backups cannot be restored into a file system (ONTAP backups are per volume)",
                    "fail ONTAP over with SnapMirror, or leave the file system out with dr_technologies")
    return ["restore", "wait_available"], None


def restore(factory, host, state, execution_id, purpose, customer_tags):
    """CreateFileSystemFromBackup of the newest DR copy; returns the new file system (CREATING)."""
    account = host.get("dr_account_id")
    latest = state["latest"]
    dr = factory.client("fsx", account_id=account, region=state["dr_region"])
    ec2 = factory.client("ec2", account_id=account, region=state["dr_region"])
    subnets = subnets_for(ec2, state["source_tags"] or dict(host.get("dr_tags") or {}))
    if not subnets:
        raise ValueError(f"no subnet to restore {state['file_system_id']} into in {state['dr_region']}: tag the "
                         f"file system {TAG_SUBNETS}=<subnet ids in {state['dr_region']}>")
    tags = dict(customer_tags)
    tags.update({"Name": f"{host.get('dr_resource_name') or state['file_system_id']}-{purpose}",
                 TAG_RESTORED_FROM: state["file_system_id"], TAG_RESTORED_BACKUP: latest["BackupId"],
                 TAG_PURPOSE: purpose, TAG_EXECUTION: execution_id})
    params = {"BackupId": latest["BackupId"], "SubnetIds": subnets,
              "ClientRequestToken": token(execution_id, purpose, state["file_system_id"]),
              "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    groups = (state["source_tags"] or {}).get(TAG_SECURITY_GROUPS)
    if groups:
        params["SecurityGroupIds"] = [g.strip() for g in groups.split(",") if g.strip()]
    return dr.create_file_system_from_backup(**params)["FileSystem"]


def wait_lifecycle(client, fs_id, wanted, timeout, poll_interval):
    """The file system's Lifecycle once ``wanted`` (or the last seen); ``gone`` once it no longer exists."""

    def read():
        fs = describe_file_system(client, fs_id)
        return (fs.get("Lifecycle") if fs else "gone"), fs

    return waiting.until(read, timeout, poll_interval, done=lambda r: r[0] in (wanted, "FAILED", "MISCONFIGURED"))[0]


def wait_backup(client, backup_id, timeout, poll_interval):
    """The backup's Lifecycle once AVAILABLE, FAILED or gone (or the last seen), and the backup."""

    def read():
        found = client.describe_backups(BackupIds=[backup_id]).get("Backups", [])
        return (found[0].get("Lifecycle") if found else "gone"), (found[0] if found else None)

    return waiting.until(read, timeout, poll_interval, done=lambda r: r[0] in ("AVAILABLE", "FAILED", "gone"))[0]
