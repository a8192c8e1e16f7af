#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: execution_record_info
short_description: Read execution records of DR runs - one run, the latest of a customer, or the last N
version_added: 0.1.0
description:
  - Reads the execution record of one run (O(execution_id)), the latest run of a customer (O(latest=true)),
    or the last O(limit) runs of a customer with their success rate and measured RTO.
  - For one run it returns the full record with every resource entry and RV(status), the progress summary
    that C(playbooks/status.yml) prints (status, phase, wave, completed, pending and failed resources,
    elapsed time, estimated completion, RTO and RPO against targets).
  - Reads only; the file store is never created by this module.
options:
  execution_id:
    description: The run to read. Mutually exclusive with O(customer).
    type: str
  customer:
    description: The customer whose runs to read.
    type: str
  environment:
    description: Only runs of this environment.
    type: str
    aliases: [env]
  operation:
    description: Only runs of this operation.
    type: str
    choices: [failover, drill, failback]
  latest:
    description: With O(customer), return the newest run in RV(execution) (with its resources and RV(status)).
    type: bool
    default: false
  limit:
    description: How many runs to list, newest first.
    type: int
    default: 10
  with_resources:
    description: Include the resource entries in RV(execution).
    type: bool
    default: true
  resources:
    description:
      - With O(with_resources=true), include only the entries of these resources (their ARNs, the C(resource) of
        each entry). A wave reads its own resources' entries this way, not the whole run's, which grow with the
        estate. RV(status) still summarizes the whole run.
      - Default is every entry.
    type: list
    elements: str
  store:
    description: Where records live; C(dynamodb) (hub account table) or C(file) (air-gapped directory).
    type: str
    default: dynamodb
    choices: [dynamodb, file]
  table_name:
    description: The DynamoDB table (O(store=dynamodb)).
    type: str
    default: enterprise-dr-executions
  store_path:
    description: The file store directory (O(store=file)).
    type: path
    default: ~/.ansible/enterprise_dr/executions
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Read one run
  enterprise_dr.orchestration.execution_record_info:
    execution_id: edr-acme-20240501T120000-a1b2c3
  register: run

- name: Read one run with the entries of two of its resources only
  enterprise_dr.orchestration.execution_record_info:
    execution_id: edr-acme-20240501T120000-a1b2c3
    resources:
      - arn:aws:drs:us-west-2:210987654321:source-server/s-1234567890abcdef0
      - arn:aws:drs:us-west-2:210987654321:source-server/s-1234567890abcdef1
  register: wave_entries

- name: The latest failover of acme production
  enterprise_dr.orchestration.execution_record_info:
    customer: acme
    environment: production
    operation: failover
    latest: true
  register: latest

- name: The last 20 runs of acme with success rate and RTO
  enterprise_dr.orchestration.execution_record_info:
    customer: acme
    limit: 20
  register: history
"""

RETURN = r"""
execution:
  description: The full record of the run (with O(execution_id) or O(latest=true)); null when the customer has no run.
  returned: when O(execution_id) is given or O(latest=true)
  type: dict
status:
  description:
    - The run's progress summary (status, phase, wave, resource counts and names, elapsed and estimated times, RTO).
  returned: when RV(execution) is returned and not null
  type: dict
  contains:
    status:
      description: running, waiting_approval, succeeded, failed, cancelled or interrupted.
      type: str
    resource_counts:
      description: total, completed, pending and failed resources.
      type: dict
    estimated_completion:
      description: ISO 8601 UTC estimate, linear in completed resources; null until one resource completed.
      type: str
executions:
  description: Record headers (no resources), newest first.
  returned: when O(customer) is given
  type: list
  elements: dict
history:
  description: Success rate over finished runs, mean and maximum measured RTO, and one row per run.
  returned: when O(customer) is given
  type: dict
  contains:
    success_rate:
      description: Succeeded runs divided by finished runs (0..1); null when none finished.
      type: float
    mean_rto_seconds:
      description: Mean time from start to the end of ACTIVATE over succeeded runs.
      type: int
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule


def read(module, store):
    p = module.params
    result = {"changed": False}
    target = p["execution_id"]
    if p["customer"]:
        records = store.list(p["customer"], p["environment"], p["operation"], limit=p["limit"])
        result["executions"] = records
        result["history"] = ex.history_report(records)
        if p["latest"]:
            target = records[0]["execution_id"] if records else None
            result["execution"] = None
    if target:
        record = store.get(target, with_resources=True)
        resources = record.pop("resources")
        result["status"] = ex.summarize(record, resources)
        if p["with_resources"]:
            wanted = None if p["resources"] is None else set(p["resources"])
            record["resources"] = [e for e in resources if wanted is None or e["resource"] in wanted]
        result["execution"] = record
    return result


def main():
    argument_spec = dict(
        execution_id=dict(type="str"),
        customer=dict(type="str"),
        environment=dict(type="str", aliases=["env"]),
        operation=dict(type="str", choices=list(ex.OPERATIONS)),
        latest=dict(type="bool", default=False),
        limit=dict(type="int", default=10),
        with_resources=dict(type="bool", default=True),
        resources=dict(type="list", elements="str"),
    )
    argument_spec.update(ex.STORE_ARGUMENT_SPEC)
    module = DRModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["execution_id", "customer"]],
        mutually_exclusive=[["execution_id", "customer"]],
    )
    if module.params["limit"] < 1:
        module.fail_json(msg=f"limit must be at least 1, got {module.params['limit']}")
    try:
        result = read(module, ex.store_for_module(module))
    except ex.ExecutionError as e:
        module.fail_json(msg=str(e))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"execution store {module.params['store']} could not be read")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
