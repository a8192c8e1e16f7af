# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Aurora global database logic: read a global cluster and its members, plan and wait for a writer move.

Used by the aurora_* modules. Calls go through the collection's client factory (one client per account and region,
jittered backoff on throttling); reads reuse amazon.aws's tag and case helpers. Pure planning functions
(``plan_move``, ``readiness``) are unit-tested without AWS.
"""

import socket
import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = Exception

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

# A switchover or failover in progress (botocore's enum lacks switching-over; the service documents it).
IN_PROGRESS = ("pending", "switching-over", "failing-over", "cancelling")
LAG_METRICS = ("AuroraGlobalDBRPOLag", "AuroraGlobalDBReplicationLag")  # milliseconds


class AuroraError(Exception):
    """What failed for one global cluster, and the fix."""

    def __init__(self, message, remediation=None):
        super().__init__(message)
        self.remediation = remediation


def arn_region(arn):
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 5 else None


def arn_name(arn):
    return (arn or "").split(":")[-1]


def describe_global_cluster(client, identifier):
    try:
        found = client.describe_global_clusters(GlobalClusterIdentifier=identifier)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "GlobalClusterNotFoundFault":
            raise AuroraError(f"global cluster {identifier} does not exist",
                              "check the inventory (re-run discovery) or leave the resource out of the run") from e
        raise
    clusters = found.get("GlobalClusters") or []
    if not clusters:
        raise AuroraError(f"global cluster {identifier} does not exist", "re-run discovery")
    return clusters[0]


def describe_member(client, arn):
    """A member cluster with its tags, or None when it does not exist (any more)."""
    try:
        clusters = client.describe_db_clusters(DBClusterIdentifier=arn)["DBClusters"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("DBClusterNotFoundFault", "DBClusterNotFound"):
            return None
        raise
    return clusters[0] if clusters else None


def replication_lag_seconds(cloudwatch, cluster_identifier, minutes=10):
    """The newest replication lag of a secondary (CloudWatch, milliseconds -> seconds), or None when not reported."""
    end = time.time()
    for metric in LAG_METRICS:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS", MetricName=metric, StartTime=end - minutes * 60, EndTime=end, Period=60,
            Statistics=["Maximum"], Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster_identifier}],
        ).get("Datapoints") or []
        if points:
            newest = max(points, key=lambda p: p["Timestamp"])
            return round(float(newest["Maximum"]) / 1000.0, 3)
    return None


def read_state(factory, account_id, identifier, home_region, lag=False, tolerate_unreachable=False):
    """The live state of one global cluster: its FailoverState, writer and every member (tags, engine, instances).

    ``home_region`` is where the global cluster is read from (any region with a member answers). With
    ``tolerate_unreachable`` (an unplanned failover: the primary region may be down) a member whose region does not
    answer is listed from the global cluster only, marked ``reachable: false``.
    """
    rds = factory.client("rds", account_id=account_id, region=home_region)
    cluster = describe_global_cluster(rds, identifier)
    failover = cluster.get("FailoverState") or {}
    members = []
    for member in cluster.get("GlobalClusterMembers") or []:
        arn = member["DBClusterArn"]
        region = arn_region(arn)
        entry = {"arn": arn, "identifier": arn_name(arn), "region": region, "is_writer": bool(member.get("IsWriter")),
                 "synchronization_status": member.get("SynchronizationStatus"), "readers": member.get("Readers") or [],
                 "reachable": True}
        try:
            detail = describe_member(factory.client("rds", account_id=account_id, region=region), arn)
        except (ClientError, BotoCoreError) as e:
            if not tolerate_unreachable or region == home_region:
                raise
            entry.update(reachable=False, unreachable_reason=str(e))
        if entry["reachable"]:
            if detail is None:
                entry.update(exists=False, tags={}, instances=0)
            else:
                entry.update(
                    exists=True, status=detail.get("Status"), engine=detail.get("Engine"),
                    engine_version=detail.get("EngineVersion"), endpoint=detail.get("Endpoint"),
                    port=detail.get("Port"), instances=len(detail.get("DBClusterMembers") or []),
                    tags=boto3_tag_list_to_ansible_dict(detail.get("TagList") or []),
                )
                if lag and not entry["is_writer"]:
                    cloudwatch = factory.client("cloudwatch", account_id=account_id, region=region)
                    entry["replication_lag_seconds"] = replication_lag_seconds(cloudwatch, entry["identifier"])
        members.append(entry)
    writer = next((m for m in members if m["is_writer"]), None)
    return {
        "global_cluster_identifier": cluster.get("GlobalClusterIdentifier"),
        "global_cluster_arn": cluster.get("GlobalClusterArn"),
        "status": cluster.get("Status"),
        "engine": cluster.get("Engine"),
        "engine_version": cluster.get("EngineVersion"),
        "failover_state": {k: v for k, v in failover.items() if v is not None},
        "writer_arn": writer["arn"] if writer else None,
        "writer_region": writer["region"] if writer else None,
        "members": members,
    }


def member_in(state, region):
    return next((m for m in state["members"] if m["region"] == region), None)


def summary_state(state):
    """The part of a state that goes into before/after of a record entry."""
    return {
        "writer_region": state["writer_region"],
        "writer_cluster_arn": state["writer_arn"],
        "failover_state": state["failover_state"].get("Status") if state["failover_state"] else None,
        "members": {m["region"]: {"cluster": m["identifier"], "is_writer": m["is_writer"],
                                  "synchronization_status": m.get("synchronization_status")}
                    for m in state["members"]},
    }


def plan_move(state, target_region, allow_data_loss=False):
    """What moving the writer to ``target_region`` needs: ``(action, target member)``.

    ``none``: the target is the writer and nothing is in progress. ``wait``: a switchover or failover to the target is
    already in progress (an interrupted run: never call it twice). ``switchover`` / ``failover``: call it.
    Raises AuroraError when it cannot be done.
    """
    target = member_in(state, target_region)
    name = state["global_cluster_identifier"]
    if target is None:
        raise AuroraError(f"global cluster {name} has no member in {target_region}",
                          f"add a secondary cluster in {target_region} (with at least one DB instance)")
    progress = state["failover_state"]
    if progress and progress.get("Status") in IN_PROGRESS:
        if progress.get("ToDbClusterArn") == target["arn"]:
            return "wait", target
        raise AuroraError(
            f"global cluster {name} is {progress.get('Status')} to {progress.get('ToDbClusterArn')}, not to "
            f"{target['arn']}", "wait until that operation has finished, then re-run the same command")
    if target["is_writer"]:
        return "none", target
    if target.get("exists") is False:
        raise AuroraError(f"the {target_region} member {target['arn']} of {name} no longer exists",
                          "re-create the secondary cluster, or re-run discovery")
    if not target.get("instances") and target.get("reachable", True):
        raise AuroraError(f"the {target_region} member {target['identifier']} of {name} has no DB instance "
                          "(a headless secondary cannot become the writer)",
                          f"create a DB instance in {target['identifier']}")
    return ("failover" if allow_data_loss else "switchover"), target


def readiness(state, dr_region, rpo_target_minutes=None, lag_threshold_seconds=None):
    """PREFLIGHT problems of one global cluster (empty when it can fail over to ``dr_region``)."""
    problems = []
    name = state["global_cluster_identifier"]
    members = state["members"]
    if len(members) < 2:
        problems.append(f"{name} has {len(members)} member(s): a global database needs a secondary region")
    if state["writer_arn"] is None:
        problems.append(f"{name} has no writer")
    target = member_in(state, dr_region)
    progress = state["failover_state"] or {}
    # A move of the writer to the DR member already under way (a run killed in ACTIVATE, resumed) is the move this
    # run makes: ACTIVATE waits for it and never starts a second (plan_move). A move anywhere else is a problem.
    moving_to_target = (target is not None and progress.get("Status") in IN_PROGRESS
                        and progress.get("ToDbClusterArn") == target["arn"])
    if progress and not moving_to_target:
        problems.append(f"{name} is {progress.get('Status')} (a switchover or failover in progress)")
    versions = {m.get("engine_version") for m in members if m.get("exists")}
    if len(versions) > 1:
        problems.append(f"{name} members run different engine versions ({', '.join(sorted(map(str, versions)))}): "
                        "major and minor versions must match")
    if target is None:
        problems.append(f"{name} has no member in the DR region {dr_region}")
        return problems
    if not target["is_writer"] and not moving_to_target:
        if not target.get("instances"):
            problems.append(f"the DR member {target['identifier']} has no DB instance")
        if target.get("status") not in (None, "available"):
            problems.append(f"the DR member {target['identifier']} is {target.get('status')}, not available")
        if target.get("synchronization_status") not in (None, "connected"):
            problems.append(f"the DR member {target['identifier']} is {target['synchronization_status']}")
        lag = target.get("replication_lag_seconds")
        limits = [x for x in (rpo_target_minutes * 60 if rpo_target_minutes is not None else None,
                              lag_threshold_seconds) if x is not None]
        if lag is not None and limits and lag > min(limits):
            problems.append(f"the DR member {target['identifier']} lags {lag} s behind the writer, more than "
                            f"{min(limits)} s (dr:rpo-target / lag threshold)")
    return problems


def scope_pairs(state, label):
    """``(resource, tags)`` of every reachable member, for the scope guard."""
    return [(f"{m['arn']} (member of {label})", m.get("tags") or {}) for m in state["members"]
            if m.get("reachable", True) and m.get("exists", True)]


def tcp_answers(host, port, timeout=5.0):
    """True when something accepts a TCP connection on host:port (the writer endpoint answers)."""
    if not host or not port:
        return False
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False
