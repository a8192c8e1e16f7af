#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_source_instance
short_description: Retire the original EC2 instances of DRS source servers after a failover
version_added: 0.1.0
description:
  - The CLEANUP step of a DRS failover on the old primary side. With O(state=stopped) (the default) each
    original EC2 instance is stopped and tagged as the failback target of the execution, so a round-trip
    failback can later launch back into it with its instance ID and private IP.
  - With O(state=terminated) the instances are terminated. Use it only when round-trip failback is not wanted;
    it cannot be undone.
  - Instances are handled in batches per account and region, one client per account and region.
  - Before any change, each instance's own C(Customer) and C(Environment) tags are checked against
    O(customer) and O(environment); an instance outside the scope stops the task before anything changes.
  - Check mode predicts every change and makes none; C(--diff) shows state and tags before and after.
options:
  instances:
    description: The original EC2 instances.
    type: list
    elements: dict
    required: true
    suboptions:
      instance_id:
        description: The EC2 instance ID.
        type: str
        required: true
      account_id:
        description: The account of the instance. Defaults to the module's own credentials.
        type: str
      region:
        description: The region of the instance (the primary region). Defaults to the module's region.
        type: str
      hostname:
        description: The server's hostname, for messages.
        type: str
  state:
    description: C(stopped) keeps the instance as a failback target; C(terminated) removes it.
    type: str
    choices: [stopped, terminated]
    default: stopped
  execution_id:
    description: The execution that retired the instance, written to the C(dr:failback-execution-id) tag.
    type: str
  failback_tags:
    description: Extra tags written on stopped instances.
    type: dict
    default: {}
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
- name: Stop the old source instances and keep them as failback targets
  enterprise_dr.orchestration.drs_source_instance:
    customer: acme
    environment: production
    execution_id: "{{ dr_run.execution_id }}"
    instances:
      - instance_id: i-0aaa1111bbbb2222c
        account_id: "210987654321"
        region: us-east-1
        hostname: acme-prod-web01
    accounts: "{{ dr_accounts }}"
