#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_replica_info
short_description: Read RDS cross-region replication pairs and whether each can be promoted
version_added: 0.2.0
description:
  - Reads both instances of each pair (status, replication source and replicas, C(StatusInfos), backups, tags) and
    the replica's C(ReplicaLag) from CloudWatch.
  - Each pair gets C(ready) and C(problems) - the instance in O(pairs[].target_region) exists, is an available read
    replica of the instance in O(pairs[].source_region) and replicating, and its lag is within
    O(pairs[].rpo_target_minutes) and O(lag_threshold_seconds).
  - With O(customer), instances whose own tags are outside the scope are listed in C(scope_violations).
  - Read-only.
options:
  pairs:
    description: The replication pairs.
    type: list
    elements: dict
    required: true
    suboptions:
      target_region: {description: The region whose replica would be promoted., type: str, required: true}
      target_identifier: {description: The replica's identifier., type: str, required: true}
      source_region: {description: The primary's region., type: str, required: true}
      source_identifier: {description: The primary's identifier., type: str, required: true}
      account_id: {description: The account., type: str}
      rpo_target_minutes: {description: The pair's C(dr:rpo-target)., type: float}
      resource: {description: Returned on each row., type: str}
      name: {description: Returned on each row., type: str}
  lag_threshold_seconds:
    description: The largest replica lag accepted besides the RPO target.
    type: int
  customer:
    description: When given, instances whose C(Customer) tag differs are listed in C(scope_violations).
    type: str
  environment:
    description: With O(customer), the C(Environment) the instances must carry.
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
- name: Can the replicas be promoted?
  enterprise_dr.orchestration.rds_replica_info:
    pairs:
      - {target_region: us-west-2, target_identifier: acme-prod-ledger, source_region: us-east-1,
         source_identifier: acme-prod-ledger, account_id: "210987654321", rpo_target_minutes: 5}
    customer: acme
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
    target: {description: "The replica (status, source, replicating, tags, endpoint).", type: dict}
    source: {description: The primary (when its region answers)., type: dict}
    ready: {description: Whether the replica can be promoted., type: bool}
    problems: {description: Why not., type: list, elements: str}
    replication_lag_seconds: {description: The replica's ReplicaLag., type: float}
    scope_violations: {description: Instances outside the scope., type: list, elements: dict}
"""

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import rds_replica
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def _lag(cloudwatch, identifier):
    end = time.time()
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS", MetricName="ReplicaLag", StartTime=end - 600, EndTime=end, Period=60,
        Statistics=["Maximum"], Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
    ).get("Datapoints") or []
    if not points:
        return None
    return float(max(points, key=lambda p: p["Timestamp"])["Maximum"])


def main():
    argument_spec = dict(
        pairs=dict(type="list", elements="dict", required=True, options=dict(
            target_region=dict(type="str", required=True),
            target_identifier=dict(type="str", required=True),
            source_region=dict(type="str", required=True),
            source_identifier=dict(type="str", required=True),
            account_id=dict(type="str"),
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
    for spec in params["pairs"]:
        row = {"resource": spec.get("resource") or spec["target_identifier"], "name": spec.get("name"),
               "problems": [], "scope_violations": []}
        rows.append(row)
        try:
            target = rds_replica.describe(factory.client("rds", spec.get("account_id"), spec["target_region"]),
                                          spec["target_identifier"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            row.update(ready=False, problems=[f"cannot read {spec['target_identifier']}: {e}"])
            continue
        try:
            source = rds_replica.describe(factory.client("rds", spec.get("account_id"), spec["source_region"]),
                                          spec["source_identifier"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            source, row["source_unreachable"] = None, str(e)
        row.update(target=target, source=source)
        if target is None:
            row["problems"].append(f"no instance {spec['target_identifier']} in {spec['target_region']}")
        else:
            if not target["source"]:
                row["problems"].append(f"{spec['target_identifier']} in {spec['target_region']} is not a read replica")
            elif source is not None and target["source"] not in (source["arn"], source["identifier"]):
                row["problems"].append(f"{spec['target_identifier']} replicates from {target['source']}, not from "
                                       f"{source['arn']}")
            if target["status"] != "available":
                row["problems"].append(f"{spec['target_identifier']} is {target['status']}, not available")
            if target["source"] and not target["replicating"]:
                row["problems"].append(f"{spec['target_identifier']} does not report replication as replicating")
            lag = _lag(factory.client("cloudwatch", spec.get("account_id"), spec["target_region"]),
                       spec["target_identifier"])
            if lag is not None:
                row["replication_lag_seconds"] = lag
                limits = [x for x in ((spec["rpo_target_minutes"] * 60) if spec.get("rpo_target_minutes") is not None
                                      else None, params["lag_threshold_seconds"]) if x is not None]
                if limits and lag > min(limits):
                    row["problems"].append(f"{spec['target_identifier']} lags {lag} s, more than {min(limits)} s")
        if params["customer"]:
            for instance in (target, source):
                if instance is not None:
                    violation = scope_violation(instance["arn"], instance["tags"], params["customer"],
                                                params["environment"])
                    if violation:
                        row["scope_violations"].append(violation)
        row["ready"] = not row["problems"]
    module.exit_json(changed=False, pairs=rows)


if __name__ == "__main__":
    main()
