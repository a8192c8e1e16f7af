#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elasticache_global_failover
short_description: Promote, detach or re-protect the members of ElastiCache global datastores
version_added: 0.2.0
description:
  - One run handles every global datastore of a wave (one client per account and region).
  - With O(state=promoted) (a planned failover, or a failback) the member in each datastore's C(target_region)
    becomes primary with C(FailoverGlobalReplicationGroup); the module waits until its role is PRIMARY and the
    datastore is available, then opens a TCP connection to its primary endpoint.
  - With O(state=detached) (an emergency failover, the primary region does not answer) the target member is
    disassociated from the datastore in its own region, so it becomes a standalone primary; then the same
    connectivity check.
  - With O(state=reprotected) (REPLICATE after an emergency failover) the old region becomes a secondary of the
    promoted group again. ElastiCache cannot add an existing cluster as a secondary, so the old datastore
    (primary-only) and the stale old-region replication group are deleted, a new datastore is created with the
    promoted group as primary, and the old region's group is created again (same ID) as its secondary. After a
    planned failover the old region is still a secondary and nothing is changed.
  - Live state is read first, so a re-run never promotes or detaches twice (a promotion in progress is waited
    for, not repeated). When the C(modifying) datastore waited for ends with the target member still a secondary
    (the change under way was not a promotion to it), the target is promoted then, once.
  - Before any change the C(Customer) and C(Environment) tags of every member replication group that answers are
    checked against O(customer) and O(environment); a member of another customer stops the task before any change.
  - Check mode makes no change and returns a C(plan) line per datastore.
