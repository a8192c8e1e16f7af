"""Aurora global database failover and RDS read-replica promotion, as the real services behave.

moto 5.2.5 has no ``SwitchoverGlobalCluster`` / ``FailoverGlobalCluster`` and gets several answers the collection
relies on wrong (``shared/reference/failover_apis.md`` sections 1.6 and 2.4, Appendix B items 1 and 2). This module
registers the missing and corrected operations and answers them through moto's own RDS response class, so state stays
in moto's backends and every ``describe_*`` shows it:

- ``SwitchoverGlobalCluster`` / ``FailoverGlobalCluster``: validate the global cluster, the target (an ARN of a
  secondary with at least one instance, same engine version, not already the writer) and the parameters
  (``AllowDataLoss`` and ``Switchover`` together: ``InvalidParameterCombination``; another operation in progress:
  ``InvalidGlobalClusterStateFault``); then ``FailoverState`` goes ``pending`` -> ``switching-over`` (or
  ``failing-over``) -> cleared over a few seconds of the sandbox clock, after which exactly one member is the writer,
  the writer's ``Readers`` lists every other member, and the old primary stays a member: ``connected`` after a
  switchover, ``pending-resync`` then ``connected`` after a failover (Aurora rebuilds it as a secondary).
- ``DescribeGlobalClusters``: honours ``GlobalClusterIdentifier`` (``GlobalClusterNotFoundFault``), finds global
  clusters whatever region is asked, and shows ``FailoverState`` and ``SynchronizationStatus``.
- ``CreateGlobalCluster``: the source cluster is the writer (moto left every member a reader).
- ``RemoveFromGlobalCluster``: finds the member by ARN in any region; the detached cluster forgets its global cluster.
- ``RestoreDBClusterToPointInTime``: a clone of a global member is a standalone cluster (moto made it join the
  global database).
- ``PromoteReadReplica``: a non-replica is refused (``InvalidDBInstanceState``); a replica goes ``modifying`` ->
  ``available``, its ``StatusInfos`` and source links disappear on both sides. Replicas show
  ``StatusInfos`` ``read replication / replicating``.

Endpoints: the sandbox has no DNS for ``*.rds.amazonaws.com``, so cluster and instance endpoints are answered as
``localhost`` (the estate gives them the sandbox's port), and a TCP check of a writer endpoint reaches the sandbox.

Durations follow the DRS emulator's ``time_scale`` (one clock for the sandbox): at 1.0 a switchover takes about four
seconds, enough for a few polls.
"""

from __future__ import annotations

import time

from moto.core.request import Request
from moto.core.responses import ActionResult
from moto.rds import models as rds_models
from moto.rds.exceptions import InvalidParameterCombination
from moto.rds.exceptions import InvalidParameterValue
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse

from sandbox.emulators import register
from sandbox.locking import STATE_LOCK

try:
    from sandbox.drs.state import SETTINGS as _DRS_SETTINGS
except ImportError:  # pragma: no cover - the DRS emulator is part of the tree
    _DRS_SETTINGS = {"time_scale": 1.0}

# Seconds at time_scale 1.
DURATIONS = {"pending": 1.0, "switching": 3.0, "resync": 3.0, "promotion": 2.0}
ENDPOINT_HOST = "localhost"


def _seconds(name):
    return DURATIONS[name] * float(_DRS_SETTINGS.get("time_scale", 1.0) or 1.0)


class GlobalClusterNotFoundFault(RDSClientError):
    def __init__(self, identifier):
        super().__init__("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")


class InvalidGlobalClusterState(RDSClientError):
    def __init__(self, message):
        super().__init__("InvalidGlobalClusterStateFault", message)


class InvalidDBClusterState(RDSClientError):
    def __init__(self, message):
        super().__init__("InvalidDBClusterStateFault", message)


class DBClusterNotFound(RDSClientError):
    def __init__(self, identifier):
        super().__init__("DBClusterNotFoundFault", f"DBCluster {identifier} not found.")


class InvalidDBInstanceState(RDSClientError):
    def __init__(self, message):
        super().__init__("InvalidDBInstanceState", message)


# ------------------------------------------------------------------------------------------ global clusters
def _backends(account):
    return rds_models.rds_backends[account]


def _all_global_clusters(account):
    """Every global cluster of the account, whichever regional backend holds it (moto keeps them in us-east-1)."""
    found = {}
    for region in list(_backends(account).keys()):
        for identifier, cluster in _backends(account)[region].global_clusters.items():
            found.setdefault(identifier, cluster)
    return found


def _find_global(account, identifier):
    wanted = (identifier or "").lower()
    for gc_id, cluster in _all_global_clusters(account).items():
        if wanted in (gc_id.lower(), cluster.global_cluster_arn.lower()):
            return cluster
    raise GlobalClusterNotFoundFault(identifier)


