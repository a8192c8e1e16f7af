#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_global_failover
short_description: Move the writer of Aurora global databases to another region (switchover or failover)
version_added: 0.2.0
description:
  - Moves the writer of each global cluster to the member cluster in O(clusters[].target_region).
  - With O(mode=switchover) (planned, no data loss) it calls C(SwitchoverGlobalCluster) in the current writer's
    region; Aurora synchronizes the secondary first and keeps the old primary as a secondary.
  - With O(mode=failover) (unplanned, the primary region is down) it calls C(FailoverGlobalCluster) with
    C(AllowDataLoss) in the target's region; writes not yet replicated are lost, Aurora rebuilds the old primary
    as a secondary when its region is back. Members whose region does not answer are not read.
  - "Resume-safe: it reads C(FailoverState) and C(IsWriter) first. A target that is already the writer is left
    alone; an operation already in progress towards the target is waited for, never started twice."
  - One module run handles every cluster given (one client per account and region). Before any change every
    member's own C(Customer)/C(Environment) tags are checked; a member of another customer refuses the run.
  - With O(wait) it polls until C(FailoverState) is cleared and the target is the writer, then checks that the
    writer endpoint accepts TCP connections (O(endpoint_check)).
  - Check mode reads live state and returns what it would do per cluster (C(plan)), calling nothing that changes.
