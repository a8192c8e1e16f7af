#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eventbridge_failover_info
short_description: Read what an EventBridge failover (or failback) would do, and whether it can
version_added: 0.2.0
description:
  - Read-only twin of M(enterprise_dr.orchestration.eventbridge_failover), for PREFLIGHT and drills.
  - For each protected rule, the state of the rule in both regions; for each global endpoint, its state, its
    Route 53 health check and its event buses. A resource is C(ready) when the side to activate exists and every
    member (both rules, or the endpoint's buses and health check) is in the scope given by O(customer) and
    O(environment); otherwise C(problems) says why and C(remediation) what to do.
options:
  resources:
    description: The EventBridge resources, each the host's own C(dr_*) variables.
    type: list
    elements: dict
    required: true
  direction:
    description: C(failover) reads towards the DR region, C(failback) towards the primary region.
    type: str
    choices: [failover, failback]
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
- name: Check every EventBridge resource can fail over
  enterprise_dr.orchestration.eventbridge_failover_info:
    customer: acme
    resources: "{{ adapter_hosts }}"
    accounts: "{{ dr_accounts }}"
  register: eventbridge_readiness
"""

RETURN = r"""
resources:
  description: One row per resource.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: "The resource's ARN.", type: str}
    name: {description: "The inventory host.", type: str}
    kind: {description: "C(rule) or C(endpoint).", type: str}
    ready: {description: "Whether the failover can run for it.", type: bool}
    problems: {description: Why it cannot., type: list, elements: str}
    remediation: {description: "The fix.", type: str}
    plan: {description: "\"What the failover would do, in words.\"", type: str}
    state: {description: "\"Rule states of both regions, or the endpoint and its health check.\"", type: dict}
    status: {description: "\"The row as a record entry - C(succeeded) when ready, else C(failed).\"", type: str}
    after: {description: "The same as RV(resources[].state) (nothing changes).", type: dict}
    error: {description: "The problems in one line.", type: str}
    summary: {description: "One line for the record (what a failover would do).", type: str}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import eventbridge
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        factory = ClientFactory(module, params["accounts"])
        states = eventbridge.read_all(factory, params["resources"], params["direction"], run_concurrently,
                                      group_by_account_region)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the EventBridge resources")
    rows = []
    for host in params["resources"]:
        kind, found = states[host["dr_arn"]]
        plan = eventbridge.plan_resource(kind, found, params["direction"])
        problems, remediation = [], None
        for member, tags in eventbridge.scope_members(host, kind, found):
            violation = scope_violation(member, tags, params["customer"], params["environment"])
            if violation:
                problems.append(violation["message"])
        if problems:
            remediation = "leave this resource out of the run, or fix the member's Customer/Environment tags"
        if plan["problem"]:
            problems.append(plan["problem"][0])
            remediation = plan["problem"][1]
        rows.append({"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "kind": kind,
                     "ready": not problems, "problems": problems, "remediation": remediation, "plan": plan["plan"],
                     "state": plan["before"],
                     # The same row as a record entry (a drill's ACTIVATE reports it and changes nothing).
                     "status": "failed" if problems else "succeeded", "after": plan["before"],
                     "error": "; ".join(problems) or None,
                     "summary": f"reported only: {plan['plan']}" if not problems else None})
    module.exit_json(changed=False, resources=rows)


if __name__ == "__main__":
    main()
