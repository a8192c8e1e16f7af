#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_drill_clone
short_description: Prove an Aurora global database recoverable in the DR region with a copy-on-write clone
version_added: 0.2.0
description:
  - The non-disruptive drill of an Aurora global database. The global database is never switched.
  - With O(state=present) the member cluster in O(clusters[].region) (the DR secondary) is cloned with
    C(RestoreDBClusterToPointInTime) C(RestoreType=copy-on-write) into a standalone cluster named
    C(<member>-drill), given one DB instance, and its endpoint is checked with a TCP connection. The clone carries
    the member's C(Customer)/C(Environment) tags and C(dr:drill-clone-of) (the member's ARN).
  - With O(state=absent) the clone's DB instances and the clone are deleted (no final snapshot). Only a cluster
    tagged C(dr:drill-clone-of) and inside the scope is ever deleted.
  - Idempotent and resume-safe - an existing clone is reused, a missing one is not an error when removing.
  - Check mode returns what would be created or deleted per cluster (C(plan)) and calls nothing that changes.
options:
  clusters:
    description: The global clusters to drill.
    type: list
    elements: dict
    required: true
    suboptions:
      global_cluster_identifier:
        description: The global cluster identifier.
        type: str
        required: true
      region:
        description: The region of the member to clone (the DR region).
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
    description: C(present) creates and checks the clone, C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  execution_id:
    description: The drill's execution, written to the clone's C(dr:drill-execution-id) tag.
    type: str
  instance_class:
    description: The DB instance class of the clone's instance. Defaults to the member's first instance class.
    type: str
  endpoint_timeout:
    description: Seconds for the TCP check of the clone's endpoint.
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
- name: Clone the DR secondary and check it answers
  enterprise_dr.orchestration.aurora_drill_clone:
    customer: acme
    state: present
    execution_id: "{{ dr_run.execution_id }}"
    clusters:
      - {global_cluster_identifier: acme-prod-orders, account_id: "210987654321", region: us-west-2}

- name: Remove the drill's clone
  enterprise_dr.orchestration.aurora_drill_clone:
    customer: acme
    state: absent
    clusters:
      - {global_cluster_identifier: acme-prod-orders, account_id: "210987654321", region: us-west-2}
