#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: fsx_restore
short_description: Restore FSx file systems from their latest backup copied to the DR region, or remove a drill's
version_added: 0.2.0
description:
  - The INSTANTIATE/ACTIVATE steps of the FSx adapter (and a drill's CLEANUP), for a whole wave at once.
  - O(state=present) restores the newest C(AVAILABLE) backup copy of each protected file system held in the DR
    region into a new file system there (C(CreateFileSystemFromBackup) - Windows, Lustre and OpenZFS), tagged with the
    scope, C(dr:restored-from), C(dr:restored-backup), C(dr:purpose) and the execution ID, and waits until it is
    C(AVAILABLE). The RPO input C(after.recovery_point_time) is the time of the backup's data.
  - Idempotent and resume-safe - a file system this execution already restored for O(purpose) is found by its tags
    (and the restore call carries a C(ClientRequestToken) derived from the execution), so nothing is restored twice.
  - O(state=absent) deletes what this execution restored for O(purpose) (a drill's temporary file system) and waits
    until it is gone.
  - Subnets come from the protected file system's C(dr:dr-subnet-ids) tag (else the DR region's default VPC),
    security groups from C(dr:dr-security-group-ids).
  - Before any change the protected file system's and the backup copy's C(Customer)/C(Environment) tags are checked.
  - Check mode reads and returns each file system's C(plan).
options:
  resources:
    description: The wave's FSx file systems, each the host's own C(dr_*) variables.
    type: list
    elements: dict
    required: true
  state:
    description: C(present) restores (or finds) the DR file system; C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  purpose:
    description: C(failover) (kept, clients move to it) or C(drill) (temporary).
    type: str
    choices: [failover, drill]
    default: failover
  execution_id:
    description: The run's execution ID (tags and idempotency token).
    type: str
    required: true
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
- name: Restore the wave's file systems in the DR region
  enterprise_dr.orchestration.fsx_restore:
    customer: acme
    execution_id: "{{ dr_run.execution_id }}"
    resources: "{{ adapter_hosts }}"
    accounts: "{{ dr_accounts }}"
"""

RETURN = r"""
resources:
  description: One row per protected file system.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The protected file system's ARN (the host's dr_arn)., type: str}
    name: {description: The inventory host., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether it changed (would change in check mode)., type: bool}
    actions: {description: The calls made (or that check mode would make)., type: list, elements: str}
    plan: {description: "What happens, in words.", type: str}
    summary: {description: One line for the record., type: str}
    before: {description: The newest DR copy and any restored file system before., type: dict}
    after: {description: "The restored file system (ID, lifecycle, DNS name) and C(recovery_point_time).", type: dict}
    error: {description: Why it failed., type: str}
    remediation: {description: The fix., type: str}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import fsx
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


def read_all(factory, hosts, execution_id, purpose):
    groups = group_by_account_region([dict(h, account_id=h.get("dr_account_id"), region=h.get("dr_resource_region"))
                                      for h in hosts])
    states = {}
    for part in run_concurrently(lambda key: {h["dr_arn"]: fsx.read(factory, h, execution_id, purpose)
                                              for h in groups[key]}, groups).values():
        states.update(part)
    return states


