#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: memorydb_failover
short_description: Restore, promote, replicate back or remove MemoryDB clusters protected by snapshots
version_added: 0.2.0
description:
  - One run handles every MemoryDB cluster of a wave (one client per account and region). Clusters of a multi-Region
    cluster are never promoted here (O(state=checked) checks the target regional cluster and its endpoint).
  - O(state=restored) makes the target cluster from the source cluster's newest snapshot. MemoryDB has no cross-region
    copy, so the snapshot is exported to the source region's bucket (C(CopySnapshot) with C(TargetBucket)), copied by
    S3 to the target region's bucket, and the cluster is seeded from it (C(CreateCluster) with C(SnapshotArns)). When
    the source region does not answer (emergency) the newest seed already in the target bucket is used (copied ahead
    by REPLICATE or a schedule). A target that already exists is used when this execution restored it; a stale standby
    of an earlier cycle is deleted first (a final snapshot is kept); a primary is never deleted.
  - O(state=primary) checks a TCP connection to the target cluster's endpoint and marks it C(dr:memorydb-role=primary)
    (the other cluster C(standby) when it answers). O(state=replicated) snapshots the target cluster and copies the
    export back to the source region's bucket. O(state=absent) removes the target cluster (a drill copy, or the
    standby after a failback) and the objects this execution exported.
  - Live state is read first, so a re-run never restores, promotes or deletes twice. The scope guard checks the
    C(Customer)/C(Environment) tags of every cluster of the resource that answers before any change.
