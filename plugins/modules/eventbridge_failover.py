#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eventbridge_failover
short_description: Move EventBridge event routing to the DR region (rules and global endpoints), or back
version_added: 0.2.0
description:
  - The ACTIVATE step of the EventBridge adapter, for a whole wave at once.
  - A protected B(rule) is the rule of the primary region; its DR twin is the rule of the same name on the event bus
    of the same name in the DR region. With O(direction=failover) the DR rule is enabled and the primary's rule is
    disabled when the primary region answers (a region that does not answer is reported, not waited for);
    O(direction=failback) is the mirror. Rules are toggled with C(EnableRule)/C(DisableRule), never C(PutRule).
  - A B(global endpoint) fails over only through the Route 53 health check of its primary. O(direction=failover) sets
    that health check C(Disabled) and C(Inverted) (always unhealthy, so custom events route to the secondary bus);
    O(direction=failback) clears both (the check is evaluated again). The endpoint is then checked C(ACTIVE).
  - Idempotent and resume-safe - each side's live state is read first and only what differs is changed, so a re-run
    after an interruption never toggles anything twice.
  - Before any change, the C(Customer)/C(Environment) tags of both rules (or of the endpoint's event buses and its
    health check) are checked against the scope; anything out of scope stops the task before the first change.
  - Check mode reads and returns each resource's C(plan); C(--diff) shows before and after.
options:
  resources:
    description:
      - The wave's EventBridge resources, each the host's own C(dr_*) variables (C(dr_arn), C(dr_account_id),
        C(dr_primary_region), C(dr_dr_region), C(dr_eventbridge), C(inventory_hostname)).
    type: list
    elements: dict
    required: true
  direction:
    description: C(failover) activates the DR region, C(failback) the primary region.
    type: str
    choices: [failover, failback]
    default: failover
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
- name: Route the wave's events to the DR region
  enterprise_dr.orchestration.eventbridge_failover:
    customer: acme
    environment: production
    direction: failover
    resources: "{{ adapter_hosts }}"
    accounts: "{{ dr_accounts }}"
"""

RETURN = r"""
resources:
  description: One row per resource.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The resource's ARN (the host's dr_arn)., type: str}
    name: {description: The inventory host., type: str}
    kind: {description: C(rule) or C(endpoint)., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether this resource changed (would change in check mode)., type: bool}
    actions: {description: The calls made (or that check mode would make)., type: list, elements: str}
    plan: {description: "What happens to this resource, in words.", type: str}
    summary: {description: One line for the record., type: str}
    before: {description: "Rule states of both regions, or the endpoint's health check, before.", type: dict}
    after: {description: The same after (predicted in check mode)., type: dict}
    error: {description: Why this resource failed., type: str}
    remediation: {description: The fix., type: str}
diff:
  description: Before and after of every resource that changed.
  returned: when changed
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import eventbridge
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


def _row(host, kind, actions, before, after, summary, plan, error=None, remediation=None):
    return {"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "kind": kind,
            "status": "failed" if error else "succeeded", "changed": bool(actions) and not error,
            "actions": list(actions), "before": before, "after": after, "summary": summary, "plan": plan,
            "error": error, "remediation": remediation}


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    hosts = params["resources"]
    direction = params["direction"]
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        states = eventbridge.read_all(factory, hosts, direction, run_concurrently, group_by_account_region)
        members = []
        for host in hosts:
            members.extend(eventbridge.scope_members(host, *states[host["dr_arn"]]))
        check_scope(members, params["customer"], params["environment"])

        for host in hosts:
            kind, found = states[host["dr_arn"]]
            plan = eventbridge.plan_resource(kind, found, direction)
            if plan["problem"]:
                rows.append(_row(host, kind, [], plan["before"], plan["after"], None, plan["plan"], *plan["problem"]))
                continue
            actions, after = plan["actions"], plan["after"]
            error = remediation = None
            if kind == "rule" and not module.check_mode:
                if actions:
                    after["active_region_rule_state"] = eventbridge.apply_rule(factory, host, found, actions)
                if after["active_region_rule_state"] not in eventbridge.ENABLED_STATES:
                    error = (f"rule {found['name']} in {found['activate_region']} is "
                             f"{after['active_region_rule_state']} after EnableRule")
                    remediation = "check the rule in the EventBridge console and enable it by hand, then re-run"
            elif kind == "endpoint" and not module.check_mode:
                if actions:
                    eventbridge.apply_endpoint(factory, host, found, plan["wanted"])
                state = (eventbridge.wait_endpoint_active(factory, host, found, params["wait_timeout"],
                                                          params["poll_interval"]) if params["wait"] else None)
                after["endpoint_state"] = state or "unknown (region did not answer)"
                if state is not None and state != "ACTIVE":
                    error = f"global endpoint {found['name']} is {state}, not ACTIVE"
                    remediation = ("check the endpoint's StateReason (describe-endpoint) and fix it; the health "
                                   "check already routes events, re-run to check again")
            rows.append(_row(host, kind, actions, plan["before"], after, plan["summary"], plan["plan"], error,
                             remediation))
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"EventBridge {direction} failed", resources=rows)

    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, resources=rows)
    if changed:
        result["diff"] = {"before": {r["name"]: r["before"] for r in rows if r["changed"]},
                          "after": {r["name"]: r["after"] for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
