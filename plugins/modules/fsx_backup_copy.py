#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: fsx_backup_copy
short_description: Back up the restored FSx file systems and copy the backups to the original region
version_added: 0.2.0
description:
  - The REPLICATE step of the FSx adapter, for a whole wave at once. For each protected file system, the file system
    this execution restored in the DR region is backed up (C(CreateBackup)), and once the backup is C(AVAILABLE) it is
    copied to the original region (C(CopyBackup), called in that region with C(SourceRegion) the DR region); waits
    until the copy is C(AVAILABLE). That copy is what a way back restores from.
  - Idempotent and resume-safe - the backup and the copy are found by the execution's tags and the copy's
    C(SourceBackupId) before anything is created, so a re-run never backs up or copies twice.
  - Before any change the restored file system's C(Customer)/C(Environment) tags are checked against the scope.
  - Check mode reads and returns each file system's C(plan).
options:
  resources:
    description: The wave's FSx file systems, each the host's own C(dr_*) variables.
    type: list
    elements: dict
    required: true
  execution_id:
    description: The run's execution ID (finds the restored file system; tags the backup and the copy).
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
- name: Copy backups of the restored file systems back to the original region
  enterprise_dr.orchestration.fsx_backup_copy:
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
    resource: {description: The protected file system's ARN., type: str}
    name: {description: The inventory host., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether anything was (or would be) created., type: bool}
    actions: {description: C(backup) and/or C(copy)., type: list, elements: str}
    plan: {description: "What happens, in words.", type: str}
    summary: {description: One line for the record., type: str}
    before: {description: "The restored file system, its backup and the copy before.", type: dict}
    after: {description: The same after (the copy in the original region AVAILABLE)., type: dict}
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
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

PURPOSE = "failback-copy"


def read(factory, host, execution_id):
    account = host.get("dr_account_id")
    fs_id = fsx.file_system_id(host)
    dr_region, primary = host.get("dr_dr_region"), host.get("dr_resource_region") or host.get("dr_primary_region")
    dr = factory.client("fsx", account_id=account, region=dr_region)
    state = {"file_system_id": fs_id, "dr_region": dr_region, "primary_region": primary,
             "restored": fsx.restored(dr, fs_id, execution_id, "failover"), "backup": None, "copy": None}
    if not state["restored"]:
        return state
    restored_id = state["restored"][0]["FileSystemId"]
    backups = [b for b in fsx.backups_of(dr, restored_id)
               if fsx.tags_dict(b).get(fsx.TAG_EXECUTION) == execution_id and fsx.tags_dict(b).get(fsx.TAG_PURPOSE)
               == PURPOSE and b.get("Lifecycle") not in ("DELETED", "FAILED")]
    state["backup"] = backups[0] if backups else None
    if state["backup"]:
        try:
            copies = fsx.backups_of(factory.client("fsx", account_id=account, region=primary), restored_id)
            state["copy"] = next((c for c in copies if c.get("SourceBackupId") == state["backup"]["BackupId"]
                                  and c.get("Lifecycle") not in ("DELETED", "FAILED")), None)
            state["primary_answered"] = True
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            state["primary_answered"], state["primary_error"] = False, fsx.error_text(e)
    return state


def describe(state):
    restored = state["restored"][0] if state["restored"] else {}
    return {"restored_file_system_id": restored.get("FileSystemId"),
            "failback_backup_id": (state.get("backup") or {}).get("BackupId"),
            "failback_backup_lifecycle": (state.get("backup") or {}).get("Lifecycle"),
            "failback_copy_id": (state.get("copy") or {}).get("BackupId"),
            "failback_copy_lifecycle": (state.get("copy") or {}).get("Lifecycle"),
            "failback_copy_region": state["primary_region"]}


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        execution_id=dict(type="str", required=True),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    execution_id = params["execution_id"]
    timeout = params["wait_timeout"] if params["wait"] else 0
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        states = {h["dr_arn"]: read(factory, h, execution_id) for h in params["resources"]}
        check_scope([(f"{s['restored'][0].get('ResourceARN')} ({h.get('inventory_hostname')})",
                      fsx.tags_dict(s["restored"][0])) for h in params["resources"]
                     for s in [states[h["dr_arn"]]] if s["restored"]], params["customer"], params["environment"])
        for host in params["resources"]:
            state = states[host["dr_arn"]]
            before = describe(state)
            row = {"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "before": before}
            if not state["restored"]:
                row.update(status="failed", actions=[], changed=False, after=before,
                           plan="no file system restored by this execution",
                           error=f"no file system of execution {execution_id} restored from "
                                 f"{state['file_system_id']} in {state['dr_region']}",
                           remediation="run INSTANTIATE/ACTIVATE of this execution first (the same command resumes)")
                rows.append(row)
                continue
            if state["backup"] and state.get("primary_answered") is False:
                row.update(status="failed", actions=[], changed=False, after=before, plan="original region down",
                           error=f"{state['primary_region']} does not answer ({state.get('primary_error')})",
                           remediation="re-run REPLICATE when the original region is back")
                rows.append(row)
                continue
            actions = ([] if state["backup"] else ["backup"]) + ([] if state["copy"] else ["copy"])
            restored_id = state["restored"][0]["FileSystemId"]
            row.update(actions=actions, changed=bool(actions),
                       plan=(f"back up {restored_id} in {state['dr_region']}" if "backup" in actions else
                             f"backup {state['backup']['BackupId']} exists") + (
                           f", copy it to {state['primary_region']}" if "copy" in actions else
                           f", copy {state['copy']['BackupId']} exists") + ", wait until AVAILABLE")
            after = dict(before)
            if not module.check_mode:
                account = host.get("dr_account_id")
                dr = factory.client("fsx", account_id=account, region=state["dr_region"])
                primary = factory.client("fsx", account_id=account, region=state["primary_region"])
                scope = {k: v for k, v in fsx.tags_dict(state["restored"][0]).items() if k in fsx.SCOPE_TAGS}
                wanted = dict(scope, **{fsx.TAG_EXECUTION: execution_id, fsx.TAG_PURPOSE: PURPOSE})
                tags = [{"Key": k, "Value": v} for k, v in wanted.items()]
                backup = state["backup"] or dr.create_backup(
                    FileSystemId=restored_id, Tags=tags,
                    ClientRequestToken=fsx.token(execution_id, PURPOSE, restored_id))["Backup"]
                lifecycle, backup = fsx.wait_backup(dr, backup["BackupId"], timeout, params["poll_interval"])
                after.update(failback_backup_id=(backup or {}).get("BackupId"), failback_backup_lifecycle=lifecycle)
                if lifecycle == "AVAILABLE":
                    copy = state["copy"] or primary.copy_backup(
                        SourceBackupId=backup["BackupId"], SourceRegion=state["dr_region"], Tags=tags,
                        ClientRequestToken=fsx.token(execution_id, "copy", backup["BackupId"]))["Backup"]
                    copy_lifecycle, copy = fsx.wait_backup(primary, copy["BackupId"], timeout, params["poll_interval"])
                    after.update(failback_copy_id=(copy or {}).get("BackupId"), failback_copy_lifecycle=copy_lifecycle)
                if after.get("failback_copy_lifecycle") != "AVAILABLE" and params["wait"]:
                    row.update(error=f"the backup copy to {state['primary_region']} is "
                                     f"{after.get('failback_copy_lifecycle') or 'not started'} (backup {lifecycle})",
                               remediation="re-run REPLICATE to wait again (nothing is backed up or copied twice)")
            row.update(after=after, status="failed" if row.get("error") else "succeeded",
                       summary=f"backup of {restored_id} copied to {state['primary_region']}")
            rows.append(row)
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="FSx backup copy failed", resources=rows)
    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, resources=rows)
    if changed:
        result["diff"] = {"before": {r["name"]: r["before"] for r in rows if r["changed"]},
                          "after": {r["name"]: r["after"] for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
