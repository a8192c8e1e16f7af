#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elasticache_global_datastore_info
short_description: Read ElastiCache global datastores and their members, and check they can fail over
version_added: 0.2.0
description:
  - One run reads every global datastore given (one client per account and region) with its members (region, role,
    status) and each member replication group (status, node type, engine, shards, primary endpoint).
  - Each datastore is checked for a promotion to its C(target_region) - the datastore available, the target member
    associated, node types, engines and shard counts equal - and each member's own C(Customer) and C(Environment)
    tags against O(customer) and O(environment) when O(customer) is given. The result says C(ready) and lists the
    C(problems); nothing is changed.
  - With O(tolerate_unreachable=true) (an emergency, the primary region does not answer) a member whose region does
    not answer is reported, not fatal, and only the target member is required.
options:
  datastores:
    description: The global datastores (from each host's C(dr_elasticache)).
    type: list
    elements: dict
    required: true
    suboptions:
      resource: {description: The host's C(dr_arn)., type: str, required: true}
      name: {description: The inventory host., type: str}
      account_id: {description: The account., type: str}
      global_replication_group_id: {description: The datastore's ID when discovered., type: str}
      replication_groups: {description: Replication group ID per region., type: dict, required: true}
      target_region: {description: The region whose member would become primary., type: str, required: true}
  tolerate_unreachable:
    description: Report members whose region does not answer instead of failing (emergency failover).
    type: bool
    default: false
  resumed:
    description:
      - The run is an interrupted execution run again. A datastore that is C(modifying) with every member
        C(associated) is then the promotion that execution asked before it was interrupted, and is reported ready
        (the failover waits for it and never asks for a second one) instead of "modifying, not available".
    type: bool
    default: false
  customer:
    description: When given, each member's C(Customer) tag must match (a mismatch is a problem).
    type: str
  environment:
    description: When given, each member's C(Environment) tag must match.
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
- name: Check the session store can fail over to us-west-2
  enterprise_dr.orchestration.elasticache_global_datastore_info:
    customer: acme
    datastores:
      - resource: arn:aws:elasticache:us-east-1:210987654321:replicationgroup:acme-prod-sessions
        replication_groups: {us-east-1: acme-prod-sessions, us-west-2: acme-prod-sessions-dr}
        target_region: us-west-2
  register: sessions
"""

RETURN = r"""
datastores:
  description: One row per datastore.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The host's ARN., type: str}
    name: {description: The inventory host., type: str}
    ready: {description: True when nothing stops the promotion., type: bool}
    problems: {description: "What stops it, with the resource named.", type: list, elements: str}
    status: {description: succeeded (ready) or failed., type: str}
    summary: {description: One line for people., type: str}
    global_datastore: {description: The datastore (snake_case) with its members., type: dict}
    replication_groups:
      description: Per region, the member's status, node type, engine, endpoint and tags.
      type: dict
    after: {description: The datastore state as the record keeps it., type: dict}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import elasticache as ec
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def read_one(factory, item, params):
    problems, groups, members = [], {}, {}
    if item["target_region"] not in item["replication_groups"]:
        names = ", ".join(item["replication_groups"].values()) or "it"
        problems.append(f"no member in {item['target_region']}: {names} "
                        f"is not in a global datastore with a secondary there (add that region to a global datastore, "
                        "or remove dr:enabled)")
    for region, group_id in item["replication_groups"].items():
        client = factory.client("elasticache", account_id=item.get("account_id"), region=region)
        try:
            group = ec.describe_group(client, group_id)
            tags = {}
            if group is not None:
                tags = ec.tags_of(client.list_tags_for_resource(ResourceName=group["ARN"]).get(
                    "TagList"))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            if params["tolerate_unreachable"] and region != item["target_region"]:
                members[region] = {"replication_group_id": group_id, "reachable": False, "error": str(e)}
                continue
            raise
        groups[region] = group
        if group is None:
            problems.append(f"replication group {group_id} in {region} not found")
            continue
        if params.get("customer"):
            violation = scope_violation(f"{group_id} ({region})", tags, params["customer"], params["environment"])
            if violation:
                problems.append(f"member {violation['message']}")
        members[region] = {
            "replication_group_id": group_id, "reachable": True, "status": group.get("Status"),
            "cache_node_type": group.get("CacheNodeType"), "engine": group.get("Engine"),
            "shards": len(group.get("NodeGroups") or []), "role": ec.group_role(group),
            "global_replication_group_id": ec.group_global_id(group),
            "endpoint": ":".join(str(p) for p in ec.primary_endpoint(group) or ()) or None, "tags": tags,
        }
    target_client = factory.client("elasticache", account_id=item.get("account_id"), region=item["target_region"])
    global_id = ec.group_global_id(groups.get(item["target_region"])) or item.get("global_replication_group_id")
    datastore = ec.describe_global(target_client, global_id)
    present = {r: g for r, g in groups.items() if g is not None}
    target = groups.get(item["target_region"])
    standalone = target is not None and not ec.group_global_id(target)
    if standalone:
        pass  # an emergency failover detached it: it is the primary already (REPLICATE re-associates the old region)
    elif target is not None and not params["tolerate_unreachable"]:
        problems.extend(ec.preflight_problems(datastore, present, item["target_region"], "failover",
                                              resumed=params["resumed"]))
        if datastore is not None and datastore.get("Status") == "primary-only" and len(item["replication_groups"]) > 1:
            problems.append(f"{global_id} has no secondary (an emergency failover detached it): run the failover's "
                            "REPLICATE first (-e '{\"phases\": [\"replicate\"]}')")
    promote = f"{item['replication_groups'].get(item['target_region'])} in {item['target_region']}"
    if problems:
        summary = f"{global_id}: {'; '.join(problems)}"
    elif standalone:
        summary = f"{promote} is a standalone primary already"
    elif params["resumed"] and ec.promotion_under_way(datastore) and ec.group_role(target) != "PRIMARY":
        summary = (f"{global_id}: the promotion of {promote} this execution asked before it was interrupted is "
                   "under way; the failover waits for it")
    else:
        summary = f"{global_id}: ready to promote {promote}"
    return {
        "resource": item["resource"], "name": item.get("name"), "ready": not problems, "problems": problems,
        "status": "succeeded" if not problems else "failed",
        "summary": summary,
        "global_datastore": boto3_resource_to_ansible_dict(datastore) if datastore else None,
        "replication_groups": members,
        "after": ec.snapshot_state(datastore, target, item["target_region"]),
    }


def main():
    argument_spec = dict(
        datastores=dict(type="list", elements="dict", required=True, options=dict(
            resource=dict(type="str", required=True),
            name=dict(type="str"),
            account_id=dict(type="str"),
            global_replication_group_id=dict(type="str"),
            replication_groups=dict(type="dict", required=True),
            target_region=dict(type="str", required=True),
        )),
        tolerate_unreachable=dict(type="bool", default=False),
        resumed=dict(type="bool", default=False),
        customer=dict(type="str"),
        environment=dict(type="str", aliases=["env"]),
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    items = [dict(d, replication_groups={str(k): str(v) for k, v in d["replication_groups"].items()})
             for d in params["datastores"]]
    try:
        factory = ClientFactory(module, params["accounts"])
        rows = map_concurrently(lambda item: read_one(factory, item, params), items)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the ElastiCache global datastores")
    module.exit_json(changed=False, datastores=rows)


if __name__ == "__main__":
    main()
