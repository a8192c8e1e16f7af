#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_reverse_replication
short_description: Start DRS reverse replication for failed-over servers, or re-protect failed-back ones
version_added: 0.1.0
description:
  - The REPLICATE phase of a DRS round trip, for a whole wave at once (grouped by account and region, one
    client per group, groups concurrently).
  - With O(direction=failback) (after a failover) it calls C(ReverseReplication) on each server's recovery
    instance in the DR region. DRS creates a C(FAILBACK)-direction source server in the original region,
    which this module finds by C(replicationDirection) and C(identificationHints.awsInstanceID), never by the
    possibly stale C(reversedDirectionSourceServerArn), and waits until it is C(CONTINUOUS) with its lag
    under O(lag_threshold_seconds).
  - With O(direction=reprotect) (after a failback) it calls C(ReverseReplication) on the failed-back original
    instance (the recovery instance of the C(FAILBACK) server), which re-points the existing forward source
    server at it, and waits until forward replication is C(CONTINUOUS) again.
  - Servers are given as the forward source servers (the inventory's DRS hosts); the failover's execution
    record (O(failover_resources)) supplies the staging account, the original instance and the DR instance.
    The reversed server must replicate into the staging account the failover used; a server whose staging
    account cannot be determined stops the task before any change.
  - C(ReverseReplication) answers C(ConflictException) until the recovery instance's agent has initialized;
    that conflict is retried with exponential backoff up to O(agent_ready_timeout) seconds.
  - Idempotent - a recovery instance whose reverse replication already started is not touched again.
    Check mode predicts which servers would start reverse replication and calls nothing that changes.
  - Before any change the forward source servers' own C(Customer) and C(Environment) tags are checked
    against O(customer) and O(environment).
options:
  servers:
    description:
      - The forward source servers (as M(enterprise_dr.orchestration.drs_recover) takes them, for example from
        the C(enterprise_dr.orchestration.dr_drs_servers) filter).
    type: list
    elements: dict
    required: true
    suboptions:
      source_server_id:
        description: The forward DRS source server ID (C(s-...)), in the DR region.
        type: str
        required: true
      account_id:
        description: The DRS recovery account. Defaults to the module's own credentials.
        type: str
      region:
        description: The DR region. Defaults to the module's region.
        type: str
      hostname:
        description: The server's hostname, for messages.
        type: str
      priority:
        description: Not used; accepted so a wave's server list can be passed as it is.
        type: str
      source_instance_id:
        description: The original EC2 instance, when the record does not name it.
        type: str
      source_region:
        description: The original region, when the record does not name it.
        type: str
      target_instance_id:
        description: The DR instance, when the record does not name it.
        type: str
      expected_private_ip:
        description: The DR instance's private IP, when the record does not name it.
        type: str
      staging_account_id:
        description: The staging account, overriding the record's.
        type: str
  failover_resources:
    description:
      - The resource entries of the failover's execution record (C(execution.resources) of
        M(enterprise_dr.orchestration.execution_record_info)).
        Their C(before) holds the staging account, the original instance and the DR instance of each server.
    type: list
    elements: dict
    default: []
  direction:
    description:
      - C(failback) reverses a failover (DR region to the original region).
      - C(reprotect) reverses a failback (the original region to the DR region again).
    type: str
    choices: [failback, reprotect]
    default: failback
  lag_threshold_seconds:
    description: The reversed replication is ready when C(CONTINUOUS) with a lag under this many seconds.
    type: int
    default: 60
  agent_ready_timeout:
    description: How long to retry the agent-not-ready C(ConflictException) of C(ReverseReplication).
    type: int
    default: 600
  record_phase:
    description: When set, RV(record_entries) holds one execution record entry per server for this phase.
    type: str
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
- name: Reverse replication of the wave back to the original region, in the failover's staging account
  enterprise_dr.orchestration.drs_reverse_replication:
    servers: "{{ ansible_play_batch | map('extract', hostvars) | enterprise_dr.orchestration.dr_drs_servers }}"
    failover_resources: "{{ failover_record.execution.resources }}"
    customer: acme
    environment: production
    lag_threshold_seconds: 60
    accounts: "{{ dr_accounts }}"