"""

RETURN = r"""
instances:
  description: One entry per instance with its state and tags before and after.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id: {description: The instance ID., type: str}
    hostname: {description: The server's hostname., type: str}
    account_id: {description: The account., type: str}
    region: {description: The region., type: str}
    changed: {description: Whether this instance changed (or would change in check mode)., type: bool}
    before: {description: State and tags before., type: dict}
    after: {description: State and tags after (predicted in check mode)., type: dict}
diff:
  description: Before and after of every instance that changed.
  returned: when changed
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import tags_dict
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

TAG_FAILBACK_TARGET = "dr:failback-target"
TAG_FAILBACK_EXECUTION = "dr:failback-execution-id"
GONE = ("shutting-down", "terminated")


def desired_change(instance, state, wanted_tags):
    """(before, after, actions) for one instance (pure: unit-tested)."""
    current_state = (instance.get("State") or {}).get("Name")
    tags = tags_dict(instance)
    before = {"state": current_state, "private_ip": instance.get("PrivateIpAddress"), "tags": tags}
    actions = []
    if state == "terminated":
        after = dict(before, state=current_state if current_state in GONE else "terminated")
        if current_state not in GONE:
            actions.append("terminate")
        return before, after, actions
    retired_already = current_state in ("stopping", "stopped") and tags.get(TAG_FAILBACK_TARGET) == "true"
    if retired_already and tags.get(TAG_FAILBACK_EXECUTION):
        # Retired by an earlier run: keep the ID of the execution that actually retired it (failback reads it).
        wanted_tags = {k: v for k, v in wanted_tags.items() if k != TAG_FAILBACK_EXECUTION}
    missing = {k: v for k, v in wanted_tags.items() if tags.get(k) != v}
    after_state = current_state
    if current_state in ("pending", "running"):
        actions.append("stop")
        after_state = "stopped"
    if missing:
        actions.append("tag")
    return before, dict(before, state=after_state, tags=dict(tags, **missing)), actions


def main():
    argument_spec = dict(
        instances=dict(
            type="list", elements="dict", required=True,
            options=dict(
                instance_id=dict(type="str", required=True),
                account_id=dict(type="str"),
                region=dict(type="str"),
                hostname=dict(type="str"),
            ),
        ),
        state=dict(type="str", choices=["stopped", "terminated"], default="stopped"),
        execution_id=dict(type="str"),
        failback_tags=dict(type="dict", default={}),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    wanted_tags = {TAG_FAILBACK_TARGET: "true", **{str(k): str(v) for k, v in params["failback_tags"].items()}}
    if params["execution_id"]:
        wanted_tags[TAG_FAILBACK_EXECUTION] = params["execution_id"]
    try:
        factory = ClientFactory(module, params["accounts"])
        entries = [dict(i, region=i.get("region") or factory.default_region) for i in params["instances"]]
        groups = group_by_account_region(entries, default_region=factory.default_region)

        def read(key):
            return describe_instances(factory.client("ec2", account_id=key[0], region=key[1]),
                                      [e["instance_id"] for e in groups[key]])

        found = run_concurrently(read, groups)
        missing = [f"{e['instance_id']} ({e.get('hostname') or '?'}) in {key[0] or 'default account'}/{key[1]}"
                   for key, group in groups.items() for e in group if e["instance_id"] not in found[key]]
        if missing:
            module.fail_json(msg=f"Original instances not found: {'; '.join(missing)}. Check the execution record's "
                                 "source instance IDs and the account/region; nothing was changed.")
        check_scope(((f"{e['instance_id']} ({e.get('hostname') or 'no hostname'})",
                      tags_dict(found[key][e["instance_id"]])) for key, group in groups.items() for e in group),
                    params["customer"], params["environment"])

        plans = {}
        for key, group in groups.items():
            for entry in group:
                plans[(key, entry["instance_id"])] = desired_change(found[key][entry["instance_id"]], params["state"],
                                                                    wanted_tags)

        delay = max(1, min(15, params["poll_interval"]))
        waiter_config = {"Delay": delay, "MaxAttempts": max(1, params["wait_timeout"] // delay)}

        def apply(key):
            ec2 = factory.client("ec2", account_id=key[0], region=key[1])
            ids = {action: [e["instance_id"] for e in groups[key] if action in plans[(key, e["instance_id"])][2]]
                   for action in ("stop", "tag", "terminate")}
            if ids["tag"]:
                ec2.create_tags(Resources=ids["tag"], Tags=[{"Key": k, "Value": v} for k, v in wanted_tags.items()])
            if ids["stop"]:
                ec2.stop_instances(InstanceIds=ids["stop"])
                if params["wait"]:
                    ec2.get_waiter("instance_stopped").wait(InstanceIds=ids["stop"], WaiterConfig=waiter_config)
            if ids["terminate"]:
                ec2.terminate_instances(InstanceIds=ids["terminate"])
                if params["wait"]:
                    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids["terminate"], WaiterConfig=waiter_config)

        changed_groups = [key for key in groups if any(plans[(key, e["instance_id"])][2] for e in groups[key])]
        if changed_groups and not module.check_mode:
            run_concurrently(apply, changed_groups)
    except ScopeError as e:
        module.fail_json(msg=str(e), violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, botocore.exceptions.WaiterError) as e:
        module.fail_json_aws(e, msg=f"Failed to set the original instances {params['state']}")

    rows = []
    for key, group in groups.items():
        for entry in group:
            before, after, actions = plans[(key, entry["instance_id"])]
            rows.append({"instance_id": entry["instance_id"], "hostname": entry.get("hostname"), "account_id": key[0],
                         "region": key[1], "changed": bool(actions), "actions": actions, "before": before,
                         "after": after})
    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, instances=rows)
    if changed:
        result["diff"] = {
            "before": {r["instance_id"]: r["before"] for r in rows if r["changed"]},
            "after": {r["instance_id"]: r["after"] for r in rows if r["changed"]},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