options:
  datastores:
    description: The global datastores (from each host's C(dr_elasticache)).
    type: list
    elements: dict
    required: true
    suboptions:
      resource:
        description: The host's C(dr_arn) (record entries are keyed by it).
        type: str
        required: true
      name:
        description: The inventory host.
        type: str
      account_id:
        description: The account of the datastore.
        type: str
      global_replication_group_id:
        description: The datastore's ID when it was discovered (the live membership of the groups wins).
        type: str
      replication_groups:
        description: "Replication group ID per region, for example C({us-east-1: sessions, us-west-2: sessions-dr})."
        type: dict
        required: true
      target_region:
        description: The region whose member becomes primary.
        type: str
        required: true
  state:
    description: C(promoted) (planned failover, failback), C(detached) (emergency) or C(reprotected) (REPLICATE).
    type: str
    choices: [promoted, detached, reprotected]
    default: promoted
  connectivity_timeout:
    description: Seconds to wait for the TCP connection to the primary endpoint.
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
- name: Promote the DR member of the session store
  enterprise_dr.orchestration.elasticache_global_failover:
    customer: acme
    environment: production
    state: promoted
    datastores:
      - resource: arn:aws:elasticache:us-east-1:210987654321:replicationgroup:acme-prod-sessions
        account_id: "210987654321"
        replication_groups: {us-east-1: acme-prod-sessions, us-west-2: acme-prod-sessions-dr}
        target_region: us-west-2
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
    changed: {description: Whether the datastore changed (or would in check mode)., type: bool}
    actions: {description: The calls made (or that would be made)., type: list, elements: str}
    plan: {description: What would happen (check mode) or happened., type: str}
    status: {description: succeeded or failed., type: str}
    summary: {description: One line for people., type: str}
    before: {description: Roles and states before., type: dict}
    after: {description: "Roles, states, the connectivity check and recovery_point_time after.", type: dict}
    replication_lag_seconds:
      description: GlobalDatastoreReplicationLag of the target member before the switch.
      type: float
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
diff:
  description: Before and after per datastore that changed.
  returned: when changed
  type: dict
"""

import functools

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import elasticache as ec
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


class Runner:
    def __init__(self, module, factory):
        self.module = module
        self.factory = factory
        self.params = module.params
        self.interval = max(1, self.params["poll_interval"])

    def client(self, item, region, service="elasticache"):
        return self.factory.client(service, account_id=item.get("account_id"), region=region)

    def read_groups(self, item, tolerate=False):
        """``{region: group or None}``; regions that do not answer are left out when ``tolerate``."""
        groups, unreachable = {}, {}
        for region, group_id in item["replication_groups"].items():
            try:
                groups[region] = ec.describe_group(self.client(item, region), group_id)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                if not tolerate:
                    raise
                unreachable[region] = str(e)
        return groups, unreachable

    def read_datastore(self, item, groups):
        region = item["target_region"]
        global_id = ec.group_global_id(groups.get(region)) or item.get("global_replication_group_id")
        datastore = ec.describe_global(self.client(item, region), global_id)
        if datastore is None and global_id != item.get("global_replication_group_id"):
            datastore = ec.describe_global(self.client(item, region), item.get("global_replication_group_id"))
        return datastore

    def scope_members(self, item, groups):
        members = []
        for region, group in groups.items():
            if group is None:
                continue
            arn = group.get("ARN") or ec.rg_arn(item.get("account_id"), region, group["ReplicationGroupId"])
            tags = ec.tags_of(self.client(item, region).list_tags_for_resource(
                ResourceName=arn).get("TagList"))
            members.append((f"{group['ReplicationGroupId']} ({region}, member of {item['resource']})", tags))
        return members

    # --------------------------------------------------------------------------------- planning
    def plan(self, item):
        """Read everything, decide the actions; no change."""
        state = self.params["state"]
        groups, unreachable = self.read_groups(item, tolerate=state == "detached")
        target_region = item["target_region"]
        target = groups.get(target_region)
        if target is None:
            raise ec.ElastiCacheError(
                f"replication group {item['replication_groups'].get(target_region)} in {target_region} not found",
                "check the host's dr_elasticache.replication_groups (re-run discovery) or leave the resource out")
        datastore = self.read_datastore(item, groups)
        before = ec.snapshot_state(datastore, target, target_region)
        if unreachable:
            before["unreachable_regions"] = sorted(unreachable)
        actions = []
        if state == "promoted":
            if before["target_role"] == "STANDALONE":
                # An emergency failover detached it: it is the primary already, never promoted twice.
                return {"groups": groups, "datastore": datastore, "before": before, "actions": []}
            if before["target_role"] != "PRIMARY" or (datastore or {}).get("Status") == "modifying":
                if datastore is None:
                    raise ec.ElastiCacheError("the global datastore was not found",
                                              "check the datastore in the ElastiCache console; re-run discovery")
                if datastore.get("Status") == "modifying":
                    actions.append("wait")  # a promotion (ours, before an interruption) is under way
                else:
                    problems = ec.preflight_problems(datastore, groups, target_region, "failover")
                    if problems:
                        raise ec.ElastiCacheError(
                            "; ".join(problems),
                            "wait until the datastore is available and every member associated, then re-run")
                    actions.append("failover")
        elif state == "detached":
            if ec.group_global_id(target):
                tmember = ec.member(datastore, target_region)
                if tmember and (tmember.get("Role") or "").upper() == "PRIMARY" and len(datastore["Members"]) == 1:
                    pass
                elif tmember and tmember.get("Status") == "disassociating":
                    actions.append("wait")
                elif tmember and (tmember.get("Role") or "").upper() == "PRIMARY":
                    pass  # already the primary (a planned failover happened): nothing to detach
                else:
                    actions.append("disassociate")
        else:
            actions = self.reprotect_actions(item, groups, datastore, before)
        return {"groups": groups, "datastore": datastore, "before": before, "actions": actions}

    def reprotect_actions(self, item, groups, datastore, before):
        target_region = item["target_region"]
        target = groups[target_region]
        old_regions = [r for r in item["replication_groups"] if r != target_region]
        actions = []
        if ec.group_global_id(target):
            missing = [r for r in old_regions if ec.member(datastore, r) is None]
            if ec.group_role(target) == "PRIMARY" and missing:
                actions += [f"create-secondary:{r}" for r in missing]
            return actions
        # Standalone after an emergency failover: retire the old datastore and the stale old-region group.
        old_global = ec.describe_global(self.client(item, target_region), item.get("global_replication_group_id"))
        if old_global is not None:
            actions.append("delete-old-datastore")
        for region in old_regions:
            if groups.get(region) is not None:
                actions.append(f"delete-stale-group:{region}")
        actions.append("create-datastore")
        actions += [f"create-secondary:{r}" for r in old_regions]
        return actions

    # ---------------------------------------------------------------------------------- applying
    def apply(self, item, planned):
        region = item["target_region"]
        client = self.client(item, region)
        group_id = item["replication_groups"][region]
        datastore = planned["datastore"]
        lag = None
        if any(a in ("failover", "disassociate") for a in planned["actions"]):
            lag = ec.replication_lag_seconds(self.client(item, region, "cloudwatch"), group_id)
        switched_at = None
        for action in planned["actions"]:
            if action == "failover":
                client.failover_global_replication_group(
                    GlobalReplicationGroupId=datastore["GlobalReplicationGroupId"], PrimaryRegion=region,
                    PrimaryReplicationGroupId=group_id)
                switched_at = ec.utc_now()
            elif action == "wait" and self.params["state"] == "promoted" and self.params["wait"]:
                # The modification under way is most likely this execution's promotion, asked before an interruption;
                # if it ends with the target still a secondary, it was something else: promote now, once.
                global_id = datastore["GlobalReplicationGroupId"]
                datastore = self.wait(lambda d: d is None or d.get("Status") != "modifying",
                                      functools.partial(ec.describe_global, client, global_id),
                                      f"the modification of {global_id} under way ends")
                if datastore is not None and (ec.member(datastore, region) or {}).get("Role") != "PRIMARY":
                    problems = ec.preflight_problems(datastore, planned["groups"], region, "failover")
                    if problems:
                        raise ec.ElastiCacheError(
                            "; ".join(problems),
                            "wait until the datastore is available and every member associated, then re-run")
                    lag = ec.replication_lag_seconds(self.client(item, region, "cloudwatch"), group_id)
                    client.failover_global_replication_group(
                        GlobalReplicationGroupId=global_id, PrimaryRegion=region, PrimaryReplicationGroupId=group_id)
                    switched_at = ec.utc_now()
            elif action == "disassociate":
                peers = ",".join(f"{r}={g}" for r, g in sorted(item["replication_groups"].items()) if r != region)
                client.add_tags_to_resource(
                    ResourceName=planned["groups"][region]["ARN"],
                    Tags=[{"Key": ec.TAG_DETACHED_FROM, "Value": datastore["GlobalReplicationGroupId"]},
                          {"Key": ec.TAG_DETACHED_PEERS, "Value": peers}])
                client.disassociate_global_replication_group(
                    GlobalReplicationGroupId=datastore["GlobalReplicationGroupId"], ReplicationGroupId=group_id,
                    ReplicationGroupRegion=region)
                switched_at = ec.utc_now()
            elif action == "delete-old-datastore":
                self.delete_old_datastore(item)
            elif action.startswith("delete-stale-group:"):
                self.delete_group(item, action.split(":", 1)[1])
            elif action == "create-datastore":
                datastore = self.create_datastore(item)
            elif action.startswith("create-secondary:"):
                self.create_secondary(item, action.split(":", 1)[1])
        if self.params["state"] == "reprotected" and planned["actions"]:
            target = ec.describe_group(client, group_id)
            if target is not None:
                client.remove_tags_from_resource(ResourceName=target["ARN"], TagKeys=list(ec.DETACH_TAGS))
        return self.finish(item, planned, lag, switched_at)

    def wait(self, predicate, read, what):
        if not self.params["wait"]:
            return read()
        return ec.wait_until(predicate, read, self.params["wait_timeout"], self.interval, what)

    def delete_old_datastore(self, item):
        client = self.client(item, item["target_region"])
        global_id = item["global_replication_group_id"]
        old = ec.describe_global(client, global_id)
        if old is not None and old.get("Status") != "deleting":
            client.delete_global_replication_group(GlobalReplicationGroupId=global_id,
                                                   RetainPrimaryReplicationGroup=True)
        self.wait(lambda d: d is None, lambda: ec.describe_global(client, global_id),
                  f"the old global datastore {global_id} is deleted")

    def delete_group(self, item, region):
        client = self.client(item, region)
        group_id = item["replication_groups"][region]
        group = ec.describe_group(client, group_id)
        if group is not None and group.get("Status") != "deleting":
            client.delete_replication_group(ReplicationGroupId=group_id, RetainPrimaryCluster=False)
        self.wait(lambda g: g is None, lambda: ec.describe_group(client, group_id),
                  f"the stale replication group {group_id} in {region} is deleted")

    def create_datastore(self, item):
        region = item["target_region"]
        client = self.client(item, region)
        group_id = item["replication_groups"][region]
        group = ec.describe_group(client, group_id)
        global_id = ec.group_global_id(group)
        if not global_id:
            suffix = (item.get("global_replication_group_id") or group_id).split("-", 1)[-1]
            global_id = client.create_global_replication_group(
                GlobalReplicationGroupIdSuffix=suffix, PrimaryReplicationGroupId=group_id,
                GlobalReplicationGroupDescription=f"re-protected by enterprise_dr ({item['resource']})",
            )["GlobalReplicationGroup"]["GlobalReplicationGroupId"]
        item["new_global_replication_group_id"] = global_id
        return self.wait(lambda d: d is not None and d.get("Status") in ("primary-only", "available"),
                         lambda: ec.describe_global(client, global_id), f"the datastore {global_id} is created")

    def create_secondary(self, item, region):
        target = ec.describe_group(self.client(item, item["target_region"]), item["replication_groups"][
            item["target_region"]])
        global_id = ec.group_global_id(target)
        client = self.client(item, region)
        group_id = item["replication_groups"][region]
        if ec.describe_group(client, group_id) is None:
            tags = [t for t in self.client(item, item["target_region"]).list_tags_for_resource(
                ResourceName=target["ARN"]).get("TagList") or [] if t["Key"] not in ec.DETACH_TAGS]
            client.create_replication_group(
                ReplicationGroupId=group_id, GlobalReplicationGroupId=global_id,
                ReplicationGroupDescription=f"secondary of {global_id} (re-protected by enterprise_dr)",
                Tags=tags)
        admin = self.client(item, item["target_region"])
        self.wait(lambda d: d is not None and d.get("Status") == "available"
                  and (ec.member(d, region) or {}).get("Status") == "associated",
                  lambda: ec.describe_global(admin, global_id),
                  f"{group_id} in {region} is an associated secondary of {global_id}")

    def finish(self, item, planned, lag, switched_at):
        region = item["target_region"]
        client = self.client(item, region)
        group_id = item["replication_groups"][region]
        state = self.params["state"]

        def read():
            group = ec.describe_group(client, group_id)
            return group, ec.describe_global(client, ec.group_global_id(group) or item.get(
                "global_replication_group_id"))

        def done(pair):
            group, datastore = pair
            if state == "promoted":
                if group is not None and not ec.group_global_id(group):
                    return True  # standalone primary (after an emergency failover)
                m = ec.member(datastore, region)
                return bool(m) and m.get("Role") == "PRIMARY" and datastore.get("Status") == "available"
            if state == "detached":
                return group is not None and (not ec.group_global_id(group) or ec.group_role(group) == "PRIMARY")
            return True

        what = {"promoted": f"{group_id} in {region} is the primary and the datastore available",
                "detached": f"{group_id} in {region} is a standalone primary"}.get(state, "re-protected")
        group, datastore = self.wait(done, read, what)
        after = ec.snapshot_state(datastore, group, region)
        if state == "detached" and not ec.group_global_id(group):
            after["target_role"] = "STANDALONE"
        after["connectivity"] = check_connectivity(ec.primary_endpoint(group), self.params["connectivity_timeout"])
        after["recovery_point_time"] = ec.iso(switched_at or ec.utc_now()) if state != "reprotected" else None
        if switched_at:
            after["switched_at"] = ec.iso(switched_at)
        return after, lag


def describe_plan(item, actions, state):
    region = item["target_region"]
    group_id = item["replication_groups"].get(region)
    if not actions:
        return {"promoted": f"{group_id} in {region} is already the primary: nothing to do",
                "detached": f"{group_id} in {region} is already a standalone primary: nothing to do",
                "reprotected": "every region is already a member of the datastore: nothing to do"}[state]
    words = {"failover": f"FailoverGlobalReplicationGroup to {group_id} in {region}, then check TCP to its endpoint",
             "disassociate": f"DisassociateGlobalReplicationGroup {group_id} in {region} (standalone primary), "
                             "then check TCP to its endpoint",
             "wait": "wait for the promotion under way (no new call)",
             "delete-old-datastore": f"delete the old datastore {item.get('global_replication_group_id')} "
                                     "(primary-only), keeping its group",
             "create-datastore": f"create a datastore with {group_id} ({region}) as primary"}
    out = []
    for action in actions:
        if action.startswith("delete-stale-group:"):
            r = action.split(":", 1)[1]
            out.append(f"delete the stale {item['replication_groups'][r]} in {r}")
        elif action.startswith("create-secondary:"):
            r = action.split(":", 1)[1]
            out.append(f"create {item['replication_groups'][r]} in {r} as a secondary")
        else:
            out.append(words[action])
    return "; ".join(out)


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
        state=dict(type="str", choices=["promoted", "detached", "reprotected"], default="promoted"),
        connectivity_timeout=dict(type="float", default=5),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    items = [dict(d, replication_groups={str(k): str(v) for k, v in d["replication_groups"].items()})
             for d in params["datastores"]]
    try:
        factory = ClientFactory(module, params["accounts"])
        runner = Runner(module, factory)

        def plan_one(item):
            try:
                return runner.plan(item)
            except ec.ElastiCacheError as e:
                return {"error": str(e), "remediation": e.remediation}

        plans = map_concurrently(plan_one, items)
        # The scope guard: every member of every datastore that will change, before the first change.
        check_scope([member for item, planned in zip(items, plans) if planned.get("actions")
                     for member in runner.scope_members(item, planned["groups"])],
                    params["customer"], params["environment"])

        def apply_one(pair):
            item, planned = pair
            if planned.get("error") or module.check_mode:
                return None
            try:
                return runner.apply(item, planned)
            except ec.ElastiCacheError as e:
                return e
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                return ec.ElastiCacheError(f"{type(e).__name__}: {e}",
                                           "fix the cause named in the error and re-run the same command")

        results = map_concurrently(apply_one, list(zip(items, plans)))
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the ElastiCache global datastores; nothing was changed")

    rows = []
    for item, planned, result in zip(items, plans, results):
        row = {"resource": item["resource"], "name": item.get("name"), "target_region": item["target_region"]}
        if planned.get("error"):
            row.update(status="failed", changed=False, actions=[], error=planned["error"],
                       remediation=planned["remediation"], summary=f"not changed: {planned['error']}",
                       plan=f"refused: {planned['error']}")
            rows.append(row)
            continue
        actions = planned["actions"]
        row.update(changed=bool([a for a in actions if a != "wait"]), actions=actions, before=planned["before"],
                   plan=describe_plan(item, actions, params["state"]))
        if module.check_mode:
            row.update(status="skipped", summary=f"would: {row['plan']}")
        elif isinstance(result, ec.ElastiCacheError):
            row.update(status="failed", error=str(result), remediation=result.remediation,
                       summary=f"failed: {result}")
        else:
            after, lag = result
            if item.get("new_global_replication_group_id"):
                after["global_replication_group_id"] = item["new_global_replication_group_id"]
            row["after"] = after
            if "wait" in actions and after.get("switched_at") and not row["changed"]:
                # The modification waited for was not a promotion to this region: it was promoted once, now.
                row.update(changed=True, plan=f"{row['plan']}; it ended with {item['target_region']} still a "
                                              "secondary, so promote it")
            if lag is not None:
                row["replication_lag_seconds"] = lag
            connectivity = after["connectivity"]
            if not connectivity["reachable"]:
                row.update(status="failed", error=f"no TCP connection to {connectivity['endpoint']}: "
                           f"{connectivity.get('error')}",
                           remediation="check the replication group's security groups and status in "
                                       f"{item['target_region']}, then re-run (the promotion is not repeated)")
            else:
                row["status"] = "succeeded"
            note = f" ({row['plan']})" if row["changed"] else (
                " (waited for the promotion under way; no new call)" if "wait" in actions else " (no change)")
            row["summary"] = (f"{after.get('target_replication_group')} in {item['target_region']} "
                              f"{after.get('target_role', '').lower() or 'checked'}"
                              f"{note}; "
                              f"TCP {connectivity['endpoint']} {'ok' if connectivity['reachable'] else 'FAILED'}")
        rows.append(row)
    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, datastores=rows)
    if changed:
        result["diff"] = {"before": {r["resource"]: r.get("before") for r in rows if r["changed"]},
                          "after": {r["resource"]: r.get("after", {"plan": r["plan"]}) for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