- name: Re-protect the failed-back original instances
  enterprise_dr.orchestration.drs_reverse_replication:
    servers: "{{ wave_servers }}"
    failover_resources: "{{ failover_record.execution.resources }}"
    direction: reprotect
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
    recovery_instance_id: {description: The recovery instance reverse replication starts from., type: str}
    reversed_source_server_id: {description: The source server replicating in the reversed direction., type: str}
    reversed_source_server_arn: {description: Its ARN., type: str}
    reversed_region: {description: Its region., type: str}
    staging_account_id: {description: The staging account it replicates into., type: str}
    replication_state: {description: Its replication state (null in check mode before it exists)., type: str}
    lag_seconds: {description: Its replication lag., type: float}
    action: {description: C(start) (reverse replication started or would start) or C(none)., type: str}
    attempts: {description: ReverseReplication calls made (agent-not-ready conflicts retried)., type: int}
    ready: {description: Whether the reversed replication is CONTINUOUS with lag under the threshold., type: bool}
    changed: {description: Whether this server changed (or would in check mode)., type: bool}
    error: {description: "\"Why this server failed, with the fix.\"", type: str}
record_entries:
  description: Execution record entries (with O(record_phase)).
  returned: when O(record_phase) is set
  type: list
  elements: dict
diff:
  description: Reversed source server per server before and after.
  returned: when changed
  type: dict
