#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_drill_restore
short_description: Prove an RDS cross-region replica recoverable with a temporary restore of its snapshot
version_added: 0.2.0
description:
  - The non-disruptive drill of an RDS read replica - the replica keeps replicating and is never promoted.
  - O(state=present) snapshots the replica (C(<replica>-drill)), restores the snapshot into a temporary instance
    C(<replica>-drill) and checks its endpoint accepts TCP connections. Both carry the replica's
    C(Customer)/C(Environment) tags and C(dr:drill-restore-of).
  - O(state=absent) deletes the temporary instance (no final snapshot) and the snapshot. Only resources tagged
    C(dr:drill-restore-of) and inside the scope are deleted.
  - Idempotent (an existing snapshot or instance is reused; missing ones are not an error when removing). Check
    mode returns C(plan) and changes nothing.
options:
  replicas:
    description: The replicas to drill.
    type: list
    elements: dict
    required: true
    suboptions:
      identifier: {description: The replica's identifier., type: str, required: true}
      region: {description: The replica's region (the DR region)., type: str, required: true}
      account_id: {description: The account., type: str}
      resource: {description: Returned on each row., type: str}
      name: {description: Returned on each row., type: str}
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
  execution_id:
    description: Written to the C(dr:drill-execution-id) tag.
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
- name: Restore the DR replica's snapshot into a temporary instance and check it
  enterprise_dr.orchestration.rds_drill_restore:
    customer: acme
    replicas: [{identifier: acme-prod-ledger, region: us-west-2, account_id: "210987654321"}]
"""

RETURN = r"""
replicas:
  description: One row per replica.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The resource key given., type: str}
    name: {description: The inventory host given., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether something was created or deleted., type: bool}
    summary: {description: One line for people., type: str}
    after: {description: "The temporary instance, its endpoint check and the recovery point.", type: dict}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
plan:
  description: One line per replica.
  returned: always
  type: list
  elements: str
"""

import datetime

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import rds_replica
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.aurora import tcp_answers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

TAG_RESTORE_OF = "dr:drill-restore-of"


def drill_identifier(identifier):
    return f"{identifier[:57]}-drill"


def _snapshot(client, identifier):
    try:
        found = client.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("DBSnapshotNotFound", "DBSnapshotNotFoundFault"):
            return None
        raise
    return found[0] if found else None


def main():
    argument_spec = dict(
        replicas=dict(type="list", elements="dict", required=True, options=dict(
            identifier=dict(type="str", required=True), region=dict(type="str", required=True),
            account_id=dict(type="str"), resource=dict(type="str"), name=dict(type="str"))),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        execution_id=dict(type="str"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    factory = ClientFactory(module, params["accounts"])
    rows, work, scope = [], [], []
    for spec in params["replicas"]:
        drill = drill_identifier(spec["identifier"])
        row = {"resource": spec.get("resource") or spec["identifier"], "name": spec.get("name"), "changed": False,
               "drill_instance": drill}
        rows.append(row)
        client = factory.client("rds", spec.get("account_id"), spec["region"])
        try:
            replica = rds_replica.describe(client, spec["identifier"])
            temporary = rds_replica.describe(client, drill)
            snapshot = _snapshot(client, drill)
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", error=f"reading {spec['identifier']}: {e}",
                       remediation="check the account's RDS access in the DR region, then re-run")
            continue
        if replica is None and params["state"] == "present":
            row.update(status="failed", error=f"no replica {spec['identifier']} in {spec['region']}",
                       remediation="re-create the cross-region replica, or re-run discovery")
            continue
        if replica is not None:
            scope.append((replica["arn"], replica["tags"]))
        if temporary is not None:
            scope.append((temporary["arn"], temporary["tags"]))
            if TAG_RESTORE_OF not in temporary["tags"]:
                row.update(status="failed",
                           error=f"{drill} exists but is not a drill restore (no {TAG_RESTORE_OF} tag)",
                           remediation=f"rename or remove {drill} by hand; it is left alone")
                continue
        work.append((row, spec, client, replica, temporary, snapshot))
    try:
        check_scope(scope, params["customer"], params["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    plan = []
    for row, spec, client, replica, temporary, snapshot in work:
        drill = row["drill_instance"]
        if params["state"] == "present":
            row["changed"] = temporary is None
            plan.append(f"{spec['identifier']} ({spec['region']}): snapshot the replica and restore it into {drill}, "
                        "TCP check of its endpoint; the replica is not promoted" if temporary is None else
                        f"{spec['identifier']}: {drill} exists already: check its endpoint")
        else:
            row["changed"] = temporary is not None or snapshot is not None
            plan.append(f"{spec['identifier']}: delete {drill} and its snapshot" if row["changed"] else
                        f"{spec['identifier']}: no drill restore left")
        if module.check_mode:
            row.update(status="succeeded", summary=plan[-1])
            continue
        try:
            config = {"Delay": max(1, min(30, params["poll_interval"])),
                      "MaxAttempts": max(1, params["wait_timeout"] // max(1, min(30, params["poll_interval"])))}
            if params["state"] == "present":
                tags = [{"Key": k, "Value": replica["tags"][k]} for k in (TAG_CUSTOMER, TAG_ENVIRONMENT)
                        if k in replica["tags"]] + [{"Key": TAG_RESTORE_OF, "Value": replica["arn"]}]
                if params["execution_id"]:
                    tags.append({"Key": "dr:drill-execution-id", "Value": params["execution_id"]})
                if snapshot is None:
                    client.create_db_snapshot(DBSnapshotIdentifier=drill, DBInstanceIdentifier=spec["identifier"],
                                              Tags=tags)
                    if params["wait"]:
                        client.get_waiter("db_snapshot_available").wait(DBSnapshotIdentifier=drill, WaiterConfig=config)
                    snapshot = _snapshot(client, drill)
                if temporary is None:
                    client.restore_db_instance_from_db_snapshot(
                        DBInstanceIdentifier=drill, DBSnapshotIdentifier=drill,
                        DBInstanceClass=replica["instance_class"], Tags=tags)
                if params["wait"]:
                    client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=drill, WaiterConfig=config)
                temporary = rds_replica.describe(client, drill)
                answered = tcp_answers(temporary.get("endpoint"), temporary.get("port"))
                point = (snapshot or {}).get("SnapshotCreateTime")
                if isinstance(point, datetime.datetime):
                    point = point.isoformat()
                endpoint = f"{temporary.get('endpoint')}:{temporary.get('port')}"
                row["after"] = {"drill_instance": drill, "endpoint": endpoint, "endpoint_answered": answered,
                                "recovery_point_time": point}
                if answered:
                    row.update(status="succeeded", summary=f"{drill} restored from a snapshot of {spec['identifier']} "
                               "answers (the replica keeps replicating)")
                else:
                    row.update(status="failed", error=f"{drill} does not accept TCP connections",
                               remediation="check its security groups; the drill's CLEANUP removes it")
            else:
                if temporary is not None:
                    client.delete_db_instance(DBInstanceIdentifier=drill, SkipFinalSnapshot=True)
                    if params["wait"]:
                        client.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=drill, WaiterConfig=config)
                if snapshot is not None:
                    client.delete_db_snapshot(DBSnapshotIdentifier=drill)
                row.update(status="succeeded", after={"drill_instance_deleted": True},
                           summary=f"{drill} and its snapshot deleted" if row["changed"] else "no drill restore left")
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", error=f"{params['state']} of {drill}: {e}",
                       remediation="fix the cause named by AWS and re-run; the drill's CLEANUP removes what is left")
    module.exit_json(changed=any(r["changed"] for r in rows), replicas=rows, plan=plan)


if __name__ == "__main__":
    main()
