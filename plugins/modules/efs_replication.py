#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: efs_replication
short_description: Fail over EFS replication (the DR file system becomes writable) and reverse it
version_added: 0.2.0
description:
  - The ACTIVATE and REPLICATE steps of the EFS adapter, for a whole wave at once. A protected file system is the
    primary region's; it replicates to a file system in the DR region.
  - O(state=active) (ACTIVATE) deletes the replication configuration from the region that becomes active
    (C(DeletionMode=LOCAL_CONFIGURATION_ONLY) with O(emergency), when the other region may not answer) and waits until
    the configuration is gone and that file system is writable (C(ReplicationOverwriteProtection) back to
    C(ENABLED)). The destination's protection before the delete and its last sync (the RPO) are returned.
  - O(state=replicating) (REPLICATE) creates the reverse replication, back to the file system that was active; its
    protection is set to C(DISABLED) first (a file system with protection C(ENABLED) cannot be a destination), then
    EFS applies the differences; waits until the destination is C(ENABLED).
  - O(direction=failback) is the mirror - from the DR file system back to the original one.
  - Idempotent and resume-safe - the live replication configuration is read first, so a re-run never deletes or
    creates twice (a configuration already flowing the wanted way, or already gone, is left alone).
  - Before any change both file systems' own C(Customer)/C(Environment) tags are checked against the scope.
  - Check mode reads and returns each file system's C(plan); C(--diff) shows before and after.
options:
  resources:
    description:
      - The wave's EFS file systems, each the host's own C(dr_*) variables (C(dr_arn), C(dr_account_id),
        C(dr_resource_region), C(dr_dr_region), C(dr_efs), C(inventory_hostname)).
    type: list
    elements: dict
    required: true
  state:
    description: C(active) - the target side writable, no replication; C(replicating) - replication reversed.
    type: str
    choices: [active, replicating]
    required: true
  direction:
    description: C(failover) moves primary -> DR, C(failback) DR -> primary.
    type: str
    choices: [failover, failback]
    default: failover
  peers:
    description:
      - C(dr_arn) -> the DR file system ID, from the run's record, for file systems whose replication was already
        deleted (a re-run between ACTIVATE and REPLICATE).
    type: dict
    default: {}
  emergency:
    description: The other region may not answer; ACTIVATE deletes only the local configuration.
    type: bool
    default: false
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
- name: Make the DR file systems writable
  enterprise_dr.orchestration.efs_replication:
    customer: acme
    state: active
    resources: "{{ adapter_hosts }}"
    accounts: "{{ dr_accounts }}"
