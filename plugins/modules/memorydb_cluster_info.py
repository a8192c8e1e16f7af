#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: memorydb_cluster_info
short_description: Read MemoryDB clusters (multi-Region or snapshot-protected) and check they can fail over
version_added: 0.2.0
description:
  - One run reads every MemoryDB resource given (one client per account and region) and says C(ready) with the
    C(problems) that stop a failover to C(target_region). Nothing is changed.
  - Multi-Region clusters - the multi-Region cluster exists, the target regional cluster belongs to it and is
    available (nothing is ever promoted; clients move by DNS).
  - Snapshot-protected clusters - the source cluster is available with an available snapshot (or a seed already in
    the target region's bucket), both regions have an export bucket, and no other primary stands in the way.
  - Each cluster's own C(Customer) and C(Environment) tags are checked against O(customer) and O(environment).
  - With O(tolerate_unreachable=true) (an emergency) a source region that does not answer is reported, not fatal; a
    seed in the target bucket is then required.
options:
  clusters:
    description: The MemoryDB resources, as for M(enterprise_dr.orchestration.memorydb_failover).
    type: list
    elements: dict
    required: true
  tolerate_unreachable:
    description: Report a source region that does not answer instead of failing.
    type: bool
    default: false
  customer:
    description: When given, each cluster's C(Customer) tag must match.
    type: str
  environment:
    description: When given, each cluster's C(Environment) tag must match.
    type: str
    aliases: [env]
extends_documentation_fragment:
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Check the ledger can fail over
  enterprise_dr.orchestration.memorydb_cluster_info:
    customer: acme
    clusters: "{{ memorydb_items }}"
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
    ready: {description: True when nothing stops the failover., type: bool}
    problems: {description: What stops it., type: list, elements: str}
    status: {description: succeeded (ready) or failed., type: str}
    summary: {description: One line for people., type: str}
    after: {description: "Cluster states, the newest snapshot or seed and its time.", type: dict}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import memorydb as mdb
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def read_one(factory, item, params):
    def client(region, service="memorydb"):
        return factory.client(service, account_id=item.get("account_id"), region=region)

    problems, after = [], {"mode": item.get("mode"), "target_cluster": item.get("target_cluster"),
                           "target_region": item.get("target_region")}
    found = {}
    for role, region, name in (("source", item["source_region"], item["source_cluster"]),
                               ("target", item["target_region"], item["target_cluster"])):
        try:
            cluster = mdb.describe_cluster(client(region), name)
            tags = mdb.tags_of(client(region), cluster["ARN"]) if cluster else {}
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            if params["tolerate_unreachable"] and role == "source":
                after["source_status"] = "unreachable"
                after["source_error"] = str(e)
                continue
            raise
        found[role] = (cluster, tags)
        after[f"{role}_status"] = (cluster or {}).get("Status")
        after[f"{role}_role"] = tags.get(mdb.TAG_ROLE)
        if cluster and params.get("customer"):
            violation = scope_violation(f"{name} ({region})", tags, params["customer"], params["environment"])
            if violation:
                problems.append(violation["message"])
    source, dummy = found.get("source", (None, {}))
    target, target_tags = found.get("target", (None, {}))
    if item.get("mode") == "multi-region":
        multi = mdb.describe_multi(client(item["target_region"]), item.get("multi_region_cluster_name"))
        after["multi_region_cluster_name"] = item.get("multi_region_cluster_name")
        after["multi_region_status"] = (multi or {}).get("Status")
        members = {c.get("Region"): c for c in (multi or {}).get("Clusters") or []}
        if multi is None:
            problems.append(f"multi-Region cluster {item.get('multi_region_cluster_name')} not found")
        elif item["target_region"] not in members:
            problems.append(f"{item.get('multi_region_cluster_name')} has no cluster in {item['target_region']}")
        if target is None:
            problems.append(f"regional cluster {item['target_cluster']} in {item['target_region']} not found")
        elif target.get("Status") != "available":
            problems.append(f"{item['target_cluster']} in {item['target_region']} is {target.get('Status')}")
    else:
        buckets = item.get("buckets") or {}
        for region in (item["source_region"], item["target_region"]):
            if not buckets.get(region):
                problems.append(f"no snapshot export bucket for {region} (adapter_memorydb_buckets)")
        seed_key, seed = None, None
        if buckets.get(item["target_region"]):
            seed_key, seed = mdb.latest_seed(client(item["target_region"], "s3"), buckets[item["target_region"]],
                                             f"{item['cluster_name']}/")
        latest = mdb.latest_snapshot(client(item["source_region"]), item["source_cluster"]) if source else None
        after["latest_snapshot"] = (latest or {}).get("Name")
        after["latest_snapshot_time"] = mdb.snapshot_time(latest)
        after["latest_seed"] = seed_key
        after["recovery_point_time"] = after["latest_snapshot_time"] or (seed or {}).get("snapshot_time")
        promoted = target_tags.get(mdb.TAG_ROLE) == "primary"
        if source is None and after.get("source_status") != "unreachable" and not promoted:
            problems.append(f"the cluster {item['source_cluster']} in {item['source_region']} was not found")
        elif source is not None and source.get("Status") != "available" and not params["tolerate_unreachable"]:
            problems.append(f"{item['source_cluster']} in {item['source_region']} is {source.get('Status')}")
        if source is None and seed is None and target_tags.get(mdb.TAG_ROLE) != "primary":
            problems.append(f"no seed of {item['cluster_name']} in the {item['target_region']} bucket to restore from")
        if target is not None and target_tags.get(mdb.TAG_ROLE) not in ("standby", "primary", "drill"):
            problems.append(f"{item['target_cluster']} already exists in {item['target_region']} and was not made by "
                            "the collection (tag dr:memorydb-role=standby to let a run replace it)")
    summary = "; ".join(problems) if problems else (
        f"{item['target_cluster']} in {item['target_region']} ready" + (
            f" (seed from {after.get('latest_snapshot') or after.get('latest_seed')})"
            if item.get("mode") != "multi-region" else " (multi-Region: nothing is promoted)"))
    return {"resource": item["resource"], "name": item.get("name"), "ready": not problems, "problems": problems,
            "status": "failed" if problems else "succeeded", "summary": summary, "after": after}


def main():
    argument_spec = dict(
        clusters=dict(type="list", elements="dict", required=True),
        tolerate_unreachable=dict(type="bool", default=False),
        customer=dict(type="str"),
        environment=dict(type="str", aliases=["env"]),
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        factory = ClientFactory(module, params["accounts"])
        rows = map_concurrently(lambda item: read_one(factory, item, params), params["clusters"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the MemoryDB clusters")
    module.exit_json(changed=False, clusters=rows)


if __name__ == "__main__":
    main()
