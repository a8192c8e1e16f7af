"""MemoryDB multi-Region clusters and snapshot copies, which moto 5.2.5 lacks (reference/failover_apis.md section 4).

Emulated operations: Create/DescribeMultiRegionCluster(s), CopySnapshot (a copy in the region, or an export of the
RDB file to an S3 bucket of the same region, ``TargetBucket``), and corrections of moto's answers:

- CreateCluster with ``MultiRegionClusterName`` joins the multi-Region cluster (moto ignores the parameter), and with
  ``SnapshotName`` or ``SnapshotArns`` (an S3 seed) restores from it: the source must exist, the cluster is
  ``creating`` for a few polls, then ``available``; DescribeClusters shows ``MultiRegionClusterName``;
- CreateSnapshot answers ``creating`` for a few polls before ``available`` (moto makes it available at once);
- cluster endpoints point at the sandbox's loopback port, so a TCP connectivity check reaches something;
- the Resource Groups Tagging API lists MemoryDB clusters (``memorydb:cluster``) and multi-Region clusters
  (``memorydb:multiregioncluster``, in the region of their first regional cluster), which moto never does.

Each transition completes after ``POLLS_PER_TRANSITION`` MemoryDB or S3 requests (time scale in polls: an export
shows in S3 while the caller polls S3). An exported RDB file
is a small JSON document naming the cluster, the snapshot and its creation time (what a restore needs for RPO).
"""

from __future__ import annotations

import datetime
import json
import os

from sandbox.emulators import register
from sandbox.emulators.elasticache import region_prefix
from sandbox.locking import STATE_LOCK

POLLS_PER_TRANSITION = int(os.environ.get("SANDBOX_MEMORYDB_POLLS", "2"))

MULTI: dict[str, dict[str, dict]] = {}      # account -> multi-Region cluster name -> document
MEMBERS: dict[tuple, str] = {}              # (account, region, cluster) -> multi-Region cluster name
RESTORES: dict[tuple, dict] = {}            # (account, region, cluster) -> {"source", "snapshot_time"}
PENDING: list[dict] = []                    # {"polls", "apply"} transitions
SEEN: set = set()                           # (kind, account, region, name) already given a transition


def reset():
    for store in (MULTI, MEMBERS, RESTORES):
        store.clear()
    PENDING.clear()
    SEEN.clear()


class _Error(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _answer(operation, result):
    from moto.core.exceptions import ServiceException
    from moto.core.serialize import get_serializer_class
    from moto.core.utils import get_service_model

    operation_model = get_service_model("memorydb").operation_model(operation)
    serializer = get_serializer_class("memorydb", "json")(operation_model=operation_model)
    if isinstance(result, _Error):
        error_class = type(result.code, (ServiceException,), {"__module__": "moto.memorydb.exceptions",
                                                              "code": result.code})
        answer = serializer.serialize(error_class(result.message))
        return result.status, {"Content-Type": "application/x-amz-json-1.1"}, answer["body"]
    answer = serializer.serialize(result)
    return answer["status_code"], {"Content-Type": "application/x-amz-json-1.1"}, answer["body"]


def _backend(account, region):
    from moto.memorydb.models import memorydb_backends

    return memorydb_backends[account][region]


def _s3(account):
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]


def _advance():
    for step in list(PENDING):
        step["polls"] -= 1
        if step["polls"] <= 0:
            PENDING.remove(step)
            step["apply"]()


def _later(apply):
    PENDING.append({"polls": POLLS_PER_TRANSITION, "apply": apply})


