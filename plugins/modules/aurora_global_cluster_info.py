#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_global_cluster_info
short_description: Read Aurora global databases and whether each can fail over to a region
version_added: 0.2.0
description:
  - Reads each global cluster (C(DescribeGlobalClusters)), like amazon.aws's C(rds_global_cluster_info), plus every
    member cluster (status, engine version, DB instances, tags) and the secondary's replication lag from
    CloudWatch (C(AuroraGlobalDBRPOLag), else C(AuroraGlobalDBReplicationLag)).
  - With O(clusters[].target_region) each cluster also gets C(ready) and C(problems) - at least two members, one
    writer, nothing in progress, equal engine versions, a member in the target region with a DB instance,
    available and connected, and a lag within O(clusters[].rpo_target_minutes) and O(lag_threshold_seconds).
  - With O(customer) each cluster gets C(scope_violations) - members whose own tags are outside the scope.
  - Read-only; one client per account and region.
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
      account_id:
        description: The account. Defaults to the module's own credentials.
        type: str
      target_region:
        description: The region the writer should move to (readiness is computed for it).
        type: str
      home_region:
        description: The region to read the global cluster from. Defaults to O(clusters[].target_region).
        type: str
      rpo_target_minutes:
        description: The cluster's C(dr:rpo-target).
        type: float
      resource:
        description: Returned on each row (the inventory host's C(dr_arn)).
        type: str
      name:
        description: Returned on each row (the inventory host).
        type: str
  lag_threshold_seconds:
    description: The largest replication lag accepted besides the RPO target.
    type: int
  customer:
    description: When given, members whose C(Customer) tag differs are listed in C(scope_violations).
    type: str
  environment:
    description: With O(customer), the C(Environment) the members must carry.
    type: str
    aliases: [env]
extends_documentation_fragment:
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Can the wave's global databases switch to the DR region?
  enterprise_dr.orchestration.aurora_global_cluster_info:
    clusters:
      - global_cluster_identifier: acme-prod-orders
        account_id: "210987654321"
        target_region: us-west-2
        rpo_target_minutes: 1
    customer: acme
    accounts: "{{ dr_accounts }}"
  register: orders
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
    global_cluster_identifier: {description: The global cluster., type: str}
    state: {description: "Status, FailoverState, writer and members (region, cluster, writer flag, synchronization
      status, engine version, DB instances, tags, endpoint, replication lag).", type: dict}
    ready: {description: Whether it can move its writer to the target region., type: bool}
    problems: {description: Why not., type: list, elements: str}
    scope_violations: {description: Members outside the scope., type: list, elements: dict}
    replication_lag_seconds: {description: The target member's replication lag., type: float}
    error: {description: When the cluster could not be read., type: str}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import aurora
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def main():
    argument_spec = dict(
        clusters=dict(type="list", elements="dict", required=True, options=dict(
            global_cluster_identifier=dict(type="str", required=True),
            account_id=dict(type="str"),
            target_region=dict(type="str"),
            home_region=dict(type="str"),
            rpo_target_minutes=dict(type="float"),
            resource=dict(type="str"),
            name=dict(type="str"),
        )),
        lag_threshold_seconds=dict(type="int"),
        customer=dict(type="str"),
        environment=dict(type="str", aliases=["env"]),
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    factory = ClientFactory(module, params["accounts"])
    rows = []
    for spec in params["clusters"]:
        identifier = spec["global_cluster_identifier"]
        row = {"resource": spec.get("resource") or identifier, "name": spec.get("name"),
               "global_cluster_identifier": identifier, "account_id": spec.get("account_id")}
        rows.append(row)
        home = spec.get("home_region") or spec.get("target_region") or factory.default_region
        try:
            state = aurora.read_state(factory, spec.get("account_id"), identifier, home, lag=True)
        except aurora.AuroraError as e:
            row.update(ready=False, problems=[str(e)], error=str(e), remediation=e.remediation, scope_violations=[])
            continue
        except AccountAccessError as e:
            row.update(ready=False, problems=[f"cannot reach {e}"], error=f"cannot reach {e}", scope_violations=[])
            continue
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            row.update(ready=False, problems=[f"cannot read {identifier}: {e}"], error=str(e), scope_violations=[])
            continue
        row["state"] = state
        if spec.get("target_region"):
            row["problems"] = aurora.readiness(state, spec["target_region"], spec.get("rpo_target_minutes"),
                                               params["lag_threshold_seconds"])
            row["ready"] = not row["problems"]
            target = aurora.member_in(state, spec["target_region"]) or {}
            if target.get("replication_lag_seconds") is not None:
                row["replication_lag_seconds"] = target["replication_lag_seconds"]
        violations = []
        if params["customer"]:
            for resource, tags in aurora.scope_pairs(state, identifier):
                violation = scope_violation(resource, tags, params["customer"], params["environment"])
                if violation:
                    violations.append(violation)
        row["scope_violations"] = violations
    module.exit_json(changed=False, clusters=rows)


if __name__ == "__main__":
    main()