"""


try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FAILBACK_SERVERS_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FAILOVER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FailbackView
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import aws_instance_id
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import build_pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import call_when_agent_ready
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import direction
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import effective_staging_account
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import error_message
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import label
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import record_entry
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import replication_ready
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import reverse_started
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import server_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import until as poll_until


def plan(pair, mode):
    """Where reverse replication starts and where its server appears, for one loaded pair (pure)."""
    if mode == "failback":
        ri = pair.get("dr_recovery_instance")
        return {
            "recovery_instance": ri,
            "ri_key": (pair.get("account_id"), pair.get("region")),
            "reversed_key": (pair.get("staging_account_id"), pair.get("original_region")),
            "reversed": pair.get("failback_server"),
            "missing": None if ri else (f"{label(pair)} has no recovery instance in {pair.get('region')}",
                                        "fail over first (INSTANTIATE launches the recovery instance)"),
        }
    ri = pair.get("origin_recovery_instance")
    forward = pair.get("forward")
    reversed_server = forward if forward and direction(forward) == FAILOVER and ri and \
        aws_instance_id(forward) == ri.get("ec2InstanceID") else None
    missing = None
    if pair.get("failback_server") is None:
        missing = (f"{label(pair)} has no FAILBACK source server in {pair.get('original_region')}",
                   "fail back first (reverse replication, then the failback launch)")
    elif ri is None:
        missing = (f"the FAILBACK source server {pair['failback_server']['sourceServerID']} of {label(pair)} has no "
                   f"recovery instance in {pair.get('original_region')}", "launch the failback first (INSTANTIATE)")
    return {
        "recovery_instance": ri,
        "ri_key": (pair.get("staging_account_id"), pair.get("original_region")),
        "reversed_key": (pair.get("account_id"), pair.get("region")),
        "reversed": reversed_server,
        "missing": missing,
    }


def main():
    argument_spec = dict(
        **FAILBACK_SERVERS_SPEC,
        direction=dict(type="str", choices=["failback", "reprotect"], default="failback"),
        lag_threshold_seconds=dict(type="int", default=60),
        agent_ready_timeout=dict(type="int", default=600),
        record_phase=dict(type="str"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    mode = params["direction"]
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        pairs = build_pairs(params, factory.default_region)
        unknown = [label(p) for p in pairs if not p.get("staging_account_id") or not p.get("original_region")]
        if unknown:
            module.fail_json(msg=(
                f"Cannot determine the staging account (or original region) the failover used for "
                f"{', '.join(unknown)}; "
                "nothing was changed. Fix: pass the failover's execution record resources (failover_resources) "
                "or staging_account_id per server; reverse replication must use the failover's staging account."))
        view = FailbackView(factory, run_concurrently)
        view.load(pairs)
        missing_forward = [label(p) for p in pairs if p.get("forward") is None]
        if missing_forward:
            module.fail_json(msg=f"Source servers not found in DRS: {', '.join(missing_forward)}; nothing was changed. "
                                 "Fix: check the account and region of each server.")
        check_scope(((label(p), (p["forward"] or {}).get("tags") or {}) for p in pairs),
                    params["customer"], params["environment"])

        plans = [plan(p, mode) for p in pairs]
        problems = [f"{m['missing'][0]}. Fix: {m['missing'][1]}" for m in plans if m["missing"]]
        if problems:
            module.fail_json(msg="Cannot start reverse replication, nothing was changed: " + " | ".join(problems))
        for pair, item in zip(pairs, plans):
            item["pair"] = pair
            item["started"] = reverse_started(item["recovery_instance"], item["reversed"])
            item["attempts"] = 0
            item["error"] = None
        to_start = [item for item in plans if not item["started"]]

        if to_start and not module.check_mode:
            by_key = {}
            for item in to_start:
                by_key.setdefault(item["ri_key"], []).append(item)
            deadline_seconds = min(params["agent_ready_timeout"], params["wait_timeout"])

            def start_group(key):
                client = view.drs(*key)
                for item in by_key[key]:
                    ri_id = item["recovery_instance"]["recoveryInstanceID"]
                    try:
                        response, item["attempts"] = call_when_agent_ready(
                            lambda ri_id=ri_id: client.reverse_replication(recoveryInstanceID=ri_id), deadline_seconds)
                        item["arn"] = response.get("reversedDirectionSourceServerArn")
                    except botocore.exceptions.ClientError as e:
                        item["error"] = (f"ReverseReplication of recovery instance {ri_id} ({label(item['pair'])}) "
                                         f"failed: {error_message(e)}. Fix: check the recovery instance runs, its "
                                         "agent reports to DRS and the prerequisites (validate_failback.yml) pass, "
                                         "then re-run")

            run_concurrently(start_group, list(by_key))

        # Find the reversed servers again (by direction and instance ID) and wait for them.
        def refresh():
            view.refresh({item["reversed_key"] for item in plans} | {item["ri_key"] for item in plans})
            for item in plans:
                view.attach(item["pair"])
                item.update({k: v for k, v in plan(item["pair"], mode).items()
                             if k in ("reversed", "recovery_instance")})

        def all_ready():
            refresh()
            return all(item["error"] or replication_ready(item["reversed"], params["lag_threshold_seconds"])[0]
                       for item in plans)

        if not module.check_mode and (to_start or params["wait"]):
            if params["wait"]:
                poll_until(all_ready, params["wait_timeout"], params["poll_interval"])
            else:
                refresh()
    except ScopeError as e:
        module.fail_json(msg=str(e), violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except DRSError as e:
        module.fail_json(msg=str(e), resource=e.resource)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to start or follow reverse replication")

    entries = []
    for item in plans:
        pair = item["pair"]
        reversed_server = item["reversed"]
        summary = server_summary(reversed_server) or {}
        ready, problem = replication_ready(reversed_server, params["lag_threshold_seconds"])
        error = item["error"]
        staging = pair.get("staging_account_id")
        if not error and reversed_server is not None and effective_staging_account(reversed_server) != staging:
            error = (f"{label(pair)}: the reversed source server {summary.get('source_server_id')} stages in account "
                     f"{summary.get('staging_account_id')}, the failover used {staging}. Fix: reverse replication must "
                     "use the failover's staging account")
        if not error and not ready and not module.check_mode and params["wait"]:
            error = (f"{label(pair)}: reversed replication is not ready after {params['wait_timeout']}s ({problem}). "
                     "Fix: check the replication in the DRS console, then re-run (nothing is started twice)")
        row = {
            "source_server_id": pair["source_server_id"],
            "hostname": pair.get("hostname"),
            "account_id": pair.get("account_id"),
            "region": pair.get("region"),
            "recovery_instance_id": (item["recovery_instance"] or {}).get("recoveryInstanceID"),
            "reversed_source_server_id": summary.get("source_server_id"),
            "reversed_source_server_arn": summary.get("arn") or item.get("arn"),
            "reversed_region": item["reversed_key"][1],
            "staging_account_id": staging,
            "replication_state": summary.get("replication_state"),
            "lag_seconds": summary.get("lag_seconds"),
            "action": "none" if item["started"] else "start",
            "attempts": item["attempts"],
            "ready": ready,
            "changed": not item["started"] and not item["error"],
            "error": error,
        }
        rows.append(row)
        if params["record_phase"]:
            key = "failback" if mode == "failback" else "reprotect"
            after = {f"{key}_source_server_id": row["reversed_source_server_id"],
                     f"{key}_source_server_arn": row["reversed_source_server_arn"],
                     f"{key}_region": row["reversed_region"],
                     f"{key}_replication_state": row["replication_state"],
                     f"{key}_recovery_instance_id": row["recovery_instance_id"],
                     "staging_account_id": staging}
            status = "failed" if error else ("succeeded" if ready else "running")
            entries.append(record_entry(pair, params["record_phase"], status, after, error,
                                        "see the error" if error else None))
    changed = any(r["changed"] for r in rows)
    result = {"changed": changed, "servers": rows}
    if params["record_phase"]:
        result["record_entries"] = entries
    if changed:
        result["diff"] = {
            "before": {r["source_server_id"]: {"reversed_source_server_id": None} for r in rows if r["changed"]},
            "after": {r["source_server_id"]: {"reversed_source_server_id": r["reversed_source_server_id"] or "(new)",
                                              "replication_state": r["replication_state"]}
                      for r in rows if r["changed"]},
        }
    failed = [r for r in rows if r["error"]]
    if failed:
        module.fail_json(msg=" | ".join(r["error"] for r in failed), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
