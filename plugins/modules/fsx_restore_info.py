#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: fsx_restore_info
short_description: Read whether each FSx file system can be restored in the DR region, and from which backup
version_added: 0.2.0
description:
  - Read-only twin of M(enterprise_dr.orchestration.fsx_restore), for PREFLIGHT.
  - For each protected file system, the newest C(AVAILABLE) backup copy in the DR region, its age, the file system
    type (Windows, Lustre and OpenZFS restore into a file system; ONTAP does not), what this execution already
    restored, and whether the file system and the copy are in scope. C(ready) when a restore can run.
options:
  resources:
    description: The FSx file systems, each the host's own C(dr_*) variables.
    type: list
    elements: dict
    required: true
  execution_id:
    description: The run's execution ID (what it already restored counts as ready).
    type: str
    required: true
  purpose:
    description: C(failover) or C(drill).
    type: str
    choices: [failover, drill]
    default: failover
extends_documentation_fragment:
  - enterprise_dr.orchestration.scope
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Check every FSx file system has a backup copy in the DR region
  enterprise_dr.orchestration.fsx_restore_info:
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
    resource: {description: The file system's ARN., type: str}
    name: {description: The inventory host., type: str}
    ready: {description: Whether a restore can run., type: bool}
    problems: {description: Why not., type: list, elements: str}
    remediation: {description: The fix., type: str}
    plan: {description: "What INSTANTIATE would restore, in words.", type: str}
    backup_age_seconds: {description: Age of the newest copy's data., type: int}
    status: {description: The row as a record entry., type: str}
    after: {description: "The newest copy (C(backup_id), C(recovery_point_time)).", type: dict}
    error: {description: The problems in one line., type: str}
"""

import datetime

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import fsx
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        execution_id=dict(type="str", required=True),
        purpose=dict(type="str", choices=["failover", "drill"], default="failover"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        for host in params["resources"]:
            state = fsx.read(factory, host, params["execution_id"], params["purpose"])
            actions, problem = fsx.plan_restore(state)
            problems = [v["message"] for v in (scope_violation(m, t, params["customer"], params["environment"])
                                               for m, t in fsx.scope_members(host, state)) if v]
            remediation = ("leave this file system out of the run, or fix the member's Customer/Environment tags"
                           if problems else None)
            if problem:
                problems.append(problem[0])
                remediation = problem[1]
            latest = state.get("latest") or {}
            point, _basis = fsx.source_backup_time(factory, host, latest) if latest else (None, None)
            age = None
            if point:
                then = datetime.datetime.strptime(point, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
                age = int((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())
            plan = (f"{state['restored'][0]['FileSystemId']} already restored by this execution" if state["restored"]
                    else f"restore backup {latest.get('BackupId')} ({point}) in {state['dr_region']}"
                    if latest else problems[-1] if problems else "")
            rows.append({"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "ready": not problems,
                         "problems": problems, "remediation": remediation, "plan": plan, "backup_age_seconds": age,
                         "status": "failed" if problems else "succeeded", "error": "; ".join(problems) or None,
                         "after": {"backup_id": latest.get("BackupId"), "recovery_point_time": point,
                                   "file_system_type": (latest.get("FileSystem") or {}).get("FileSystemType")}})
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the FSx backups")
    module.exit_json(changed=False, resources=rows)


if __name__ == "__main__":
    main()