def describe(state, fs=None):
    latest = state.get("latest") or {}
    fs = fs or (state["restored"][0] if state.get("restored") else {})
    return {"file_system_id": state["file_system_id"], "dr_region": state["dr_region"],
            "backup_id": latest.get("BackupId"), "backup_created": fsx.iso(latest.get("CreationTime")),
            "restored_file_system_id": fs.get("FileSystemId"), "restored_lifecycle": fs.get("Lifecycle"),
            "restored_dns_name": fs.get("DNSName"),
            "file_system_type": (latest.get("FileSystem") or {}).get("FileSystemType") or fs.get("FileSystemType")}


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purpose=dict(type="str", choices=["failover", "drill"], default="failover"),
        execution_id=dict(type="str", required=True),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    hosts, purpose, execution_id = params["resources"], params["purpose"], params["execution_id"]
    timeout = params["wait_timeout"] if params["wait"] else 0
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        states = read_all(factory, hosts, execution_id, purpose)
        if params["state"] == "present":
            check_scope([m for h in hosts for m in fsx.scope_members(h, states[h["dr_arn"]])], params["customer"],
                        params["environment"])
        for host in hosts:
            state = states[host["dr_arn"]]
            before = describe(state)
            row = {"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "before": before}
            dr = factory.client("fsx", account_id=host.get("dr_account_id"), region=state["dr_region"])
            if params["state"] == "absent":
                # Only what this execution restored for this purpose, identified by its tags: never anything else.
                targets = [fs["FileSystemId"] for fs in state["restored"]]
                row.update(actions=["delete"] if targets else [], changed=bool(targets),
                           plan=(f"delete the {purpose} file system(s) {', '.join(targets)}" if targets
                                 else f"no {purpose} file system left"))
                after = dict(before, restored_lifecycle="deleted" if targets else before["restored_lifecycle"])
                if targets and not module.check_mode:
                    for fs_id in targets:
                        dr.delete_file_system(FileSystemId=fs_id)
                    for fs_id in targets:
                        lifecycle, _fs = fsx.wait_lifecycle(dr, fs_id, "gone", timeout, params["poll_interval"])
                        if lifecycle != "gone" and params["wait"]:
                            row.update(error=f"{fs_id} is still {lifecycle}",
                                       remediation="re-run the drill's cleanup; the delete is not repeated")
                row.update(after=after, summary=f"{purpose} file system removed" if targets else None,
                           status="failed" if row.get("error") else "succeeded")
                rows.append(row)
                continue
            actions, problem = fsx.plan_restore(state)
            row.update(actions=actions, changed="restore" in actions and not problem)
            if problem:
                row.update(status="failed", error=problem[0], remediation=problem[1], plan=problem[0], after=before)
                rows.append(row)
                continue
            if state["restored"]:
                row["plan"] = f"{state['restored'][0]['FileSystemId']} already restored; check it is AVAILABLE"
                backup_id = fsx.tags_dict(state["restored"][0]).get(fsx.TAG_RESTORED_BACKUP)
                backup = next((c for c in state["copies"] if c["BackupId"] == backup_id), state.get("latest"))
            else:
                row["plan"] = (f"restore backup {state['latest']['BackupId']} "
                               f"({fsx.iso(state['latest'].get('CreationTime'))}) into a new "
                               f"{describe(state)['file_system_type']} file system in {state['dr_region']}, wait "
                               "until AVAILABLE")
                backup = state["latest"]
            after = dict(before)
            if not module.check_mode:
                fs = state["restored"][0] if state["restored"] else fsx.restore(
                    factory, host, state, execution_id, purpose,
                    {k: v for k, v in state["source_tags"].items() if k in fsx.SCOPE_TAGS}
                    or {k: v for k, v in fsx.tags_dict(backup).items() if k in fsx.SCOPE_TAGS})
                lifecycle, described = fsx.wait_lifecycle(dr, fs["FileSystemId"], "AVAILABLE", timeout,
                                                          params["poll_interval"])
                after = describe(state, described or fs)
                after["restored_lifecycle"] = lifecycle
                if lifecycle != "AVAILABLE" and params["wait"]:
                    row.update(error=f"restored file system {fs['FileSystemId']} is {lifecycle}, not AVAILABLE",
                               remediation="check the file system in the FSx console; re-run to wait again (it is "
                                           "not restored twice)")
            point, basis = fsx.source_backup_time(factory, host, backup)
            after.update(recovery_point_time=point, recovery_point_basis=basis, backup_id=backup.get("BackupId"))
            row.update(after=after, status="failed" if row.get("error") else "succeeded",
                       summary=(f"{after.get('restored_file_system_id') or 'new file system'} restored in "
                                f"{state['dr_region']} from {backup.get('BackupId')}"))
            rows.append(row)
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except ValueError as e:
        module.fail_json(msg=str(e), resources=rows)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"FSx restore ({params['state']}) failed", resources=rows)
    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, resources=rows)
    if changed:
        result["diff"] = {"before": {r["name"]: r["before"] for r in rows if r["changed"]},
                          "after": {r["name"]: r["after"] for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