def _advance(cluster, now=None):
    """Move a global cluster's failover and its members' resync along the sandbox clock."""
    now = time.time() if now is None else now
    state = getattr(cluster, "_edr_operation", None)
    if state:
        if now >= state["done_at"]:
            for member in cluster.members:
                member.is_writer = member.db_cluster_arn == state["to"]
                if member.db_cluster_arn == state["from"] and state["data_loss"]:
                    member._edr_resync_until = now + _seconds("resync")  # pylint: disable=protected-access
            cluster._edr_operation = None  # pylint: disable=protected-access
            cluster.status = "available"
        elif now >= state["pending_until"]:
            state["status"] = "failing-over" if state["data_loss"] else "switching-over"
    for member in cluster.members:
        until = getattr(member, "_edr_resync_until", None)
        if until and now >= until:
            member._edr_resync_until = None  # pylint: disable=protected-access


def _tick_all():
    with STATE_LOCK:
        now = time.time()
        for account in list(rds_models.rds_backends.keys()):
            for cluster in _all_global_clusters(account).values():
                _advance(cluster, now)
            for region in list(_backends(account).keys()):
                for database in list(_backends(account)[region].databases.values()):
                    until = getattr(database, "_edr_available_at", None)
                    if until and now >= until:
                        database.status = "available"
                        database._edr_available_at = None  # pylint: disable=protected-access


def _failover_state(self):
    state = getattr(self, "_edr_operation", None)
    if not state:
        return None
    return {"Status": state["status"], "FromDbClusterArn": state["from"], "ToDbClusterArn": state["to"],
            "IsDataLossAllowed": state["data_loss"]}


def _members(self):
    writer = next((m for m in self.members if m.is_writer), None)
    members = []
    for member in self.members:
        entry = {"DBClusterArn": member.db_cluster_arn, "IsWriter": bool(member.is_writer), "Readers": []}
        if member is writer:
            entry["Readers"] = [m.db_cluster_arn for m in self.members if m is not writer]
        else:
            entry["GlobalWriteForwardingStatus"] = "disabled"
            entry["SynchronizationStatus"] = (
                "pending-resync" if getattr(member, "_edr_resync_until", None) else "connected")
        members.append(entry)
    return members


rds_models.GlobalCluster.failover_state = property(_failover_state)
rds_models.GlobalCluster.global_cluster_members = property(_members)
rds_models.DBCluster.endpoint = property(lambda self: ENDPOINT_HOST)
rds_models.DBCluster.reader_endpoint = property(lambda self: ENDPOINT_HOST)
rds_models.DBInstance.address = property(lambda self: ENDPOINT_HOST)


def _status_infos(self):
    if self.is_replica and self.source_db_instance_identifier:
        return [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}]
    return None


rds_models.DBInstance.status_infos = property(_status_infos)


def _truthy(value):
    return str(value).lower() == "true" if isinstance(value, str) else bool(value)


def _member(cluster, arn):
    return next((m for m in cluster.members if m.db_cluster_arn == arn), None)


def _start_operation(response, allow):
    """Validate and start a switchover (``allow`` False) or a failover with data loss allowed."""
    params = response.params
    account = response.current_account
    cluster = _find_global(account, params.get("GlobalClusterIdentifier"))
    _advance(cluster)
    target_arn = params.get("TargetDbClusterIdentifier") or ""
    if not target_arn.startswith("arn:"):
        raise InvalidParameterValue(
            f"TargetDbClusterIdentifier must be the ARN of a secondary cluster, got {target_arn!r}.")
    target = _member(cluster, target_arn)
    if target is None:
        raise DBClusterNotFound(target_arn)
    if getattr(cluster, "_edr_operation", None):
        raise InvalidGlobalClusterState(
            f"Global cluster {cluster.global_cluster_identifier} is already in the middle of a "
            f"{cluster._edr_operation['status']} operation.")  # pylint: disable=protected-access
    if target.is_writer:
        raise InvalidGlobalClusterState(
            f"The target cluster {target_arn} is already the primary cluster of {cluster.global_cluster_identifier}.")
    if not target.members:
        raise InvalidDBClusterState(f"The target cluster {target_arn} has no DB instance (a headless secondary "
                                    "cannot be promoted).")
    writer = next((m for m in cluster.members if m.is_writer), None)
    if writer is None:
        raise InvalidGlobalClusterState(f"Global cluster {cluster.global_cluster_identifier} has no writer.")
    if not allow and getattr(target, "_edr_resync_until", None):
        raise InvalidGlobalClusterState(f"The target cluster {target_arn} is not synchronized (pending-resync): "
                                        "a switchover needs every secondary connected.")
    if (target.engine_version or "") != (writer.engine_version or ""):
        raise InvalidDBClusterState(
            f"The target cluster {target_arn} runs {target.engine} {target.engine_version}, the primary "
            f"{writer.engine_version}: major and minor versions must match.")
    now = time.time()
    cluster._edr_operation = {  # pylint: disable=protected-access
        "status": "pending", "from": writer.db_cluster_arn, "to": target_arn, "data_loss": allow,
        "pending_until": now + _seconds("pending"), "done_at": now + _seconds("pending") + _seconds("switching"),
    }
    cluster.status = "failing-over" if allow else "switching-over"
    return cluster


