#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_replica
short_description: Promote RDS cross-region read replicas, or re-create them from the new primary
version_added: 0.2.0
description:
  - O(state=promoted) promotes the read replica in each pair's O(pairs[].target_region) (C(PromoteReadReplica), as
    amazon.aws's C(rds_instance) with C(read_replica=false) does), waits until replication has stopped and it is
    available (amazon.aws's C(read_replica_promoted) waiter), and checks its endpoint accepts TCP connections.
    An instance that is no longer a replica is left alone (a resumed run never promotes twice).
  - O(state=replica) re-creates the replica in O(pairs[].source_region) (the region the primary left) from the
    instance in O(pairs[].target_region), under the pair's identifier in that region. The old primary that holds the
    identifier is kept, renamed C(<identifier>-pre-<execution>) and tagged C(dr:enabled=false) and
    C(dr:retired-by-execution), so no data is deleted and discovery no longer protects it. An instance that already
    replicates from the new primary is left alone.
  - One module run for every pair given (one client per account and region). Each instance's own
    C(Customer)/C(Environment) tags are checked before any change. Check mode returns C(plan) and changes nothing.
options:
  pairs:
    description: The replication pairs.
    type: list
    elements: dict
    required: true
    suboptions:
      target_region:
        description: The region whose instance is (or becomes) the primary.
        type: str
        required: true
      target_identifier:
        description: The DB instance identifier in O(pairs[].target_region).
        type: str
        required: true
      source_region:
        description: The other region of the pair.
        type: str
        required: true
      source_identifier:
        description: The DB instance identifier in O(pairs[].source_region).
        type: str
        required: true
      account_id:
        description: The account. Defaults to the module's own credentials.
        type: str
      resource:
        description: Returned on each row (the inventory host's C(dr_arn)).
        type: str
      name:
        description: Returned on each row (the inventory host).
        type: str
  state:
    description: C(promoted) or C(replica).
    type: str
    choices: [promoted, replica]
    default: promoted
  backup_retention_period:
    description: Backup retention (days) of a promoted instance (replicas have none).
    type: int
    default: 7
  execution_id:
    description: Names the renamed old primary (C(<identifier>-pre-<execution>)).
    type: str
  endpoint_check:
    description: After a promotion, check the endpoint accepts a TCP connection.
    type: bool
    default: true
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
- name: Promote the wave's replicas in the DR region
  enterprise_dr.orchestration.rds_replica:
    customer: acme
    state: promoted
    pairs:
      - {target_region: us-west-2, target_identifier: acme-prod-ledger, source_region: us-east-1,
         source_identifier: acme-prod-ledger, account_id: "210987654321"}
"""

RETURN = r"""
pairs:
  description: One row per pair.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The resource key given., type: str}
    name: {description: The inventory host given., type: str}
    action: {description: "C(none), C(wait), C(promote), C(create) or C(replace).", type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether it changed (or would in check mode)., type: bool}
    summary: {description: One line for people., type: str}
    before: {description: The instances before., type: dict}
    after: {description: The instances after., type: dict}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
plan:
  description: One line per pair.
  returned: always
  type: list
  elements: str
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.waiters import get_waiter

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import rds_replica
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.aurora import tcp_answers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENABLED
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope


def _view(instance):
    if instance is None:
        return None
    return {k: instance.get(k) for k in ("identifier", "status", "source", "replicas")}


def _waiter_config(params):
    delay = max(1, min(60, params["poll_interval"]))
    return {"Delay": delay, "MaxAttempts": max(1, params["wait_timeout"] // delay)}


def main():
    argument_spec = dict(
        pairs=dict(type="list", elements="dict", required=True, options=dict(
            target_region=dict(type="str", required=True),
            target_identifier=dict(type="str", required=True),
            source_region=dict(type="str", required=True),
            source_identifier=dict(type="str", required=True),
            account_id=dict(type="str"),
            resource=dict(type="str"),
            name=dict(type="str"),
        )),
        state=dict(type="str", choices=["promoted", "replica"], default="promoted"),
        backup_retention_period=dict(type="int", default=7),
        execution_id=dict(type="str"),
        endpoint_check=dict(type="bool", default=True),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    factory = ClientFactory(module, params["accounts"])
    rows, work, pairs_to_check = [], [], []
    for spec in params["pairs"]:
        row = {"resource": spec.get("resource") or spec["target_identifier"], "name": spec.get("name"),
               "changed": False}
        rows.append(row)
        target_client = factory.client("rds", account_id=spec.get("account_id"), region=spec["target_region"])
        source_client = factory.client("rds", account_id=spec.get("account_id"), region=spec["source_region"])
        try:
            target = rds_replica.describe(target_client, spec["target_identifier"])
            if params["state"] == "promoted":
                action = rds_replica.plan_promotion(target, spec["source_region"])
                old = None
            else:
                if target is None or target["source"]:
                    raise rds_replica.ReplicaError(
                        f"{spec['target_identifier']} in {spec['target_region']} is not a primary yet",
                        "promote it first (ACTIVATE), then re-run")
                old = rds_replica.describe(source_client, spec["source_identifier"])
                action = rds_replica.plan_replica(old, target)
            row.update(action=action, before={spec["target_region"]: _view(target), spec["source_region"]: _view(old)})
            pairs_to_check.append((target["arn"], target["tags"]))
            if old is not None:
                pairs_to_check.append((old["arn"], old["tags"]))
            work.append((row, spec, target_client, source_client, target, old))
        except rds_replica.ReplicaError as e:
            row.update(status="failed", error=f"{spec['target_identifier']} ({spec['target_region']}): {e}",
                       remediation=e.remediation, action="none")
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", error=f"reading {spec['target_identifier']}: {e}", action="none",
                       remediation="check the account's RDS access in both regions, then re-run")
    try:
        check_scope(pairs_to_check, params["customer"], params["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)

    plan = []
    for row, spec, target_client, source_client, target, old in work:
        text = {
            "none": "nothing to do (already done)",
            "wait": "a promotion is in progress: wait for it (no second call)",
            "promote": f"PromoteReadReplica in {spec['target_region']} (replication from {spec['source_region']} "
                       "stops; writes not yet replicated are lost)",
            "create": f"create a read replica {spec['source_identifier']} in {spec['source_region']} from it",
            "replace": f"rename the old primary {spec['source_identifier']} in {spec['source_region']} to "
                       f"{rds_replica.retired_identifier(spec['source_identifier'], params['execution_id'])} (kept), "
                       f"then create a read replica {spec['source_identifier']} there from it",
        }[row["action"]]
        plan.append(f"{spec['target_identifier']} ({spec['target_region']}): {text}")
        row["changed"] = row["action"] in ("promote", "create", "replace")
        if module.check_mode:
            row.update(status="succeeded", summary=plan[-1])
            continue
        try:
            if params["state"] == "promoted":
                _promote(params, row, spec, target_client, target)
            else:
                _replicate(params, row, spec, source_client, target, old)
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", error=f"{row['action']} for {spec['target_identifier']}: {e}",
                       remediation="fix the cause named by AWS and re-run the same command (it resumes)")
    module.exit_json(changed=any(r["changed"] for r in rows), pairs=rows, plan=plan)


def _promote(params, row, spec, client, target):
    if row["action"] == "promote":
        client.promote_read_replica(DBInstanceIdentifier=spec["target_identifier"],
                                    BackupRetentionPeriod=params["backup_retention_period"])
    if params["wait"]:
        config = _waiter_config(params)
        get_waiter(client, "read_replica_promoted").wait(DBInstanceIdentifier=spec["target_identifier"],
                                                         WaiterConfig=config)
        client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=spec["target_identifier"],
                                                        WaiterConfig=config)
    after = rds_replica.describe(client, spec["target_identifier"])
    row["after"] = {spec["target_region"]: _view(after), "primary_region": spec["target_region"]}
    if params["wait"] and params["endpoint_check"]:
        answered = tcp_answers(after.get("endpoint"), after.get("port"))
        row["after"].update(endpoint=f"{after.get('endpoint')}:{after.get('port')}", endpoint_answered=answered)
        if not answered:
            row.update(status="failed", error=f"the promoted instance {spec['target_identifier']} does not accept TCP "
                       f"connections on {after.get('endpoint')}:{after.get('port')}",
                       remediation="check its security groups and status; it is promoted, a re-run does not promote "
                                   "again")
            return
    row.update(status="succeeded", summary=f"{spec['target_identifier']} promoted in {spec['target_region']}"
               if row["action"] != "none" else f"{spec['target_identifier']} is already the primary")


def _replicate(params, row, spec, client, new_primary, old):
    retired = None
    if row["action"] == "replace":
        retired = rds_replica.retired_identifier(spec["source_identifier"], params["execution_id"])
        client.modify_db_instance(DBInstanceIdentifier=spec["source_identifier"], NewDBInstanceIdentifier=retired,
                                  ApplyImmediately=True)
        # Kept, but no longer protected: the next discovery must not take it for a resource to fail over.
        retired_arn = old["arn"].rsplit(":", 1)[0] + ":" + retired
        client.add_tags_to_resource(ResourceName=retired_arn, Tags=[
            {"Key": TAG_ENABLED, "Value": "false"},
            {"Key": "dr:retired-by-execution", "Value": params["execution_id"] or "unknown"}])
    if row["action"] in ("create", "replace"):
        client.create_db_instance_read_replica(
            DBInstanceIdentifier=spec["source_identifier"], SourceDBInstanceIdentifier=new_primary["arn"],
            SourceRegion=spec["target_region"], DBInstanceClass=(old or new_primary)["instance_class"],
            Tags=[{"Key": k, "Value": v} for k, v in new_primary["tags"].items()])
    if params["wait"]:
        client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=spec["source_identifier"],
                                                        WaiterConfig=_waiter_config(params))
    after = rds_replica.describe(client, spec["source_identifier"])
    row["after"] = {spec["source_region"]: _view(after), "retired_old_primary": retired,
                    "primary_region": spec["target_region"]}
    row.update(status="succeeded", summary=(
        f"{spec['source_identifier']} in {spec['source_region']} replicates from {new_primary['identifier']} "
        f"({spec['target_region']})" + (f"; old primary kept as {retired}" if retired else "")))


if __name__ == "__main__":
    main()