options:
  clusters:
    description: The MemoryDB resources (from each host's C(dr_memorydb)).
    type: list
    elements: dict
    required: true
    suboptions:
      resource: {description: The host's C(dr_arn)., type: str, required: true}
      name: {description: The inventory host., type: str}
      account_id: {description: The account., type: str}
      mode: {description: C(snapshot) or C(multi-region)., type: str, default: snapshot}
      cluster_name: {description: The protected cluster's name (prefix of its seeds)., type: str, required: true}
      multi_region_cluster_name: {description: The multi-Region cluster (C(mode=multi-region))., type: str}
      source_region: {description: The region whose cluster holds the data now., type: str, required: true}
      source_cluster: {description: The cluster in the source region., type: str, required: true}
      target_region: {description: The region to restore into or promote., type: str, required: true}
      target_cluster:
        description: The cluster to make or promote in the target region.
        type: str
        required: true
      buckets:
        description: "S3 bucket per region for exported snapshots, for example C({us-east-1: b1, us-west-2: b2})."
        type: dict
        default: {}
      node_type: {description: Node type of a restored cluster (default that of the source or seed)., type: str}
      tags:
        description: Tags of the protected cluster (its C(dr_tags)), written on restored clusters.
        type: dict
        default: {}
  state:
    description: C(restored), C(primary), C(replicated), C(absent) or C(checked).
    type: str
    choices: [restored, primary, replicated, absent, checked]
    default: restored
  execution_id:
    description: The run; it names exports and seeds and tags restored clusters.
    type: str
    required: true
  emergency:
    description:
      - The source region does not answer (emergency failover) - it is neither read nor changed; the newest seed
        already in the target bucket is restored.
    type: bool
    default: false
  drill:
    description: A drill copy (no C(dr:enabled) on it, its seeds removed with it).
    type: bool
    default: false
  connectivity_timeout:
    description: Seconds for the TCP connection to an endpoint.
    type: float
    default: 5
extends_documentation_fragment:
  - enterprise_dr.orchestration.scope
  - enterprise_dr.orchestration.accounts
  - enterprise_dr.orchestration.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Restore the DR cluster from the newest snapshot
  enterprise_dr.orchestration.memorydb_failover:
    customer: acme
    execution_id: "{{ dr_run.execution_id }}"
    state: restored
    clusters:
      - resource: arn:aws:memorydb:us-east-1:210987654321:cluster/acme-prod-ledger
        cluster_name: acme-prod-ledger
        source_region: us-east-1
        source_cluster: acme-prod-ledger
        target_region: us-west-2
        target_cluster: acme-prod-ledger-dr
        buckets: {us-east-1: edr-memorydb-210987654321-us-east-1, us-west-2: edr-memorydb-210987654321-us-west-2}
"""

RETURN = r"""
clusters:
  description: One row per resource.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The host's ARN., type: str}
    name: {description: The inventory host., type: str}
    changed: {description: Whether anything changed (or would)., type: bool}
    plan: {description: What would happen or happened., type: str}
    status: {description: "succeeded, failed or skipped (check mode).", type: str}
    summary: {description: One line for people., type: str}
    before: {description: Target and source cluster states before., type: dict}
    after:
      description: Target state, connectivity, seed and recovery_point_time (the seed's snapshot time).
      type: dict
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
diff:
  description: Before and after per resource that changed (or would).
  returned: when changed
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import memorydb as mdb
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.connectivity import check_connectivity
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

RESTORED_BY = "dr:memorydb-restored-by"
SEED = "dr:memorydb-seed"  # the seed a restored cluster came from (bucket/key): its snapshot time is the RPO


class Runner:
    def __init__(self, module, factory):
        self.module, self.factory, self.params = module, factory, module.params
        self.tag = mdb.short(self.params["execution_id"])

    def c(self, item, region, service="memorydb"):
        return self.factory.client(service, account_id=item.get("account_id"), region=region)

    def wait(self, predicate, read, what):
        if not self.params["wait"]:
            return read()
        return mdb.wait_until(predicate, read, self.params["wait_timeout"], max(1, self.params["poll_interval"]), what)

    def names(self, item):
        export = f"{item['cluster_name']}-{self.tag}"
        return {"export_key": f"{export}.rdb", "export": export,
                "seed_key": f"{item['cluster_name']}/{self.tag}.rdb",
                "snapshot": f"{item['cluster_name']}-dr-{self.tag}",
                "back_snapshot": f"{item['target_cluster']}-back-{self.tag}",
                "back_export": f"{item['target_cluster']}-back-{self.tag}",
                "back_key": f"{item['cluster_name']}/{self.tag}-back.rdb"}

    def read(self, item):
        state = self.params["state"]
        target = mdb.describe_cluster(self.c(item, item["target_region"]), item["target_cluster"])
        source, source_error = None, None
        if self.params["emergency"]:
            source_error = "not asked: emergency failover (the source region does not answer)"
        else:
            try:
                source = mdb.describe_cluster(self.c(item, item["source_region"]), item["source_cluster"])
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                if state not in ("restored", "primary"):
                    raise
                source_error = str(e)
        tags = {}
        for region, cluster in ((item["target_region"], target), (item["source_region"], source)):
            if cluster is not None:
                tags[cluster["Name"]] = mdb.tags_of(self.c(item, region), cluster["ARN"])
        return target, source, source_error, tags

    # --------------------------------------------------------------------------------------------- plan
    def plan(self, item):
        state = self.params["state"]
        target, source, source_error, tags = self.read(item)
        target_tags = tags.get(item["target_cluster"], {}) if target else {}
        before = {"target_cluster": item["target_cluster"], "target_region": item["target_region"],
                  "target_status": (target or {}).get("Status"), "target_role": target_tags.get(mdb.TAG_ROLE),
                  "source_cluster": item["source_cluster"], "source_region": item["source_region"],
                  "source_status": (source or {}).get("Status") if not source_error else "unreachable"}
        actions = []
        if state == "checked":
            if target is None:
                raise mdb.MemoryDBError(f"the regional cluster {item['target_cluster']} in {item['target_region']} "
                                        "was not found", "add the region to the multi-Region cluster")
        elif state == "restored":
            # Restored by this execution (a resumed run), or the primary already (an earlier failover): done.
            ours = target_tags.get(RESTORED_BY) == self.params["execution_id"]
            promoted = not self.params["drill"] and target_tags.get(mdb.TAG_ROLE) == "primary"
            fresh = target is not None and (ours or promoted)
            if target is not None and not fresh:
                if not target_tags.get(mdb.TAG_ROLE) or target_tags.get(mdb.TAG_ROLE) == "primary":
                    raise mdb.MemoryDBError(
                        f"{item['target_cluster']} already exists in {item['target_region']} and is not a standby "
                        f"(dr:memorydb-role={target_tags.get(mdb.TAG_ROLE)!r})",
                        "check which cluster clients use; delete or rename the stale cluster, or tag it "
                        "dr:memorydb-role=standby to let the run replace it (a final snapshot is kept)")
                actions.append("retire-stale-target")
            if not fresh:
                if source is not None:
                    actions += ["export", "copy-seed"]
                elif source_error is None and source is None and target is None:
                    pass  # the source cluster is gone: the newest seed in the target bucket is used
                actions.append("restore")
        elif state == "primary":
            if target is None:
                raise mdb.MemoryDBError(f"{item['target_cluster']} does not exist in {item['target_region']}",
                                        "run INSTANTIATE (it restores the cluster) before ACTIVATE")
            if target_tags.get(mdb.TAG_ROLE) != "primary":
                actions.append("mark-primary")
            if source is not None and tags.get(item["source_cluster"], {}).get(mdb.TAG_ROLE) != "standby":
                actions.append("mark-standby")
        elif state == "replicated":
            if target is None:
                raise mdb.MemoryDBError(f"{item['target_cluster']} does not exist in {item['target_region']}",
                                        "fail over first: REPLICATE copies the new primary's snapshots back")
            s3 = self.c(item, item["source_region"], "s3")
            if mdb.read_seed(s3, item["buckets"][item["source_region"]], self.names(item)["back_key"]) is None:
                actions.append("replicate-back")
        elif state == "absent":
            if target is not None:
                if not self.params["drill"] and target_tags.get(mdb.TAG_ROLE) == "primary":
                    raise mdb.MemoryDBError(f"{item['target_cluster']} is the primary", "fail back first")
                actions.append("delete-target")
            if self.params["drill"]:
                actions.append("delete-seeds")
        return {"item": item, "target": target, "source": source, "source_error": source_error, "tags": tags,
                "before": before, "actions": actions}

    # -------------------------------------------------------------------------------------------- apply
    def apply(self, planned):
        item = planned["item"]
        names = self.names(item)
        target_client = self.c(item, item["target_region"])
        seed_arn, seed_doc = None, None
        for action in planned["actions"]:
            if action == "retire-stale-target":
                target_client.delete_cluster(ClusterName=item["target_cluster"],
                                             FinalSnapshotName=f"{item['target_cluster']}-final-{self.tag}")
                self.wait(lambda cl: cl is None, lambda: mdb.describe_cluster(target_client, item["target_cluster"]),
                          f"the stale {item['target_cluster']} is deleted")
            elif action == "export":
                # From a cluster that is primary now (a failback from the DR copy) take a fresh snapshot; from a
                # protected cluster use its newest one (the RPO is that snapshot's time).
                live = planned["tags"].get(item["source_cluster"], {}).get(mdb.TAG_ROLE) == "primary"
                self.export(item, item["source_region"], item["source_cluster"], names["snapshot"], names["export"],
                            fresh=live)
            elif action == "copy-seed":
                self.copy_object(item, item["source_region"], names["export_key"], item["target_region"],
                                 names["seed_key"])
            elif action == "restore":
                seed_arn, seed_doc = self.restore(item, planned, names)
            elif action == "mark-primary":
                target_client.tag_resource(ResourceArn=planned["target"]["ARN"],
                                           Tags=[{"Key": mdb.TAG_ROLE, "Value": "primary"}])
            elif action == "mark-standby":
                self.c(item, item["source_region"]).tag_resource(
                    ResourceArn=planned["source"]["ARN"], Tags=[{"Key": mdb.TAG_ROLE, "Value": "standby"}])
            elif action == "replicate-back":
                self.export(item, item["target_region"], item["target_cluster"], names["back_snapshot"],
                            names["back_export"], fresh=True)
                self.copy_object(item, item["target_region"], f"{names['back_export']}.rdb", item["source_region"],
                                 names["back_key"])
            elif action == "delete-target":
                final = {} if self.params["drill"] else {
                    "FinalSnapshotName": f"{item['target_cluster']}-final-{self.tag}"}
                target_client.delete_cluster(ClusterName=item["target_cluster"], **final)
                self.wait(lambda cl: cl is None,
                          lambda: mdb.describe_cluster(target_client, item["target_cluster"]),
                          f"{item['target_cluster']} is deleted")
            elif action == "delete-seeds":
                self.delete_drill_objects(item, names)
        return self.finish(item, planned, seed_arn, seed_doc)

    def export(self, item, region, cluster_name, snapshot_name, export_name, fresh=False):
        """Export the cluster's newest snapshot (one is taken when it has none, or always when ``fresh``)."""
        client, s3 = self.c(item, region), self.c(item, region, "s3")
        bucket = item["buckets"][region]
        if mdb.read_seed(s3, bucket, f"{export_name}.rdb") is not None:
            return
        snapshot = None if fresh else mdb.latest_snapshot(client, cluster_name)
        if snapshot is None:
            if mdb.snapshot_named(client, snapshot_name) is None:
                client.create_snapshot(ClusterName=cluster_name, SnapshotName=snapshot_name,
                                       Tags=[{"Key": mdb.TAG_DRILL if self.params["drill"] else RESTORED_BY,
                                              "Value": self.params["execution_id"]}])
            snapshot = self.wait(lambda s: s is not None and s.get("Status") == "available",
                                 lambda: mdb.snapshot_named(client, snapshot_name),
                                 f"snapshot {snapshot_name} is available")
        client.copy_snapshot(SourceSnapshotName=snapshot["Name"], TargetSnapshotName=export_name,
                             TargetBucket=bucket)
        self.wait(lambda d: d is not None, lambda: mdb.read_seed(s3, bucket, f"{export_name}.rdb"),
                  f"the export s3://{bucket}/{export_name}.rdb exists")

    def copy_object(self, item, from_region, from_key, to_region, to_key):
        s3 = self.c(item, to_region, "s3")
        if mdb.read_seed(s3, item["buckets"][to_region], to_key) is None:
            s3.copy_object(Bucket=item["buckets"][to_region], Key=to_key,
                           CopySource={"Bucket": item["buckets"][from_region], "Key": from_key})

    def restore(self, item, planned, names):
        s3 = self.c(item, item["target_region"], "s3")
        bucket = item["buckets"][item["target_region"]]
        key, document = names["seed_key"], mdb.read_seed(s3, bucket, names["seed_key"])
        if document is None:
            key, document = mdb.latest_seed(s3, bucket, f"{item['cluster_name']}/")
        if document is None:
            raise mdb.MemoryDBError(
                f"no seed of {item['cluster_name']} in s3://{bucket} and the source cluster did not answer",
                "copy a snapshot export to the DR bucket ahead of time (REPLICATE of a failover does), then re-run")
        tags = {k: v for k, v in (item.get("tags") or {}).items()
                if not (self.params["drill"] and (k.startswith("dr:") or k == "Name"))}
        tags.update({RESTORED_BY: self.params["execution_id"], SEED: f"{bucket}/{key}",
                     mdb.TAG_ROLE: "drill" if self.params["drill"] else "standby"})
        if item["target_cluster"] != item["cluster_name"]:
            tags[mdb.TAG_SOURCE] = item["cluster_name"]  # a copy (a failback restores the cluster itself)
        else:
            tags.pop(mdb.TAG_SOURCE, None)
        if self.params["drill"]:
            tags[mdb.TAG_DRILL] = self.params["execution_id"]
        source = planned.get("source") or {}
        arn = f"arn:aws:s3:::{bucket}/{key}"
        client = self.c(item, item["target_region"])
        client.create_cluster(
            ClusterName=item["target_cluster"], SnapshotArns=[arn],
            NodeType=item.get("node_type") or source.get("NodeType") or document.get("node_type") or "db.r6g.large",
            ACLName=source.get("ACLName") or "open-access", NumShards=int(document.get("num_shards") or 1),
            Tags=[{"Key": k, "Value": str(v)} for k, v in tags.items()])
        self.wait(lambda cl: cl is not None and cl.get("Status") == "available",
                  lambda: mdb.describe_cluster(client, item["target_cluster"]),
                  f"{item['target_cluster']} in {item['target_region']} is available")
        return arn, document

    def delete_drill_objects(self, item, names):
        for region, key in ((item["source_region"], names["export_key"]), (item["target_region"], names["seed_key"])):
            bucket = (item.get("buckets") or {}).get(region)
            if not bucket:
                continue
            s3 = self.c(item, region, "s3")
            if mdb.read_seed(s3, bucket, key) is not None:
                s3.delete_object(Bucket=bucket, Key=key)
        client = self.c(item, item["source_region"])
        if mdb.snapshot_named(client, names["snapshot"]) is not None:
            client.delete_snapshot(SnapshotName=names["snapshot"])

    def finish(self, item, planned, seed_arn, seed_doc):
        client = self.c(item, item["target_region"])
        target = mdb.describe_cluster(client, item["target_cluster"])
        after = {"target_cluster": item["target_cluster"] if target else None, "target_region": item["target_region"],
                 "target_status": (target or {}).get("Status")}
        if self.params["state"] == "absent":
            # Entries keep what earlier phases wrote (None is left out): say what was removed instead.
            after.update(removed_cluster=item["target_cluster"] if "delete-target" in planned["actions"] else None,
                         target_exists=target is not None)
        if target is None:
            return after
        tags = mdb.tags_of(client, target["ARN"])
        after["target_role"] = tags.get(mdb.TAG_ROLE)
        if self.params["state"] in ("restored", "primary", "checked"):
            after["connectivity"] = check_connectivity(mdb.endpoint(target), self.params["connectivity_timeout"])
        snapshot_mode = item.get("mode") != "multi-region"
        if seed_doc is None and snapshot_mode and tags.get(SEED) and self.params["state"] in (
                "restored", "primary", "checked"):
            # A resumed run, or a later phase: the cluster names the seed it was restored from.
            bucket, dummy, key = tags[SEED].partition("/")
            seed_doc = mdb.read_seed(self.c(item, item["target_region"], "s3"), bucket, key)
            seed_arn = seed_arn or f"arn:aws:s3:::{bucket}/{key}"
        if seed_doc:
            after.update(seed=seed_arn, restored_from_snapshot=seed_doc.get("snapshot"),
                         recovery_point_time=seed_doc.get("snapshot_time"))
        if self.params["state"] == "checked" and not snapshot_mode:
            after["multi_region_cluster_name"] = target.get("MultiRegionClusterName")
            # Active-active: the regional cluster holds current data, less the replication lag CloudWatch reports.
            after["recovery_point_time"] = mdb.iso(mdb.utc_now())
        return after


WORDS = {
    "retire-stale-target": "delete the stale standby {target_cluster} in {target_region} (final snapshot kept)",
    "export": "export the newest snapshot of {source_cluster} to s3://{source_bucket}",
    "copy-seed": "copy it to s3://{target_bucket} ({target_region})",
    "restore": "restore {target_cluster} in {target_region} from the seed",
    "mark-primary": "TCP check {target_cluster}, mark it dr:memorydb-role=primary",
    "mark-standby": "mark {source_cluster} ({source_region}) standby",
    "replicate-back": "snapshot {target_cluster}, copy the export back to s3://{source_bucket}",
    "delete-target": "delete {target_cluster} in {target_region}",
    "delete-seeds": "delete the drill's exports and seed",
}


def describe(item, actions, state):
    fields = dict(item, source_bucket=(item.get("buckets") or {}).get(item["source_region"]),
                  target_bucket=(item.get("buckets") or {}).get(item["target_region"]))
    if not actions:
        return {"checked": "check {target_cluster} in {target_region} (multi-Region: nothing is promoted) and TCP "
                           "to its endpoint",
                "primary": "{target_cluster} is the primary already: TCP check only"}.get(
            state, "nothing to do").format(**fields)
    return "; ".join(WORDS[a].format(**fields) for a in actions)


def main():
    argument_spec = dict(
        clusters=dict(type="list", elements="dict", required=True, options=dict(
            resource=dict(type="str", required=True), name=dict(type="str"), account_id=dict(type="str"),
            mode=dict(type="str", default="snapshot"), cluster_name=dict(type="str", required=True),
            multi_region_cluster_name=dict(type="str"),
            source_region=dict(type="str", required=True), source_cluster=dict(type="str", required=True),
            target_region=dict(type="str", required=True), target_cluster=dict(type="str", required=True),
            buckets=dict(type="dict", default={}), node_type=dict(type="str"), tags=dict(type="dict", default={}),
        )),
        state=dict(type="str", choices=["restored", "primary", "replicated", "absent", "checked"], default="restored"),
        execution_id=dict(type="str", required=True),
        drill=dict(type="bool", default=False),
        emergency=dict(type="bool", default=False),
        connectivity_timeout=dict(type="float", default=5),
        **SCOPE_ARGUMENT_SPEC, **ACCOUNTS_ARGUMENT_SPEC, **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    items = params["clusters"]
    try:
        runner = Runner(module, ClientFactory(module, params["accounts"]))

        def plan_one(item):
            try:
                return runner.plan(item)
            except mdb.MemoryDBError as e:
                return {"item": item, "error": str(e), "remediation": e.remediation}

        plans = map_concurrently(plan_one, items)
        # The scope guard: every cluster of every resource that will change, before the first change.
        check_scope([(f"{name} (cluster of {p['item']['resource']})", tags) for p in plans if p.get("actions")
                     for name, tags in p["tags"].items()], params["customer"], params["environment"])

        def run(planned):
            if planned.get("error") or module.check_mode:
                return None
            try:
                return runner.apply(planned)
            except mdb.MemoryDBError as e:
                return e
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                return mdb.MemoryDBError(f"{type(e).__name__}: {e}", "fix the cause and re-run the same command")

        results = map_concurrently(run, plans)
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the MemoryDB clusters; nothing was changed")

    rows = []
    for planned, result in zip(plans, results):
        item = planned["item"]
        row = {"resource": item["resource"], "name": item.get("name")}
        if planned.get("error"):
            row.update(status="failed", changed=False, error=planned["error"], remediation=planned["remediation"],
                       plan=f"refused: {planned['error']}", summary=f"not changed: {planned['error']}")
            rows.append(row)
            continue
        plan = describe(item, planned["actions"], params["state"])
        row.update(changed=bool(planned["actions"]), plan=plan, before=planned["before"])
        if module.check_mode:
            row.update(status="skipped", summary=f"would: {plan}")
        elif isinstance(result, mdb.MemoryDBError):
            row.update(status="failed", error=str(result), remediation=result.remediation, summary=f"failed: {result}")
        else:
            row["after"] = result or {}
            connectivity = row["after"].get("connectivity")
            if connectivity and not connectivity["reachable"]:
                row.update(status="failed", error=f"no TCP connection to {connectivity['endpoint']}: "
                                                  f"{connectivity.get('error')}",
                           remediation=f"check {item['target_cluster']}'s security groups and status, then re-run")
            else:
                row["status"] = "succeeded"
            row["summary"] = f"{plan}" + (f"; TCP {connectivity['endpoint']} "
                                          f"{'ok' if connectivity['reachable'] else 'FAILED'}" if connectivity else "")
        rows.append(row)
    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, clusters=rows)
    if changed:
        result["diff"] = {"before": {r["resource"]: r.get("before") for r in rows if r["changed"]},
                          "after": {r["resource"]: r.get("after", {"plan": r["plan"]}) for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