def _iso(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _snapshot_time(snapshot):
    times = [s.get("SnapshotCreationTime") for s in snapshot.shards if s.get("SnapshotCreationTime")]
    return _iso(max(times)) if times else None


# ------------------------------------------------------------------------------- multi-Region clusters
def create_multi(call, params):
    suffix = params.get("MultiRegionClusterNameSuffix")
    if not suffix or not params.get("NodeType"):
        raise _Error("InvalidParameterValueException", "MultiRegionClusterNameSuffix and NodeType are required")
    name = f"{region_prefix(call.region)}-{suffix}"
    if name in MULTI.get(call.account, {}):
        raise _Error("MultiRegionClusterAlreadyExistsFault", f"Multi-Region cluster {name} already exists")
    document = {
        "MultiRegionClusterName": name, "Description": params.get("Description", ""), "Status": "creating",
        "NodeType": params["NodeType"], "Engine": params.get("Engine", "valkey"),
        "EngineVersion": params.get("EngineVersion", "7.3"), "NumberOfShards": int(params.get("NumShards", 1)),
        "Clusters": [], "TLSEnabled": params.get("TLSEnabled", True),
        "ARN": f"arn:aws:memorydb::{call.account}:multiregioncluster/{name}",
        "_tags": {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []},
    }

    def created():
        document["Status"] = "available"

    _later(created)
    MULTI.setdefault(call.account, {})[name] = document
    return "CreateMultiRegionCluster", {"MultiRegionCluster": _public(document)}


def _public(document, details=True):
    out = {k: v for k, v in document.items() if not k.startswith("_")}
    if not details:
        out.pop("Clusters", None)
    return out


def describe_multi(call, params):
    _advance()
    wanted = params.get("MultiRegionClusterName")
    stores = MULTI.get(call.account, {})
    if wanted and wanted not in stores:
        raise _Error("MultiRegionClusterNotFoundFault", f"Multi-Region cluster {wanted} not found")
    found = [stores[wanted]] if wanted else list(stores.values())
    return "DescribeMultiRegionClusters", {"MultiRegionClusters": [
        _public(d, details=bool(params.get("ShowClusterDetails"))) for d in found]}


# ------------------------------------------------------------------------------------- clusters
def create_cluster(call, params):
    """Validate what moto does not, note membership and restores; moto creates the cluster itself."""
    name = params.get("ClusterName")
    backend = _backend(call.account, call.region)
    if name in backend.clusters:
        raise _Error("ClusterAlreadyExistsFault", f"Cluster {name} already exists")
    multi = params.get("MultiRegionClusterName")
    if multi:
        document = MULTI.get(call.account, {}).get(multi)
        if document is None:
            raise _Error("MultiRegionClusterNotFoundFault", f"Multi-Region cluster {multi} not found")
        if any(c["Region"] == call.region for c in document["Clusters"]):
            raise _Error("InvalidParameterValueException", f"{multi} already has a cluster in {call.region}")
        MEMBERS[(call.account, call.region, name)] = multi
        document["Clusters"].append({"ClusterName": name, "Region": call.region, "Status": "creating",
                                     "ARN": f"arn:aws:memorydb:{call.region}:{call.account}:cluster/{name}"})
    source = None
    if params.get("SnapshotName"):
        snapshot = backend.snapshots.get(params["SnapshotName"])
        if snapshot is None:
            raise _Error("SnapshotNotFoundFault", f"Snapshot {params['SnapshotName']} not found")
        if snapshot.status != "available":
            raise _Error("InvalidSnapshotStateFault", f"Snapshot {params['SnapshotName']} is {snapshot.status}")
        source = {"source": params["SnapshotName"], "snapshot_time": _snapshot_time(snapshot)}
    for arn in params.get("SnapshotArns") or []:
        bucket, dummy, key = arn.split(":::", 1)[-1].partition("/")
        try:
            body = _s3(call.account).get_object(bucket, key)
        except Exception:  # moto raises its own missing-bucket / missing-key types
            body = None
        if body is None:
            raise _Error("InvalidParameterValueException", f"The seed {arn} does not exist")
        try:
            seed = json.loads(body.value)
        except ValueError:
            seed = {}
        source = {"source": arn, "snapshot_time": seed.get("snapshot_time")}
    if source:
        RESTORES[(call.account, call.region, name)] = source
    return None


def correct_clusters(call, params):
    _advance()
    host = call.environ.get("HTTP_HOST") or ""
    port = int(host.rsplit(":", 1)[-1]) if ":" in host else int(call.environ.get("SERVER_PORT", "80"))
    backend = _backend(call.account, call.region)
    for name, cluster in list(backend.clusters.items()):
        key = ("cluster", call.account, call.region, name)
        if key not in SEEN:
            SEEN.add(key)
            cluster.status = "creating"
            multi = MEMBERS.get((call.account, call.region, name))

            def available(cluster=cluster, multi=multi, name=name, account=call.account, region=call.region):
                cluster.status = "available"
                for member in (MULTI.get(account, {}).get(multi) or {}).get("Clusters", []):
                    if member["ClusterName"] == name and member["Region"] == region:
                        member["Status"] = "available"

            _later(available)
        cluster.cluster_endpoint = {"Address": "127.0.0.1", "Port": port}
        cluster.multi_region_cluster_name = MEMBERS.get((call.account, call.region, name))
    for key in [k for k in SEEN if k[0] == "cluster" and k[1:3] == (call.account, call.region)]:
        if key[3] not in backend.clusters:
            SEEN.discard(key)  # deleted: a cluster created later under the name is created afresh
    return None


# ------------------------------------------------------------------------------------ snapshots
def correct_snapshots(call, params):
    _advance()
    backend = _backend(call.account, call.region)
    for name, snapshot in list(backend.snapshots.items()):
        key = ("snapshot", call.account, call.region, name)
        if key not in SEEN:
            SEEN.add(key)
            if snapshot.status == "available":
                snapshot.status = "creating"

                def available(snapshot=snapshot):
                    snapshot.status = "available"

                _later(available)
    return None


def copy_snapshot(call, params):
    backend = _backend(call.account, call.region)
    source = backend.snapshots.get(params.get("SourceSnapshotName"))
    if source is None:
        raise _Error("SnapshotNotFoundFault", f"Snapshot {params.get('SourceSnapshotName')} not found")
    if source.status != "available":
        raise _Error("InvalidSnapshotStateFault", f"Snapshot {source.snapshot_name} is {source.status}")
    target = params.get("TargetSnapshotName")
    bucket = params.get("TargetBucket")
    if not target:
        raise _Error("InvalidParameterValueException", "TargetSnapshotName is required")
    document = source.to_dict()
    if bucket:
        try:
            found = _s3(call.account).get_bucket(bucket)
        except Exception:  # moto's MissingBucket
            raise _Error("InvalidParameterValueException", f"S3 bucket {bucket} does not exist") from None
        if found.region_name != call.region:
            raise _Error("InvalidParameterValueException",
                         f"S3 bucket {bucket} is in {found.region_name}, not in the snapshot's region {call.region}")
        seed = {"cluster": source.cluster_name, "snapshot": source.snapshot_name,
                "snapshot_time": _snapshot_time(source), "node_type": source.cluster.node_type,
                "num_shards": source.cluster.num_shards, "engine_version": source.cluster.engine_version}

        def exported():
            _s3(call.account).put_object(bucket, f"{target}.rdb", json.dumps(seed).encode())

        _later(exported)
        return "CopySnapshot", {"Snapshot": dict(document, Name=target, Status="creating", Source="manual")}
    if target in backend.snapshots:
        raise _Error("SnapshotAlreadyExistsFault", f"Snapshot {target} already exists")
    copy = backend.create_snapshot(cluster_name=source.cluster_name, snapshot_name=target, source="manual") \
        if source.cluster_name in backend.clusters else None
    if copy is None:
        raise _Error("InvalidParameterValueException", "the source snapshot's cluster no longer exists")
    copy.shards = [dict(s) for s in source.shards]
    return "CopySnapshot", {"Snapshot": dict(document, Name=target, Status="creating")}


HANDLERS = {
    "CreateMultiRegionCluster": create_multi,
    "DescribeMultiRegionClusters": describe_multi,
    "CreateCluster": create_cluster,
    "DescribeClusters": correct_clusters,
    "DescribeSnapshots": correct_snapshots,
    "CopySnapshot": copy_snapshot,
}


def handle(call):
    operation = call.operation
    try:
        params = json.loads(call.body or b"{}")
    except ValueError:
        params = {}
    with STATE_LOCK:
        try:
            answer = HANDLERS[operation](call, params)
        except _Error as error:
            return _answer(operation, error)
    if answer is None:
        return None
    return _answer(*answer)


def tick():
    with STATE_LOCK:
        _advance()


# ------------------------------------------------------------------- moto corrections at import time
def _patch():
    try:
        from moto.core.resource_tagging import TaggableResourcesMixin
        from moto.core.resource_tagging import TaggedResource
        from moto.memorydb.models import MemoryDBBackend
        from moto.memorydb.models import MemoryDBCluster
    except ImportError:
        return
    original = MemoryDBCluster.to_dict

    def to_dict(self):
        document = original(self)
        if getattr(self, "multi_region_cluster_name", None):
            document["MultiRegionClusterName"] = self.multi_region_cluster_name
        return document

    MemoryDBCluster.to_dict = to_dict

    def iter_tagged_resources(self):
        for cluster in list(self.clusters.values()):
            tags = {t["Key"]: t["Value"] for t in self.list_tags(cluster.arn)}
            if tags:
                yield TaggedResource(arn=cluster.arn, tags=tags, resource_type="memorydb:cluster")
        for document in MULTI.get(self.account_id, {}).values():
            first = document["Clusters"][0]["Region"] if document["Clusters"] else None
            if first == self.region_name and document["_tags"]:
                yield TaggedResource(arn=document["ARN"], tags=dict(document["_tags"]),
                                     resource_type="memorydb:multiregioncluster")

    if TaggableResourcesMixin not in MemoryDBBackend.__mro__:
        MemoryDBBackend.__bases__ = MemoryDBBackend.__bases__ + (TaggableResourcesMixin,)
        MemoryDBBackend.SERVICE_NAMESPACE = "memorydb"
    MemoryDBBackend.iter_tagged_resources = iter_tagged_resources


_patch()
register("memorydb-multi-region-and-snapshots", "memorydb", handle, operations=HANDLERS, reset=reset, tick=tick,
         tick_services=("memorydb", "s3"))
