#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_failback_cleanup
short_description: Retire what a DRS failback leaves behind, in the order DRS requires
version_added: 0.1.0
description:
  - O(step=dr_side) (the failback's CLEANUP, after the original instances run again) stops replication of each
    C(FAILBACK) source server first (DRS refuses to remove a recovery instance that still feeds one), then
    returns the DR recovery instance to a stopped, pre-provisioned target kept tagged
    C(AWSDRS=AllowLaunchingIntoThisInstance) for the next failover (O(dr_instances=stopped), the default) or
    terminates it (O(dr_instances=terminated)), and deletes its DRS recovery instance record.
  - O(step=failback_servers) (after re-protect) deletes the original region's recovery instance record of each
    failed-back instance (the EC2 instance, production again, is never touched), then disconnects and deletes the
    C(FAILBACK) source server.
  - C(FAILBACK) servers are found by C(replicationDirection) and C(identificationHints.awsInstanceID).
  - Grouped by account and region, one client per group. Idempotent; check mode predicts each action.
  - Before any change the forward source servers' and the DR instances' own C(Customer)/C(Environment) tags are
    checked against O(customer) and O(environment).
options:
  servers:
    description: The forward source servers (the inventory's DRS hosts through C(dr_drs_servers)).
    type: list
    elements: dict
    required: true
    suboptions:
      source_server_id: {description: The forward source server ID., type: str, required: true}
      account_id: {description: The DRS recovery account., type: str}
      region: {description: The DR region., type: str}
      hostname: {description: The hostname., type: str}
      priority: {description: Not used., type: str}
      source_instance_id: {description: The original instance when the record does not name it., type: str}
      source_region: {description: The original region when the record does not name it., type: str}
      target_instance_id: {description: The DR instance when the record does not name it., type: str}
      expected_private_ip: {description: Not used here., type: str}
      staging_account_id: {description: "The staging account, overriding the record's.", type: str}
  failover_resources:
    description: The resource entries of the failover's execution record.
    type: list
    elements: dict
    default: []
  step:
    description: C(dr_side) after the failback launch; C(failback_servers) after re-protect.
    type: str
    choices: [dr_side, failback_servers]
    required: true
  dr_instances:
    description:
      - With O(step=dr_side), C(stopped) keeps the DR instances as launch-into targets; C(terminated) removes them.
    type: str
    choices: [stopped, terminated]
    default: stopped
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
- name: Return the DR instances to stopped targets and stop the FAILBACK replication
  enterprise_dr.orchestration.drs_failback_cleanup:
    servers: "{{ wave_servers }}"
    failover_resources: "{{ failover.execution.resources }}"
    step: dr_side
    customer: acme

- name: After re-protect, remove the FAILBACK source servers
  enterprise_dr.orchestration.drs_failback_cleanup:
    servers: "{{ wave_servers }}"
    failover_resources: "{{ failover.execution.resources }}"
    step: failback_servers
    customer: acme
"""

RETURN = r"""
servers:
  description: One entry per server.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id: {description: The forward source server., type: str}
    hostname: {description: The hostname., type: str}
    actions: {description: "\"What was (or in check mode would be) done, in order.\"", type: list, elements: str}
    failback_source_server_id: {description: The FAILBACK source server., type: str}
    dr_instance_id: {description: The DR instance., type: str}
    changed: {description: Whether anything changed for this server., type: bool}
diff:
  description: Actions per server.
  returned: when changed
  type: dict
"""

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET_VALUE
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FAILBACK
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FAILBACK_SERVERS_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FailbackView
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import aws_instance_id
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import build_pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import direction
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import error_code
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import label
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import replication_state
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import tags_dict
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope


def failback_servers_of(view, pair):
    """Every FAILBACK server of the pair's DR instance, disconnected ones included (an interrupted cleanup)."""
    items = view.servers.get(view.origin_key(pair), [])
    return [s for s in items if direction(s) == FAILBACK and aws_instance_id(s) == pair.get("dr_instance_id")]


def plan_dr_side(pair, instance, dr_instances):
    """Ordered actions for one server's DR side (pure)."""
    actions = []
    failback = pair.get("failback_server")
    if failback and replication_state(failback) not in ("STOPPED", "DISCONNECTED"):
        actions.append("stop_failback_replication")
    state = ((instance or {}).get("State") or {}).get("Name")
    if dr_instances == "stopped" and instance is not None:
        if state in ("pending", "running"):
            actions.append("stop_dr_instance")
        if tags_dict(instance).get(TAG_DRS_TARGET) != TAG_DRS_TARGET_VALUE:
            actions.append("tag_dr_instance_as_target")
    if pair.get("dr_recovery_instance"):
        actions.append("delete_dr_recovery_instance_record")
    if dr_instances == "terminated" and instance is not None and state not in ("shutting-down", "terminated"):
        actions.append("terminate_dr_instance")
    return actions


def plan_failback_servers(pair, failback_servers, origin_ris):
    actions = []
    if origin_ris:
        actions.append("delete_origin_recovery_instance_record")
    for server in failback_servers:
        state = replication_state(server)
        if state not in ("STOPPED", "DISCONNECTED"):
            actions.append(f"stop_replication:{server['sourceServerID']}")
        if state != "DISCONNECTED":
            actions.append(f"disconnect:{server['sourceServerID']}")
        actions.append(f"delete:{server['sourceServerID']}")
    return actions


def delete_record(drs, ri_id):
    """DeleteRecoveryInstance; a recovery instance without reversed replication must be disconnected first."""
    try:
        drs.delete_recovery_instance(recoveryInstanceID=ri_id)
    except botocore.exceptions.ClientError as e:
        if error_code(e) != "ConflictException":
            raise
        drs.disconnect_recovery_instance(recoveryInstanceID=ri_id)
        drs.delete_recovery_instance(recoveryInstanceID=ri_id)


def main():
    argument_spec = dict(
        **FAILBACK_SERVERS_SPEC,
        step=dict(type="str", choices=["dr_side", "failback_servers"], required=True),
        dr_instances=dict(type="str", choices=["stopped", "terminated"], default="stopped"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        pairs = build_pairs(params, factory.default_region)
        unknown = [label(p) for p in pairs if not p.get("staging_account_id") or not p.get("original_region")]
        if unknown:
            module.fail_json(msg=f"Cannot determine the staging account the failover used for {', '.join(unknown)}; "
                                 "nothing was changed. Fix: pass the failover's execution record (failover_resources).")
        view = FailbackView(factory, run_concurrently)
        view.load(pairs)
        dr_groups = {}
        for pair in pairs:
            dr_groups.setdefault((pair.get("account_id"), pair.get("region")), []).append(pair.get("dr_instance_id"))
        instances = run_concurrently(
            lambda key: describe_instances(factory.client("ec2", account_id=key[0], region=key[1]), dr_groups[key]),
            list(dr_groups))
        scoped = [(label(p), (p.get("forward") or {}).get("tags") or {}) for p in pairs]
        if params["step"] == "dr_side":
            scoped += [(f"DR instance {p['dr_instance_id']} of {label(p)}",
                        tags_dict(instances[(p.get("account_id"), p.get("region"))][p["dr_instance_id"]]))
                       for p in pairs if p.get("dr_instance_id") in instances[(p.get("account_id"), p.get("region"))]]
        check_scope(scoped, params["customer"], params["environment"])

        for pair in pairs:
            instance = instances[(pair.get("account_id"), pair.get("region"))].get(pair.get("dr_instance_id"))
            if params["step"] == "dr_side":
                pair["instance"] = instance
                pair["actions"] = plan_dr_side(pair, instance, params["dr_instances"])
            else:
                pair["failback_servers"] = failback_servers_of(view, pair)
                ids = {s["sourceServerID"] for s in pair["failback_servers"]}
                pair["origin_ris"] = [i for i in view.recovery_instances.get(view.origin_key(pair), [])
                                      if i.get("sourceServerID") in ids]
                pair["actions"] = plan_failback_servers(pair, pair["failback_servers"], pair["origin_ris"])

        deadline = time.monotonic() + params["wait_timeout"]

        def apply_dr_side(pair):
            dr_key, origin_key = view.dr_key(pair), view.origin_key(pair)
            ec2 = factory.client("ec2", account_id=dr_key[0], region=dr_key[1])
            actions = pair["actions"]
            if "stop_failback_replication" in actions:
                view.drs(*origin_key).stop_replication(sourceServerID=pair["failback_server"]["sourceServerID"])
            if "tag_dr_instance_as_target" in actions:
                ec2.create_tags(Resources=[pair["dr_instance_id"]],
                                Tags=[{"Key": TAG_DRS_TARGET, "Value": TAG_DRS_TARGET_VALUE}])
            if "stop_dr_instance" in actions:
                ec2.stop_instances(InstanceIds=[pair["dr_instance_id"]])
                if params["wait"]:
                    delay = max(1, min(15, params["poll_interval"]))
                    ec2.get_waiter("instance_stopped").wait(InstanceIds=[pair["dr_instance_id"]], WaiterConfig={
                        "Delay": delay, "MaxAttempts": max(1, int((deadline - time.monotonic()) // delay))})
            if "delete_dr_recovery_instance_record" in actions:
                delete_record(view.drs(*dr_key), pair["dr_recovery_instance"]["recoveryInstanceID"])
            if "terminate_dr_instance" in actions:
                ec2.terminate_instances(InstanceIds=[pair["dr_instance_id"]])

        def apply_failback_servers(pair):
            drs = view.drs(*view.origin_key(pair))
            for ri in pair["origin_ris"]:
                delete_record(drs, ri["recoveryInstanceID"])
            for action in pair["actions"]:
                verb, _sep, server_id = action.partition(":")
                if verb == "stop_replication":
                    drs.stop_replication(sourceServerID=server_id)
                elif verb == "disconnect":
                    drs.disconnect_source_server(sourceServerID=server_id)
                elif verb == "delete":
                    drs.delete_source_server(sourceServerID=server_id)

        todo = [p for p in pairs if p["actions"]]
        if todo and not module.check_mode:
            apply = apply_dr_side if params["step"] == "dr_side" else apply_failback_servers
            for pair in todo:
                try:
                    apply(pair)
                except botocore.exceptions.ClientError as e:
                    raise DRSError(f"failback cleanup of {label(pair)} failed at {pair['actions']}: {e}",
                                   resource=pair["source_server_id"],
                                   remediation="fix the cause and re-run; finished steps are not repeated") from e
    except ScopeError as e:
        module.fail_json(msg=str(e), violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except DRSError as e:
        module.fail_json(msg=str(e), resource=e.resource)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, botocore.exceptions.WaiterError) as e:
        module.fail_json_aws(e, msg="Failed to clean up after the failback")

    for pair in pairs:
        rows.append({
            "source_server_id": pair["source_server_id"],
            "hostname": pair.get("hostname"),
            "account_id": pair.get("account_id"),
            "region": pair.get("region"),
            "actions": pair["actions"],
            "failback_source_server_id": (pair.get("failback_server") or {}).get("sourceServerID"),
            "dr_instance_id": pair.get("dr_instance_id"),
            "changed": bool(pair["actions"]),
        })
    changed = any(r["changed"] for r in rows)
    result = {"changed": changed, "servers": rows}
    if changed:
        result["diff"] = {"before": {r["source_server_id"]: [] for r in rows if r["changed"]},
                          "after": {r["source_server_id"]: r["actions"] for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