"""

RETURN = r"""
resources:
  description: One row per file system.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The file system's ARN (the host's dr_arn)., type: str}
    name: {description: The inventory host., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether it changed (would change in check mode)., type: bool}
    actions: {description: The calls made (or that check mode would make)., type: list, elements: str}
    plan: {description: "What happens, in words.", type: str}
    summary: {description: One line for the record., type: str}
    before: {description: Both file systems and their replication before., type: dict}
    after: {description: The same after; C(recovery_point_time) is the DR copy's last sync., type: dict}
    replication_lag_seconds: {description: Seconds since the last sync when the replication was deleted., type: int}
    error: {description: Why it failed., type: str}
    remediation: {description: The fix., type: str}
diff:
  description: Before and after of every file system that changed.
  returned: when changed
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import efs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

WORDS = {
    "delete_replication": "delete the replication {src} -> {dst} (the DR file system becomes writable)",
    "wait_deleted": "wait for the replication {src} -> {dst} to be deleted",
    "disable_protection": "set {src}'s ReplicationOverwriteProtection to DISABLED",
    "create_replication": "create the replication {dst} -> {src} and wait until ENABLED",
    "wait_enabled": "wait until the replication {dst} -> {src} is ENABLED",
}


def read_all(factory, hosts, direction, peers):
    groups = group_by_account_region([dict(h, account_id=h.get("dr_account_id"), region=h.get("dr_resource_region"))
                                      for h in hosts])

    def read(key):
        return {h["dr_arn"]: efs.read(factory, h, direction, peers.get(h["dr_arn"])) for h in groups[key]}

    states = {}
    for part in run_concurrently(read, groups).values():
        states.update(part)
    return states


def plan_words(state, actions, target):
    src, dst = state["from"]["file_system_id"], state["to"]["file_system_id"]
    if not actions:
        return f"{dst} already {target}"
    return "; ".join(WORDS[a].format(src=src, dst=dst) for a in actions)


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        state=dict(type="str", choices=["active", "replicating"], required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        peers=dict(type="dict", default={}),
        emergency=dict(type="bool", default=False),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    hosts, wanted = params["resources"], params["state"]
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        states = read_all(factory, hosts, params["direction"], params["peers"])
        check_scope([m for h in hosts for m in efs.scope_members(h, states[h["dr_arn"]])], params["customer"],
                    params["environment"])
        for host in hosts:
            state = states[host["dr_arn"]]
            before = efs.describe(state)
            actions, problem = efs.plan_activate(state) if wanted == "active" else efs.plan_replicate(state)
            row = {"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "before": before,
                   "actions": actions, "changed": bool(actions) and not problem}
            if problem:
                row.update(status="failed", error=problem[0], remediation=problem[1], plan=problem[0], after=before)
                rows.append(row)
                continue
            row["plan"] = plan_words(state, actions, "writable" if wanted == "active" else "replicating back")
            after = dict(before)
            if wanted == "active":
                lag = efs.lag_seconds(state.get("replication")) if "delete_replication" in actions else None
                row["replication_lag_seconds"] = lag
                after.update(replication="none", replication_status=None, dr_protection="ENABLED",
                             dr_protection_before=before["dr_protection"],
                             recovery_point_time=before["last_replicated"] if actions else None)
                if not module.check_mode and actions:
                    protection = efs.apply_activate(factory, host, state, actions, params["emergency"],
                                                    params["wait_timeout"] if params["wait"] else 0,
                                                    params["poll_interval"])
                    after["dr_protection"] = protection
                    if protection != "ENABLED":
                        row.update(error=f"{state['to']['file_system_id']} is not writable yet (replication still "
                                         "being deleted)",
                                   remediation="re-run: the delete was requested and is not repeated")
                row["summary"] = f"{state['to']['file_system_id']} writable in {state['to']['region']}"
            else:
                after.update(replication=f"{state['to']['file_system_id']} -> {state['from']['file_system_id']} "
                                         "ENABLED", replication_status="ENABLED",
                             original_protection="REPLICATING",
                             original_protection_before=before["original_protection"])
                if not module.check_mode and actions:
                    replication = efs.apply_replicate(factory, host, state, actions,
                                                      params["wait_timeout"] if params["wait"] else 0,
                                                      params["poll_interval"])
                    status = (replication or {}).get("status")
                    after.update(replication_status=status, last_replicated=efs.iso((replication or {}).get(
                        "last_replicated")))
                    if status != "ENABLED" and params["wait"]:
                        row.update(error=f"replication {state['to']['file_system_id']} -> "
                                         f"{state['from']['file_system_id']} is {status}, not ENABLED",
                                   remediation="re-run REPLICATE to wait again (the replication is not re-created)")
                row["summary"] = (f"replicating {state['to']['file_system_id']} -> {state['from']['file_system_id']}"
                                  f" ({state['from']['region']})")
            row.update(after=after, status="failed" if row.get("error") else "succeeded")
            rows.append(row)
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"EFS replication ({wanted}) failed", resources=rows)

    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, resources=rows)
    if changed:
        result["diff"] = {"before": {r["name"]: r["before"] for r in rows if r["changed"]},
                          "after": {r["name"]: r["after"] for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
