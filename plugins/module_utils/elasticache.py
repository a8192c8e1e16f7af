# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ElastiCache (Valkey / Redis OSS) global datastores: read, check, promote, detach, re-protect, drill copies.

One resource is one global datastore, known by its replication groups per region (``replication_groups``:
``{region: replication group ID}``, from the host's ``dr_elasticache``) and the region to make primary
(``target_region``). Everything reads live state first, so a re-run never promotes or detaches twice:

- planned promotion: ``FailoverGlobalReplicationGroup`` names the member to *become* primary (its region and ID),
  called in that region; done when that member's role is PRIMARY and the datastore is available again;
- emergency (the primary region does not answer): ``DisassociateGlobalReplicationGroup`` of the target member,
  called in the target region; done when the target replication group is standalone (no global datastore);
- re-protect after an emergency: an existing cluster cannot join a datastore as a secondary (it would be wiped),
  so the old datastore (primary-only, old region) is deleted, the stale old-region replication group is deleted, a
  new datastore is created with the promoted group as primary, and the old region's group is created again, with
  the same ID, as its secondary;
- drill: restore the target member's latest snapshot into a temporary replication group, check it, delete it.
"""

import datetime

try:
    from botocore.exceptions import ClientError
except ImportError:
    ClientError = Exception  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting

TAG_DRILL = "dr:drill-execution-id"
# Written on the DR member before an emergency detach: the datastore it left and its peers (region=group,...), so
# that discovery, a resumed run and REPLICATE still know the pair when the primary region does not answer.
TAG_DETACHED_FROM = "dr:elasticache-detached-from"
TAG_DETACHED_PEERS = "dr:elasticache-detached-peers"
DETACH_TAGS = (TAG_DETACHED_FROM, TAG_DETACHED_PEERS)
DRILL_SUFFIX = "-drill-"
MAX_GROUP_ID = 40


class ElastiCacheError(Exception):
    """What failed for one datastore, and the fix."""

    def __init__(self, message, remediation):
        super().__init__(message)
        self.remediation = remediation


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def error_code(exc):
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")


def rg_arn(account_id, region, group_id):
    return f"arn:aws:elasticache:{region}:{account_id}:replicationgroup:{group_id}"


def tags_of(tag_list):
    return {t["Key"]: t.get("Value", "") for t in tag_list or []}


# --------------------------------------------------------------------------------------------- reads
def describe_group(client, group_id):
    """The replication group, or None when it does not exist (deleted)."""
    try:
        groups = client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"]
    except ClientError as e:
        if error_code(e) in ("ReplicationGroupNotFoundFault", "ReplicationGroupNotFound"):
            return None
        raise
    return groups[0] if groups else None


def describe_global(client, global_id):
    """The global datastore with its members, or None when it does not exist."""
    if not global_id:
        return None
    try:
        found = client.describe_global_replication_groups(
            GlobalReplicationGroupId=global_id, ShowMemberInfo=True)["GlobalReplicationGroups"]
    except ClientError as e:
        if error_code(e) == "GlobalReplicationGroupNotFoundFault":
            return None
        raise
    return found[0] if found else None


def group_global_id(group):
    info = (group or {}).get("GlobalReplicationGroupInfo") or {}
    return info.get("GlobalReplicationGroupId") or None


def group_role(group):
    info = (group or {}).get("GlobalReplicationGroupInfo") or {}
    return (info.get("GlobalReplicationGroupMemberRole") or "").upper() or None


def primary_endpoint(group):
    """``(address, port)`` clients write to: the configuration endpoint (cluster mode) or the primary endpoint."""
    if not group:
        return None
    config = group.get("ConfigurationEndpoint") or {}
    if config.get("Address"):
        return config["Address"], int(config.get("Port") or 6379)
    for node_group in group.get("NodeGroups") or []:
        endpoint = node_group.get("PrimaryEndpoint") or {}
        if endpoint.get("Address"):
            return endpoint["Address"], int(endpoint.get("Port") or 6379)
    return None


def member(datastore, region):
    return next((m for m in (datastore or {}).get("Members") or [] if m.get("ReplicationGroupRegion") == region),
                None)


def primary_member(datastore):
    return next((m for m in (datastore or {}).get("Members") or [] if (m.get("Role") or "").upper() == "PRIMARY"),
                None)


def snapshot_state(datastore, target_group, target_region):
    """The state of one datastore as the record keeps it (before/after)."""
    primary = primary_member(datastore)
    target = member(datastore, target_region)
    return {
        "global_replication_group_id": (datastore or {}).get("GlobalReplicationGroupId") or group_global_id(
            target_group),
        "global_status": (datastore or {}).get("Status"),
        "primary_region": primary.get("ReplicationGroupRegion") if primary else None,
        "primary_replication_group": primary.get("ReplicationGroupId") if primary else None,
        "target_region": target_region,
        "target_replication_group": (target_group or {}).get("ReplicationGroupId"),
        "target_role": (target or {}).get("Role") or group_role(target_group)
        or ("STANDALONE" if target_group and not group_global_id(target_group) else None),
        "target_member_status": (target or {}).get("Status"),
        "members": [{"replication_group_id": m.get("ReplicationGroupId"), "region": m.get("ReplicationGroupRegion"),
                     "role": m.get("Role"), "status": m.get("Status")} for m in (datastore or {}).get("Members") or []],
    }


def replication_lag_seconds(cloudwatch, group_id, minutes=15):
    """The newest GlobalDatastoreReplicationLag of the target member (seconds), or None when not published."""
    end = utc_now()
    try:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/ElastiCache", MetricName="GlobalDatastoreReplicationLag",
            Dimensions=[{"Name": "ReplicationGroupId", "Value": group_id}],
            StartTime=end - datetime.timedelta(minutes=minutes), EndTime=end, Period=60,
            Statistics=["Maximum"])["Datapoints"]
    except ClientError:
        return None
    if not points:
        return None
    newest = max(points, key=lambda p: p["Timestamp"])
    return float(newest["Maximum"])


# ------------------------------------------------------------------------------------------- checks
def promotion_under_way(datastore):
    """The datastore is ``modifying`` with every member associated: a failover is in progress (an association or a
    disassociation shows its member ``associating`` or ``disassociating``)."""
    members = (datastore or {}).get("Members") or []
    return (datastore or {}).get("Status") == "modifying" and bool(members) and all(
        m.get("Status") == "associated" for m in members)


def preflight_problems(datastore, groups, target_region, operation, resumed=False):
    """What stops a promotion to ``target_region`` (empty when ready). ``groups``: ``{region: group or None}``.

    ``resumed``: the run is an interrupted execution run again, so a promotion under way is its own (asked before
    the interruption): it is not refused, and the failover waits for it instead of asking again."""
    problems = []
    if datastore is None:
        return ["the global datastore does not exist (or no member names it)"]
    status = datastore.get("Status")
    target = member(datastore, target_region)
    if target is None:
        problems.append(f"no member of {datastore['GlobalReplicationGroupId']} in {target_region}")
    elif (target.get("Role") or "").upper() != "PRIMARY" and not (resumed and promotion_under_way(datastore)):
        if status != "available":
            problems.append(f"the datastore is {status}, not available")
        if target.get("Status") != "associated":
            problems.append(f"the {target_region} member {target['ReplicationGroupId']} is {target.get('Status')}, "
                            "not associated")
    node_types = {g.get("CacheNodeType") for g in groups.values() if g}
    if datastore.get("CacheNodeType"):
        node_types.add(datastore["CacheNodeType"])
    if len(node_types) > 1:
        problems.append(f"members have different node types: {', '.join(sorted(node_types))}")
    engines = {(g.get("Engine") or "").lower() for g in groups.values() if g and g.get("Engine")}
    if datastore.get("Engine"):
        engines.add(datastore["Engine"].lower())
    if len(engines) > 1:
        problems.append(f"members run different engines: {', '.join(sorted(engines))}")
    shards = {len(g.get("NodeGroups") or []) for g in groups.values() if g}
    if len(shards) > 1:
        problems.append(f"members have different shard counts: {', '.join(str(s) for s in sorted(shards))}")
    return problems


def wait_until(predicate, read, timeout, interval, what):
    """Poll ``read()`` until ``predicate(state)``; returns the last state, raises ElastiCacheError on timeout."""
    state, finished = waiting.until(read, timeout, interval, done=predicate)
    if not finished:
        raise ElastiCacheError(f"timed out after {timeout} s waiting until {what}",
                               "re-run the same command: it resumes without repeating the call (or raise "
                               "wait_timeout_minutes)")
    return state


def drill_group_id(group_id, execution_id):
    tail = DRILL_SUFFIX + (execution_id or "run").replace("-", "")[:8].lower()
    return (group_id[:MAX_GROUP_ID - len(tail)] + tail).rstrip("-")