"""

RETURN = r"""
clusters:
  description: One row per global cluster.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The resource key given., type: str}
    name: {description: The inventory host given., type: str}
    clone: {description: The clone's cluster identifier., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    changed: {description: Whether the clone was created or deleted., type: bool}
    summary: {description: One line for people., type: str}
    before: {description: Whether the clone existed., type: dict}
    after: {description: "The clone, its endpoint check and recovery point (present), or its absence.", type: dict}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
plan:
  description: What the module does (or would do), one line per cluster.
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

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import aurora
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import until as poll_until

TAG_CLONE_OF = "dr:drill-clone-of"
TAG_DRILL_EXECUTION = "dr:drill-execution-id"


def clone_identifier(member_identifier):
    return f"{member_identifier[:56]}-drill"


def _wait_gone(client, identifier, timeout, interval):
    return poll_until(lambda: aurora.describe_member(client, identifier) is None, timeout, interval)[1]


def main():
    argument_spec = dict(
        clusters=dict(type="list", elements="dict", required=True, options=dict(
            global_cluster_identifier=dict(type="str", required=True),
            region=dict(type="str", required=True),
            account_id=dict(type="str"),
            resource=dict(type="str"),
            name=dict(type="str"),
        )),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        execution_id=dict(type="str"),
        instance_class=dict(type="str"),
        endpoint_timeout=dict(type="int", default=10),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    factory = ClientFactory(module, params["accounts"])
    rows, reads = [], []
    for spec in params["clusters"]:
        identifier = spec["global_cluster_identifier"]
        row = {"resource": spec.get("resource") or identifier, "name": spec.get("name"),
               "global_cluster_identifier": identifier, "changed": False}
        rows.append(row)
        client = factory.client("rds", account_id=spec.get("account_id"), region=spec["region"])
        try:
            state = aurora.read_state(factory, spec.get("account_id"), identifier, spec["region"])
            member = aurora.member_in(state, spec["region"])
            if member is None:
                raise aurora.AuroraError(f"{identifier} has no member in {spec['region']}",
                                         f"add a secondary cluster in {spec['region']}")
            row["clone"] = clone_identifier(member["identifier"])
            clone = aurora.describe_member(client, row["clone"])
            reads.append((row, spec, client, state, member, clone))
        except aurora.AuroraError as e:
            row.update(status="failed", error=str(e), remediation=e.remediation)
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", error=f"reading {identifier}: {e}",
                       remediation="check the account's RDS access in the DR region, then re-run")

    pairs = []
    for row, _spec, _client, _state, member, clone in reads:
        pairs.append((f"{member['arn']} (DR member of {row['global_cluster_identifier']})", member.get("tags")))
        if clone is not None:
            pairs.append((clone["DBClusterArn"], boto3_tag_list_to_ansible_dict(clone.get("TagList") or [])))
    try:
        check_scope(pairs, params["customer"], params["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)

    plan = []
    for row, spec, client, _state, member, clone in reads:
        row["before"] = {"clone": row["clone"] if clone else None}
        if params["state"] == "present":
            row["changed"] = clone is None
            plan.append(f"{row['global_cluster_identifier']}: " + (
                f"copy-on-write clone of {member['identifier']} ({spec['region']}) as {row['clone']}, one DB "
                "instance, TCP check of its endpoint; the global database is not switched" if clone is None else
                f"clone {row['clone']} exists already: check its endpoint"))
        else:
            if clone is not None and TAG_CLONE_OF not in boto3_tag_list_to_ansible_dict(clone.get("TagList") or []):
                row.update(status="failed", error=f"{row['clone']} exists but is not a drill clone (no {TAG_CLONE_OF} "
                           "tag): it is left alone", remediation=f"rename or remove {row['clone']} by hand")
                continue
            row["changed"] = clone is not None
            plan.append(f"{row['global_cluster_identifier']}: " + (
                f"delete the drill clone {row['clone']} and its DB instances" if clone else "no drill clone left"))
        if module.check_mode:
            row.update(status="succeeded", summary=plan[-1],
                       after={"clone": row["clone"] if params["state"] == "present" else None})
            continue
        try:
            if params["state"] == "present":
                _present(module, params, row, spec, client, member, clone)
            else:
                _absent(params, row, client, clone)
        except (BotoCoreError, ClientError) as e:
            row.update(status="failed", error=f"{params['state']} of the drill clone {row['clone']}: {e}",
                       remediation="fix the cause named by AWS and re-run; the drill's CLEANUP removes a clone "
                                   "left behind")
    changed = any(r.get("changed") for r in rows)
    module.exit_json(changed=changed, clusters=rows, plan=plan)


def _present(module, params, row, spec, client, member, clone):
    if clone is None:
        tags = {key: member["tags"][key] for key in (TAG_CUSTOMER, TAG_ENVIRONMENT) if key in member.get("tags", {})}
        tags[TAG_CLONE_OF] = member["arn"]
        if params["execution_id"]:
            tags[TAG_DRILL_EXECUTION] = params["execution_id"]
        client.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier=row["clone"], SourceDBClusterIdentifier=member["identifier"],
            RestoreType="copy-on-write", UseLatestRestorableTime=True, Tags=ansible_dict_to_boto3_tag_list(tags))
    clone = aurora.describe_member(client, row["clone"])
    if not clone.get("DBClusterMembers"):
        source = client.describe_db_clusters(DBClusterIdentifier=member["identifier"])["DBClusters"][0]
        instance_class = params["instance_class"]
        if not instance_class and source.get("DBClusterMembers"):
            first = source["DBClusterMembers"][0]["DBInstanceIdentifier"]
            instance_class = client.describe_db_instances(DBInstanceIdentifier=first)[
                "DBInstances"][0]["DBInstanceClass"]
        client.create_db_instance(DBInstanceIdentifier=f"{row['clone'][:60]}-1", DBClusterIdentifier=row["clone"],
                                  DBInstanceClass=instance_class or "db.r6g.large", Engine=clone["Engine"],
                                  Tags=clone.get("TagList") or [])
    if params["wait"]:
        delay = max(1, min(30, params["poll_interval"]))
        client.get_waiter("db_cluster_available").wait(
            DBClusterIdentifier=row["clone"],
            WaiterConfig={"Delay": delay, "MaxAttempts": max(1, params["wait_timeout"] // delay)})
    clone = aurora.describe_member(client, row["clone"])
    answered = aurora.tcp_answers(clone.get("Endpoint"), clone.get("Port"), params["endpoint_timeout"])
    point = clone.get("LatestRestorableTime") or clone.get("ClusterCreateTime")
    if isinstance(point, datetime.datetime):
        point = point.isoformat()
    row["after"] = {"clone": row["clone"], "clone_endpoint": f"{clone.get('Endpoint')}:{clone.get('Port')}",
                    "endpoint_answered": answered, "recovery_point_time": point}
    if answered:
        row.update(status="succeeded", summary=f"clone {row['clone']} of {member['identifier']} answers on "
                   f"{clone.get('Endpoint')}:{clone.get('Port')} (global database not switched)")
    else:
        row.update(status="failed", error=f"the drill clone {row['clone']} does not accept TCP connections on "
                   f"{clone.get('Endpoint')}:{clone.get('Port')}",
                   remediation="check the clone's instance and security groups; the drill's CLEANUP removes it")


def _absent(params, row, client, clone):
    if clone is not None:
        for instance in clone.get("DBClusterMembers") or []:
            try:
                client.delete_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"], SkipFinalSnapshot=True)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") not in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
                    raise
        client.delete_db_cluster(DBClusterIdentifier=row["clone"], SkipFinalSnapshot=True)
        if params["wait"] and not _wait_gone(client, row["clone"], params["wait_timeout"], params["poll_interval"]):
            row.update(status="failed", error=f"the drill clone {row['clone']} is still being deleted after "
                       f"{params['wait_timeout']} s", remediation="re-run the drill's cleanup later")
            return
    row.update(status="succeeded", after={"clone_deleted": True},
               summary=f"drill clone {row['clone']} deleted" if clone else "no drill clone left behind")


if __name__ == "__main__":
    main()
