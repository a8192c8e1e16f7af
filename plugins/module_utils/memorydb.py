# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MemoryDB: multi-Region clusters (checked, never promoted) and single-Region clusters protected by snapshots.

A resource is one cluster, known by ``dr_memorydb``: its ``mode`` (``multi-region`` or ``snapshot``), the cluster
name per region (``clusters``) and, in snapshot mode, the S3 bucket of each region that holds exported snapshots
(``buckets``). MemoryDB has no cross-region snapshot copy: ``CopySnapshot`` with ``TargetBucket`` exports the RDB
file to an S3 bucket of the snapshot's region, S3 copies it to the DR region's bucket, and ``CreateCluster`` with
``SnapshotArns`` seeds a cluster from it there (reference/failover_apis.md section 4.2). The seed's snapshot time is
the recovery point (RPO). Every step reads live state first, so a re-run never restores or deletes twice.
"""

import datetime
import json

try:
    from botocore.exceptions import ClientError
except ImportError:
    ClientError = Exception  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting

TAG_SOURCE = "dr:memorydb-source"
TAG_ROLE = "dr:memorydb-role"
TAG_DRILL = "dr:drill-execution-id"


class MemoryDBError(Exception):
    def __init__(self, message, remediation):
        super().__init__(message)
        self.remediation = remediation


def code(exc):
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def describe_cluster(client, name):
    try:
        found = client.describe_clusters(ClusterName=name)["Clusters"]
    except ClientError as e:
        if code(e) == "ClusterNotFoundFault":
            return None
        raise
    return found[0] if found else None


def describe_multi(client, name):
    if not name:
        return None
    try:
        found = client.describe_multi_region_clusters(
            MultiRegionClusterName=name, ShowClusterDetails=True)["MultiRegionClusters"]
    except ClientError as e:
        if code(e) == "MultiRegionClusterNotFoundFault":
            return None
        raise
    return found[0] if found else None


def tags_of(client, arn):
    return {t["Key"]: t["Value"] for t in client.list_tags(ResourceArn=arn).get("TagList") or []}


def snapshot_time(snapshot):
    shards = ((snapshot or {}).get("ClusterConfiguration") or {}).get("Shards") or []
    times = [s.get("SnapshotCreationTime") for s in shards if s.get("SnapshotCreationTime")]
    return iso(max(times)) if times else None


def snapshots(client, cluster_name):
    try:
        return client.describe_snapshots(ClusterName=cluster_name, ShowDetail=True)["Snapshots"]
    except ClientError as e:
        if code(e) in ("ClusterNotFoundFault", "SnapshotNotFoundFault"):
            return []
        raise


def latest_snapshot(client, cluster_name):
    ready = [s for s in snapshots(client, cluster_name) if s.get("Status") == "available"]
    return max(ready, key=lambda s: snapshot_time(s) or "", default=None)


def snapshot_named(client, name):
    try:
        found = client.describe_snapshots(SnapshotName=name, ShowDetail=True)["Snapshots"]
    except ClientError as e:
        if code(e) == "SnapshotNotFoundFault":
            return None
        raise
    return found[0] if found else None


def read_seed(s3, bucket, key):
    """The exported RDB's document (cluster, snapshot, snapshot_time), or None when the object is absent."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        if code(e) in ("NoSuchKey", "404", "NoSuchBucket"):
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        return {}


def latest_seed(s3, bucket, prefix):
    """``(key, document)`` of the newest seed under ``prefix`` (by its snapshot time), or ``(None, None)``."""
    found = []
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents") or []:
                found.append(item["Key"])
    except ClientError as e:
        if code(e) == "NoSuchBucket":
            return None, None
        raise
    best = (None, None)
    for key in found:
        document = read_seed(s3, bucket, key) or {}
        if best[1] is None or (document.get("snapshot_time") or "") > (best[1].get("snapshot_time") or ""):
            best = (key, document)
    return best


def endpoint(cluster):
    found = (cluster or {}).get("ClusterEndpoint") or {}
    if found.get("Address"):
        return found["Address"], int(found.get("Port") or 6379)
    return None


def wait_until(predicate, read, timeout, interval, what):
    """Poll ``read()`` until ``predicate(state)``; returns the last state, raises MemoryDBError on timeout."""
    state, finished = waiting.until(read, timeout, interval, done=predicate)
    if not finished:
        raise MemoryDBError(f"timed out after {timeout} s waiting until {what}",
                            "re-run the same command: it resumes where it stopped (or raise wait_timeout_minutes)")
    return state


def short(execution_id):
    return (execution_id or "run").replace("-", "")[-8:].lower()