class EmulatedRDSResponse(RDSResponse):
    """moto's RDS responses plus the operations moto lacks or answers wrongly."""

    def switchover_global_cluster(self):
        cluster = _start_operation(self, allow=False)
        return ActionResult({"GlobalCluster": cluster})

    def failover_global_cluster(self):
        params = self.params
        if _truthy(params.get("AllowDataLoss")) and _truthy(params.get("Switchover")):
            raise InvalidParameterCombination("AllowDataLoss and Switchover can't be specified together.")
        # Neither given: the API defaults to a switchover (no data loss).
        cluster = _start_operation(self, allow=_truthy(params.get("AllowDataLoss")))
        return ActionResult({"GlobalCluster": cluster})

    def describe_global_clusters(self):
        identifier = self.params.get("GlobalClusterIdentifier")
        if identifier:
            clusters = [_find_global(self.current_account, identifier)]
        else:
            clusters = list(_all_global_clusters(self.current_account).values())
        for cluster in clusters:
            _advance(cluster)
        return ActionResult({"GlobalClusters": clusters})

    def create_global_cluster(self):
        result = super().create_global_cluster()
        cluster = _find_global(self.current_account, self.params["GlobalClusterIdentifier"])
        if cluster.members:
            source = cluster.members[0]
            source.is_writer = True
            source.global_cluster_identifier = cluster.global_cluster_identifier
        return result

    def remove_from_global_cluster(self):
        cluster = _find_global(self.current_account, self.params["GlobalClusterIdentifier"])
        member = _member(cluster, self.params.get("DbClusterIdentifier") or "")
        if member is None:
            raise DBClusterNotFound(self.params.get("DbClusterIdentifier"))
        if member.is_writer and len(cluster.members) > 1:
            raise InvalidGlobalClusterState("Remove the secondary clusters before the primary cluster.")
        cluster.members.remove(member)
        member.global_cluster_identifier = None
        member.is_writer = False
        return ActionResult({"GlobalCluster": cluster})

    def restore_db_cluster_to_point_in_time(self):
        result = super().restore_db_cluster_to_point_in_time()
        clone = self.backend.clusters.get(self.params["DBClusterIdentifier"])
        if clone is not None and clone.global_cluster_identifier:
            for cluster in _all_global_clusters(self.current_account).values():
                if clone in cluster.members:
                    cluster.members.remove(clone)
            clone.global_cluster_identifier = None
            clone.is_writer = False
        return result

    def promote_read_replica(self):
        identifier = self.params.get("DBInstanceIdentifier")
        database = self.backend.describe_db_instances(identifier)[0]
        if not database.is_replica:
            raise InvalidDBInstanceState("DB Instance is not a read replica.")
        if database.status not in ("available", "storage-optimization"):
            raise InvalidDBInstanceState(f"Instance {identifier} is {database.status}: it cannot be promoted now.")
        source_id = database.source_db_instance_identifier
        if source_id:
            try:
                source = self.backend.find_db_from_id(source_id)
            except RDSClientError:
                source = None
            if source is not None:
                for key in (database.db_instance_arn, database.db_instance_identifier):
                    if key in source.replicas:
                        source.replicas.remove(key)
        database.is_replica = False
        database.source_db_instance_identifier = None
        database.status = "modifying"
        database._edr_available_at = time.time() + _seconds("promotion")  # pylint: disable=protected-access
        if self.params.get("BackupRetentionPeriod") is not None:
            database.backup_retention_period = int(self.params["BackupRetentionPeriod"])
        return ActionResult({"DBInstance": database})


OPERATIONS = ("SwitchoverGlobalCluster", "FailoverGlobalCluster", "DescribeGlobalClusters", "CreateGlobalCluster",
              "RemoveFromGlobalCluster", "RestoreDBClusterToPointInTime", "PromoteReadReplica")


def _handle(call):
    environ = dict(call.environ)
    request = Request(environ)
    host = environ.get("HTTP_HOST", "localhost")
    url = f"http://{host}{call.path}" + (f"?{call.query_string}" if call.query_string else "")
    with STATE_LOCK:
        _tick_all()
        return EmulatedRDSResponse.dispatch(request, url, dict(request.headers))


register("rds", "rds", _handle, operations=OPERATIONS, tick=_tick_all, tick_services=("rds",))
