#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elasticache_drill_restore
short_description: Prove an ElastiCache global datastore recoverable in the DR region, without failing it over
version_added: 0.2.0
description:
  - The drill of a global datastore never fails it over. With O(state=present) the DR member's latest snapshot
    (one is taken when it has none) is restored into a temporary replication group named
    C(<member>-drill-<execution>), tagged with the execution and the member's scope tags; the module waits until it
    is available and opens a TCP connection to its primary endpoint.
  - With O(state=absent) the temporary replication group and any snapshot the drill took are deleted (the drill's
    CLEANUP, also after a failed drill); the module waits until they are gone.
  - The scope guard checks the DR member's own tags (and the temporary group's) before any change.
  - Check mode makes no change and returns a C(plan) line per datastore.
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
      global_replication_group_id: {description: The datastore's ID when discovered (informational)., type: str}
      replication_groups: {description: Replication group ID per region., type: dict, required: true}
      target_region: {description: The DR region (its member is restored)., type: str, required: true}
  execution_id:
    description: The drill's execution; it names the temporary replication group and tags it.
    type: str
    required: true
  state:
    description: C(present) restores and checks, C(absent) removes what the drill made.
    type: str
    choices: [present, absent]
    default: present
  connectivity_timeout:
    description: Seconds to wait for the TCP connection.
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
- name: Restore the DR member's latest snapshot into a temporary replication group and check it
  enterprise_dr.orchestration.elasticache_drill_restore:
    customer: acme
    execution_id: "{{ dr_run.execution_id }}"
    datastores:
      - resource: arn:aws:elasticache:us-east-1:210987654321:replicationgroup:acme-prod-sessions
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
    changed: {description: Whether anything changed (or would)., type: bool}
    plan: {description: What would happen or happened., type: str}
    status: {description: "succeeded, failed or skipped (check mode).", type: str}
    summary: {description: One line for people., type: str}
    before: {description: The temporary group and snapshot before., type: dict}
    after: {description: "The temporary group, its snapshot, connectivity and recovery_point_time.", type: dict}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
diff:
  description: Before and after per datastore that changed (or would).
  returned: when changed
  type: dict
"""

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

SCOPE_TAGS = ("Customer", "Environment")


def snapshots_of(client, group_id):
    try:
        return client.describe_snapshots(ReplicationGroupId=group_id).get("Snapshots") or []
    except botocore.exceptions.ClientError as e:
        if ec.error_code(e) in ("ReplicationGroupNotFoundFault", "SnapshotNotFoundFault"):
            return []
        raise


def snapshot_named(client, name):
    try:
        found = client.describe_snapshots(SnapshotName=name).get("Snapshots") or []
    except botocore.exceptions.ClientError as e:
        if ec.error_code(e) == "SnapshotNotFoundFault":
            return None
        raise
    return found[0] if found else None


def snapshot_time(snapshot):
    times = [n.get("SnapshotCreateTime") for g in snapshot.get("NodeSnapshots") or [] for n in [g]
             if n.get("SnapshotCreateTime")]
    return max(times) if times else None


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
        execution_id=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        connectivity_timeout=dict(type="float", default=5),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    factory = None

    def client(item):
        return factory.client("elasticache", account_id=item.get("account_id"), region=item["target_region"])

    def plan_one(item):
        dr_group_id = str(item["replication_groups"][item["target_region"]])
        temp_id = ec.drill_group_id(dr_group_id, params["execution_id"])
        snapshot_name = f"{temp_id}-seed"
        c = client(item)
        source = ec.describe_group(c, dr_group_id)
        temp = ec.describe_group(c, temp_id)
        own_snapshot = snapshot_named(c, snapshot_name)
        before = {"drill_replication_group": temp_id if temp else None,
                  "drill_snapshot": snapshot_name if own_snapshot else None}
        actions, latest = [], None
        if params["state"] == "present":
            if source is None:
                return dict(item=item, error=f"the DR member {dr_group_id} in {item['target_region']} was not found",
                            remediation="check the host's dr_elasticache.replication_groups, or re-run discovery")
            ready = [s for s in snapshots_of(c, dr_group_id) if s.get("SnapshotStatus") == "available"]
            latest = max(ready, key=lambda s: snapshot_time(s) or "", default=None)
            if latest is None and own_snapshot is None:
                actions.append("snapshot")
            if temp is None:
                actions.append("restore")
        else:
            if temp is not None:
                actions.append("delete-group")
            if own_snapshot is not None:
                actions.append("delete-snapshot")
        tags = {}
        for group in (source, temp):
            if group is not None:
                tags[group["ReplicationGroupId"]] = ec.tags_of(c.list_tags_for_resource(
                    ResourceName=group["ARN"]).get("TagList"))
        return dict(item=item, temp_id=temp_id, snapshot_name=snapshot_name, source=source, before=before,
                    actions=actions, latest=latest or own_snapshot, tags=tags, dr_group_id=dr_group_id)

    def wait(predicate, read, what):
        if not params["wait"]:
            return read()
        return ec.wait_until(predicate, read, params["wait_timeout"], max(1, params["poll_interval"]), what)

    def apply_one(planned):
        c = client(planned["item"])
        temp_id, snapshot_name = planned["temp_id"], planned["snapshot_name"]
        latest = planned["latest"]
        for action in planned["actions"]:
            if action == "snapshot":
                c.create_snapshot(ReplicationGroupId=planned["dr_group_id"], SnapshotName=snapshot_name,
                                  Tags=[{"Key": ec.TAG_DRILL, "Value": params["execution_id"]}])
                latest = wait(lambda s: s is not None and s.get("SnapshotStatus") == "available",
                              lambda: snapshot_named(c, snapshot_name), f"snapshot {snapshot_name} is available")
            elif action == "restore":
                source_tags = planned["tags"].get(planned["dr_group_id"], {})
                tags = {k: v for k, v in source_tags.items() if k in SCOPE_TAGS}
                tags.update({ec.TAG_DRILL: params["execution_id"], "Name": temp_id})
                c.create_replication_group(
                    ReplicationGroupId=temp_id, ReplicationGroupDescription=f"DR drill {params['execution_id']}",
                    SnapshotName=latest["SnapshotName"], CacheNodeType=planned["source"].get("CacheNodeType"),
                    Engine=planned["source"].get("Engine") or "redis", NumCacheClusters=1,
                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
            elif action == "delete-group":
                c.delete_replication_group(ReplicationGroupId=temp_id)
            elif action == "delete-snapshot":
                c.delete_snapshot(SnapshotName=snapshot_name)
        if params["state"] == "present":
            group = wait(lambda g: g is not None and g.get("Status") == "available",
                         lambda: ec.describe_group(c, temp_id), f"the drill copy {temp_id} is available")
            if latest is None:
                latest = snapshot_named(c, snapshot_name)
            connectivity = check_connectivity(ec.primary_endpoint(group), params["connectivity_timeout"])
            return {"drill_replication_group": temp_id, "restored_from_snapshot": (latest or {}).get("SnapshotName"),
                    "recovery_point_time": ec.iso(snapshot_time(latest or {})), "connectivity": connectivity}
        wait(lambda g: g is None, lambda: ec.describe_group(c, temp_id), f"the drill copy {temp_id} is deleted")
        # Entries keep what earlier phases wrote (None is left out): say what was removed instead.
        return {"removed": [temp_id] + ([snapshot_name] if "delete-snapshot" in planned["actions"] else []),
                "drill_copy_exists": False}

    try:
        factory = ClientFactory(module, params["accounts"])
        plans = map_concurrently(plan_one, params["datastores"])
        check_scope([(f"{group_id} ({p['item']['target_region']}, for {p['item']['resource']})", tags)
                     for p in plans if p.get("actions") for group_id, tags in p["tags"].items()],
                    params["customer"], params["environment"])

        def run(planned):
            if planned.get("error") or module.check_mode:
                return None
            try:
                return apply_one(planned)
            except ec.ElastiCacheError as e:
                return e
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                return ec.ElastiCacheError(f"{type(e).__name__}: {e}", "fix the cause and re-run the same command")

        results = map_concurrently(run, plans)
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the DR members of the ElastiCache global datastores")

    rows = []
    for planned, result in zip(plans, results):
        item = planned["item"]
        row = {"resource": item["resource"], "name": item.get("name")}
        if planned.get("error"):
            row.update(status="failed", changed=False, error=planned["error"], remediation=planned["remediation"],
                       plan=f"refused: {planned['error']}", summary=f"drill copy not made: {planned['error']}")
            rows.append(row)
            continue
        words = {"snapshot": f"snapshot {planned['dr_group_id']} (it has none)",
                 "restore": f"restore {((planned['latest'] or {}).get('SnapshotName') or 'that snapshot')} into "
                            f"{planned['temp_id']} in {item['target_region']} and check TCP to it",
                 "delete-group": f"delete the drill copy {planned['temp_id']}",
                 "delete-snapshot": f"delete the drill's snapshot {planned['snapshot_name']}"}
        plan = "; ".join(words[a] for a in planned["actions"]) or (
            f"the drill copy {planned['temp_id']} exists: check it" if params["state"] == "present"
            else "nothing left to remove")
        row.update(changed=bool(planned["actions"]), plan=plan, before=planned["before"])
        if module.check_mode:
            row.update(status="skipped", summary=f"would: {plan}")
        elif isinstance(result, ec.ElastiCacheError):
            row.update(status="failed", error=str(result), remediation=result.remediation, summary=f"failed: {result}")
        else:
            row["after"] = result
            connectivity = result.get("connectivity")
            if connectivity and not connectivity["reachable"]:
                row.update(status="failed", error=f"no TCP connection to the drill copy {connectivity['endpoint']}: "
                                                  f"{connectivity.get('error')}",
                           remediation="check the DR region's subnet group and security groups; CLEANUP removes "
                                       "the copy")
            else:
                row["status"] = "succeeded"
            row["summary"] = (f"drill copy {planned['temp_id']} from {result.get('restored_from_snapshot')}: TCP "
                              f"{connectivity['endpoint']} {'ok' if connectivity['reachable'] else 'FAILED'}"
                              if connectivity else f"drill copy {planned['temp_id']} removed")
        rows.append(row)
    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, datastores=rows)
    if changed:
        result["diff"] = {"before": {r["resource"]: r.get("before") for r in rows if r["changed"]},
                          "after": {r["resource"]: r.get("after", {"plan": r["plan"]}) for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
