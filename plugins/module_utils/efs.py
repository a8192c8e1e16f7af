# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EFS failover: the replication configuration is the failover (reference/failover_apis.md section 11).

A protected file system is the primary region's (the host, ``A``); it replicates to ``B`` in the DR region.

- ACTIVATE deletes the configuration (called in the region that becomes active; ``LOCAL_CONFIGURATION_ONLY`` in an
  emergency, when the other region may not answer), waits until it is gone and the new active file system is
  writable (its ``ReplicationOverwriteProtection`` back to ``ENABLED``); the destination's protection before the
  delete (``REPLICATING``) and its last sync (the RPO) are recorded.
- REPLICATE creates the reverse configuration, new active -> old active: the old one must have its protection
  ``DISABLED`` to be a destination (``UpdateFileSystemProtection``), then EFS applies only the differences; waits
  until the destination is ``ENABLED``.
- Failback is the mirror (``direction=failback``): from ``B`` back to ``A``.

Which file system is the peer: the live replication configuration when there is one, else the run's record (the
ACTIVATE entry of this execution), else the inventory's ``dr_efs.peer_file_system_id``.
"""

import datetime

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import last_result as wait_for


def _ts(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc)
    return datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc)


def iso(value):
    value = _ts(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def sides(host, direction, peer_id):
    """``(from_side, to_side)``, each ``{"region", "file_system_id"}``: failover goes primary -> DR."""
    spec = host.get("dr_efs") or {}
    primary = {"region": host.get("dr_resource_region") or host.get("dr_primary_region"),
               "file_system_id": spec.get("file_system_id") or host.get("dr_resource_id")}
    dr = {"region": spec.get("peer_region") or host.get("dr_dr_region"), "file_system_id": peer_id}
    return (primary, dr) if direction == "failover" else (dr, primary)


def describe_file_system(client, fs_id):
    """``{"tags", "protection", "state"}``, or None when there is no such file system."""
    try:
        found = client.describe_file_systems(FileSystemId=fs_id).get("FileSystems", [])
    except is_boto3_error_code("FileSystemNotFound"):
        return None
    if not found:
        return None
    fs = found[0]
    return {"file_system_id": fs_id, "arn": fs.get("FileSystemArn"),
            "tags": {t["Key"]: t["Value"] for t in fs.get("Tags", [])},
            "protection": (fs.get("FileSystemProtection") or {}).get("ReplicationOverwriteProtection"),
            "state": fs.get("LifeCycleState")}


def describe_replication(client, fs_id):
    """The replication configuration the file system is part of (as source or destination), or None."""
    try:
        found = client.describe_replication_configurations(FileSystemId=fs_id).get("Replications", [])
    except is_boto3_error_code("ReplicationNotFound"):
        return None
    if not found:
        return None
    config = found[0]
    destination = (config.get("Destinations") or [{}])[0]
    return {"source_file_system_id": config.get("SourceFileSystemId"),
            "source_region": config.get("SourceFileSystemRegion"),
            "destination_file_system_id": destination.get("FileSystemId"),
            "destination_region": destination.get("Region"), "status": destination.get("Status"),
            "last_replicated": destination.get("LastReplicatedTimestamp")}


def read(factory, host, direction, record_peer=None):
    """Both file systems and the replication between them. A region that does not answer is noted, not raised."""
    account = host.get("dr_account_id")
    spec = host.get("dr_efs") or {}
    peer_id = spec.get("peer_file_system_id") or record_peer
    state = {"replication": None, "answered": {}, "errors": {}}
    primary_side, dr_side = sides(host, "failover", peer_id)
    # The replication as either region sees it: the DR side first (it answers when the primary region is down).
    lookups = [(dr_side["region"], peer_id), (primary_side["region"], primary_side["file_system_id"])]
    for region, fs_id in lookups:
        if not fs_id:
            continue
        try:
            state["replication"] = describe_replication(factory.client("efs", account_id=account, region=region),
                                                        fs_id)
            break
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            state["errors"][region] = describe_error(e)
    replication = state["replication"]
    if replication:
        members = {replication["source_file_system_id"], replication["destination_file_system_id"]}
        if primary_side["file_system_id"] in members:
            peer_id = next(iter(members - {primary_side["file_system_id"]}), peer_id)
    state["peer_file_system_id"] = peer_id
    state["from"], state["to"] = sides(host, direction, peer_id)
    for side in ("from", "to"):
        where = state[side]
        if not where["file_system_id"]:
            state[side + "_fs"] = None
            continue
        try:
            state[side + "_fs"] = describe_file_system(
                factory.client("efs", account_id=account, region=where["region"]), where["file_system_id"])
            state["answered"][side] = True
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            state[side + "_fs"] = None
            state["answered"][side] = False
            state["errors"][where["region"]] = describe_error(e)
    return state


def scope_members(host, state):
    members = []
    for side in ("from", "to"):
        fs = state.get(side + "_fs")
        if fs:
            members.append((f"{fs['arn'] or fs['file_system_id']} ({host.get('inventory_hostname')})", fs["tags"]))
    return members


def flows(replication, source, destination):
    return bool(replication) and replication["source_file_system_id"] == source["file_system_id"] and \
        replication["destination_file_system_id"] == destination["file_system_id"]


def lag_seconds(replication, now=None):
    last = _ts((replication or {}).get("last_replicated"))
    if last is None:
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0, int((now - last).total_seconds()))


def describe(state):
    """The before/after shape of one file system pair."""
    replication = state.get("replication") or {}
    return {
        "active_file_system_id": state["from"]["file_system_id"], "active_region": state["from"]["region"],
        "dr_file_system_id": state["to"]["file_system_id"], "dr_region": state["to"]["region"],
        "replication": (f"{replication['source_file_system_id']} -> {replication['destination_file_system_id']} "
                        f"{replication['status']}") if replication else "none",
        "replication_status": replication.get("status"),
        "last_replicated": iso(replication.get("last_replicated")),
        "dr_protection": (state.get("to_fs") or {}).get("protection"),
        "original_protection": (state.get("from_fs") or {}).get("protection"),
        # The DR-region file system of the pair, whatever the direction (what a resumed run reads from the record).
        "peer_file_system_id": state.get("peer_file_system_id"),
    }


def plan_activate(state):
    """``(actions, problem)`` for ACTIVATE: delete the replication so the DR file system becomes writable."""
    replication, src, dst = state.get("replication"), state["from"], state["to"]
    if not dst["file_system_id"]:
        return [], ("no replication configuration and no known DR file system",
                    "create the replication configuration (CreateReplicationConfiguration) to the DR region, wait "
                    "until it is ENABLED, then re-run")
    if state.get("to_fs") is None:
        return [], (f"DR file system {dst['file_system_id']} not found in {dst['region']}",
                    "check the replication configuration's destination, or re-create it")
    if flows(replication, src, dst):
        if replication["status"] == "DELETING":
            return ["wait_deleted"], None
        if replication["status"] not in ("ENABLED", "PAUSED"):
            return [], (f"replication {src['file_system_id']} -> {dst['file_system_id']} is {replication['status']}"
                        " (the DR copy is not complete)",
                        "wait until the replication is ENABLED (initial sync finished), then re-run")
        return ["delete_replication"], None
    if flows(replication, dst, src):
        return [], None  # already failed over and replicating back: nothing to do
    if replication:
        return [], (f"the file system is in another replication "
                    f"({replication['source_file_system_id']} -> {replication['destination_file_system_id']})",
                    "check the replication configurations of both file systems")
    if state["to_fs"]["protection"] == "REPLICATING":
        return ["wait_deleted"], None
    return [], None  # no replication, DR file system writable: already active


def plan_replicate(state):
    """``(actions, problem)`` for REPLICATE: reverse replication new active (to) -> old active (from)."""
    replication, src, dst = state.get("replication"), state["from"], state["to"]
    if flows(replication, dst, src):
        return (["wait_enabled"] if replication["status"] != "ENABLED" else []), None
    if replication:
        return [], (f"replication {replication['source_file_system_id']} -> "
                    f"{replication['destination_file_system_id']} still exists ({replication['status']})",
                    "run ACTIVATE first (it deletes the replication), then re-run")
    if not state.get("answered", {}).get("from") or state.get("from_fs") is None:
        return [], (f"the original file system {src['file_system_id']} in {src['region']} does not answer",
                    "re-run REPLICATE when the original region is back (-e '{\"phases\": [\"replicate\"]}')")
    actions = []
    if state["from_fs"]["protection"] == "ENABLED":
        actions.append("disable_protection")
    actions.append("create_replication")
    return actions, None


def apply_activate(factory, host, state, actions, emergency, timeout, poll_interval):
    """Delete the replication (from the region that becomes active) and wait until the DR file system is writable.
    Returns the DR file system's protection at the end (``ENABLED`` = writable)."""
    account = host.get("dr_account_id")
    to = state["to"]
    client = factory.client("efs", account_id=account, region=to["region"])
    if "delete_replication" in actions:
        client.delete_replication_configuration(
            SourceFileSystemId=to["file_system_id"],
            DeletionMode="LOCAL_CONFIGURATION_ONLY" if emergency else "ALL_CONFIGURATIONS")

    def writable():
        if describe_replication(client, to["file_system_id"]) is not None:
            return None
        fs = describe_file_system(client, to["file_system_id"])
        return fs["protection"] if fs and fs["protection"] != "REPLICATING" else None

    return wait_for(writable, timeout, poll_interval)


def apply_replicate(factory, host, state, actions, timeout, poll_interval):
    """Create the reverse replication and wait until ENABLED. Returns the replication's status at the end."""
    account = host.get("dr_account_id")
    src, dst = state["from"], state["to"]
    if "disable_protection" in actions:
        factory.client("efs", account_id=account, region=src["region"]).update_file_system_protection(
            FileSystemId=src["file_system_id"], ReplicationOverwriteProtection="DISABLED")
    client = factory.client("efs", account_id=account, region=dst["region"])
    if "create_replication" in actions:
        client.create_replication_configuration(
            SourceFileSystemId=dst["file_system_id"],
            Destinations=[{"Region": src["region"], "FileSystemId": src["file_system_id"]}])

    def enabled():
        replication = describe_replication(client, dst["file_system_id"])
        return replication if replication and replication["status"] == "ENABLED" else None

    return wait_for(enabled, timeout, poll_interval) or describe_replication(client, dst["file_system_id"])