options:
  clusters:
    description: The global clusters.
    type: list
    elements: dict
    required: true
    suboptions:
      global_cluster_identifier:
        description: The global cluster identifier.
        type: str
        required: true
      target_region:
        description: The region whose member becomes the writer.
        type: str
        required: true
      account_id:
        description: The account of the global cluster. Defaults to the module's own credentials.
        type: str
      resource:
        description: The resource key returned on each row (the inventory host's C(dr_arn)).
        type: str
      name:
        description: The inventory host, returned on each row.
        type: str
  mode:
    description: C(switchover) (planned, no data loss) or C(failover) (unplanned, C(AllowDataLoss)).
    type: str
    choices: [switchover, failover]
    default: switchover
  endpoint_check:
    description: After the move, check that the new writer endpoint accepts a TCP connection.
    type: bool
    default: true
  endpoint_timeout:
    description: Seconds for the TCP check of the writer endpoint.
    type: int
    default: 10
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
- name: Switch the writer of the wave's global databases to the DR region
  enterprise_dr.orchestration.aurora_global_failover:
    customer: acme
    environment: production
    mode: switchover
    clusters:
      - global_cluster_identifier: acme-prod-orders
        account_id: "210987654321"
        target_region: us-west-2
    accounts: "{{ dr_accounts }}"
    wait_timeout: 1800
    poll_interval: 15
"""

RETURN = r"""
clusters:
  description: One row per global cluster.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The resource key given (or the global cluster identifier)., type: str}
    name: {description: The inventory host given., type: str}
    global_cluster_identifier: {description: The global cluster., type: str}
    action: {description: "C(none) (already the writer), C(wait) (resumed an operation in progress), C(switchover)
      or C(failover).", type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether this cluster was switched (or would be in check mode)., type: bool}
    summary: {description: One line for people., type: str}
    before: {description: Writer region and members before., type: dict}
    after: {description: "Writer region, members and endpoint check after (predicted in check mode).", type: dict}
    replication_lag_seconds: {description: The target's replication lag before the move (when reported)., type: float}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
plan:
  description: What the module does (or would do) per cluster, one line each.
  returned: always
  type: list
  elements: str
diff:
  description: Writer region before and after of every cluster that changed.
  returned: when changed
  type: dict
"""


try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import aurora
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import Poll


def main():
    argument_spec = dict(
        clusters=dict(type="list", elements="dict", required=True, options=dict(
            global_cluster_identifier=dict(type="str", required=True),
            target_region=dict(type="str", required=True),
            account_id=dict(type="str"),
            resource=dict(type="str"),
            name=dict(type="str"),
        )),
        mode=dict(type="str", choices=["switchover", "failover"], default="switchover"),
        endpoint_check=dict(type="bool", default=True),
        endpoint_timeout=dict(type="int", default=10),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    data_loss = params["mode"] == "failover"
    try:
        factory = ClientFactory(module, params["accounts"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}; nothing was changed")
    rows = []
    work = []  # (row, spec, target member)
    for spec in params["clusters"]:
        identifier = spec["global_cluster_identifier"]
        row = {"resource": spec.get("resource") or identifier, "name": spec.get("name"),
               "global_cluster_identifier": identifier, "account_id": spec.get("account_id"),
               "target_region": spec["target_region"], "changed": False}
        rows.append(row)
        try:
            state = aurora.read_state(factory, spec.get("account_id"), identifier, spec["target_region"], lag=True,
                                      tolerate_unreachable=data_loss)
            row["before"] = aurora.summary_state(state)
            row["_state"] = state
            action, target = aurora.plan_move(state, spec["target_region"], allow_data_loss=data_loss)
            row["action"] = action
            if target.get("replication_lag_seconds") is not None:
                row["replication_lag_seconds"] = target["replication_lag_seconds"]
            work.append((row, spec, target))
        except aurora.AuroraError as e:
            row.update(status="failed", error=str(e), remediation=e.remediation, action="none")
        except AccountAccessError as e:
            row.update(status="failed", error=f"cannot reach {e}", action="none",
                       remediation="check the account's role, external ID or profile")
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", error=f"reading {identifier}: {describe_error(e)}", action="none",
                       remediation="check the account's access to RDS in that region, then re-run")

    # The scope guard: every member of every cluster, before the first change.
    try:
        check_scope([pair for row in rows if row.get("_state")
                     for pair in aurora.scope_pairs(row["_state"], row["global_cluster_identifier"])],
                    params["customer"], params["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)

    plan = []
    for row, spec, target in work:
        verb = {"none": "already the writer, nothing to do",
                "wait": "a move to it is already in progress: wait for it (no second call)",
                "switchover": "SwitchoverGlobalCluster (planned, no data loss)",
                "failover": "FailoverGlobalCluster with AllowDataLoss (unplanned)"}[row["action"]]
        plan.append(f"{row['global_cluster_identifier']}: writer {row['before']['writer_region']} -> "
                    f"{spec['target_region']} ({target['identifier']}): {verb}")
        row["changed"] = row["action"] in ("switchover", "failover")

    if module.check_mode:
        for row, spec, target in work:
            row["after"] = dict(row["before"], writer_region=spec["target_region"], writer_cluster_arn=target["arn"])
            row["status"] = "succeeded"
            row["summary"] = plan[work.index((row, spec, target))]
        _exit(module, rows, plan)

    started = []
    for row, spec, target in work:
        if row["action"] == "none":
            started.append((row, spec, target))
            continue
        if row["action"] == "wait":
            started.append((row, spec, target))
            continue
        state = row["_state"]
        try:
            if data_loss:
                client = factory.client("rds", account_id=spec.get("account_id"), region=spec["target_region"])
                client.failover_global_cluster(GlobalClusterIdentifier=row["global_cluster_identifier"],
                                               TargetDbClusterIdentifier=target["arn"], AllowDataLoss=True)
            else:
                client = factory.client("rds", account_id=spec.get("account_id"), region=state["writer_region"])
                client.switchover_global_cluster(GlobalClusterIdentifier=row["global_cluster_identifier"],
                                                 TargetDbClusterIdentifier=target["arn"])
            started.append((row, spec, target))
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", changed=False, error=f"{row['action']} of {row['global_cluster_identifier']} "
                       f"to {spec['target_region']} refused: {describe_error(e)}",
                       remediation="fix the cause named by AWS (cluster state, engine versions, a DB instance in the "
                                   "target) and re-run the same command")

    pauses = Poll(params["wait_timeout"], params["poll_interval"])
    pending = list(started) if params["wait"] else []
    while pending:
        still = []
        for row, spec, target in pending:
            try:
                state = aurora.read_state(factory, spec.get("account_id"), row["global_cluster_identifier"],
                                          spec["target_region"], tolerate_unreachable=data_loss)
            except (aurora.AuroraError, BotoCoreError, ClientError) as e:
                row.update(status="failed", error=f"reading {row['global_cluster_identifier']}: {e}",
                           remediation="re-run the same command: it resumes without switching twice")
                continue
            row["_state"] = state
            done = not state["failover_state"] and state["writer_region"] == spec["target_region"]
            if not done:
                still.append((row, spec, target))
        pending = still
        if not pending:
            break
        if pauses.expired():
            for row, _spec, _target in pending:
                progress = row["_state"]["failover_state"].get("Status") or "writer not moved yet"
                row.update(status="failed", error=f"{row['global_cluster_identifier']} still {progress} after "
                           f"{params['wait_timeout']} s",
                           remediation="re-run the same command later: it waits for the operation in progress and "
                                       "never starts a second one")
            break
        pauses.pause()

    for row, spec, _target in started:
        if row.get("status") == "failed":
            continue
        state = row["_state"]
        after = aurora.summary_state(state)
        writer = aurora.member_in(state, spec["target_region"]) or {}
        if params["wait"] and params["endpoint_check"]:
            answered = aurora.tcp_answers(writer.get("endpoint"), writer.get("port"), params["endpoint_timeout"])
            after.update(writer_endpoint=f"{writer.get('endpoint')}:{writer.get('port')}", endpoint_answered=answered)
            if not answered:
                row.update(after=after, status="failed",
                           error=f"the new writer endpoint {writer.get('endpoint')}:{writer.get('port')} of "
                                 f"{row['global_cluster_identifier']} does not accept TCP connections",
                           remediation="check the cluster's instances and security groups in the DR region; the "
                                       "writer has moved, re-running does not switch again")
                continue
        row["after"] = after
        row["status"] = "succeeded" if params["wait"] or row["action"] == "none" else "running"
        how = {"none": "already the writer", "wait": "resumed the operation in progress",
               "switchover": "switchover", "failover": "failover, data loss allowed"}[row["action"]]
        moved_to = after["writer_region"] or spec["target_region"]
        row["summary"] = f"writer {row['before']['writer_region']} -> {moved_to} ({how})"
    _exit(module, rows, plan)


def _exit(module, rows, plan):
    for row in rows:
        row.pop("_state", None)
    changed = any(r.get("changed") for r in rows)
    result = dict(changed=changed, clusters=rows, plan=plan)
    if changed:
        result["diff"] = {
            "before": {r["resource"]: (r.get("before") or {}).get("writer_region") for r in rows if r["changed"]},
            "after": {r["resource"]: (r.get("after") or {}).get("writer_region") for r in rows if r["changed"]},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
