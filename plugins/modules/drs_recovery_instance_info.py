#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_recovery_instance_info
short_description: AWS Elastic Disaster Recovery recovery instances with their EC2 state, across accounts and regions
version_added: 0.1.0
description:
  - Lists DRS recovery instances (the instances drills, recoveries and failbacks launched) with what
    an operator checks after a launch - the EC2 instance ID, its EC2 state and private IP, whether it
    is a drill, the job that launched it, the source server, the failback state and the origin.
  - C(launch_into_target) tells a pre-provisioned target (tagged C(AWSDRS=AllowLaunchingIntoThisInstance))
    from an instance DRS created.
  - One DescribeRecoveryInstances and one batched EC2 DescribeInstances per account and region;
    accounts and regions are read concurrently. Read-only; check mode returns the same result.
options:
  recovery_instance_ids:
    description: Only these recovery instances (their IDs are the EC2 instance IDs).
    type: list
    elements: str
  source_server_ids:
    description: Only the recovery instances of these source servers.
    type: list
    elements: str
  is_drill:
    description: Only drill (C(true)) or only non-drill (C(false)) recovery instances.
    type: bool
  regions:
    description: The DRS regions to read. Defaults to the module's region.
    type: list
    elements: str
  account_ids:
    description:
      - The accounts to read. Defaults to every account in O(accounts), or to the module's own credentials.
    type: list
    elements: str
extends_documentation_fragment:
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Drill instances still around in the DR region of both workload accounts
  enterprise_dr.orchestration.drs_recovery_instance_info:
    region: us-west-2
    is_drill: true
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
      - account_id: "345678901234"
        role_arn: arn:aws:iam::345678901234:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-b
  register: drills

- name: The recovery instances of two servers
  enterprise_dr.orchestration.drs_recovery_instance_info:
    region: us-west-2
    source_server_ids: [s-1234567890abcdef0, s-0fedcba9876543210]
"""

RETURN = r"""
recovery_instances:
  description: The recovery instances found.
  returned: always
  type: list
  elements: dict
  contains:
    recovery_instance_id:
      description: The recovery instance ID (the EC2 instance ID).
      type: str
      sample: i-0123456789abcdef0
    arn:
      description: The recovery instance ARN.
      type: str
    account_id:
      description: The account.
      type: str
    region:
      description: The region.
      type: str
    source_server_id:
      description: The source server it was launched for.
      type: str
    job_id:
      description: The job that launched it.
      type: str
    is_drill:
      description: Whether it was launched by a drill.
      type: bool
    ec2_instance_id:
      description: The EC2 instance ID.
      type: str
    ec2_instance_state:
      description: The EC2 state as DRS reports it (for example C(RUNNING), C(STOPPED), C(NOT_FOUND)).
      type: str
    ec2_state:
      description: The EC2 state read from EC2 (for example C(running)); null when the instance is gone.
      type: str
    private_ip:
      description: The instance's private IP address.
      type: str
    instance_type:
      description: The instance type.
      type: str
    launch_into_target:
      description: Whether the instance is a pre-provisioned target (tagged C(AWSDRS=AllowLaunchingIntoThisInstance)).
      type: bool
    ec2_tags:
      description: The EC2 instance's tags.
      type: dict
    point_in_time_snapshot_date_time:
      description: The point in time it was launched from.
      type: str
    origin_environment:
      description: C(AWS) or C(ON_PREMISES).
      type: str
    origin_availability_zone:
      description: The availability zone of the origin.
      type: str
    failback_state:
      description: The failback state, for example C(FAILBACK_NOT_STARTED) or C(FAILBACK_READY_FOR_LAUNCH).
      type: str
    failback_launch_type:
      description: C(RECOVERY) or C(DRILL), for failback launches.
      type: str
    data_replication_state:
      description: The reverse replication state (C(NOT_STARTED) until reverse replication starts).
      type: str
    volume_ids:
      description: The EBS volumes DRS recovered onto the instance.
      type: list
      elements: str
    tags:
      description: The recovery instance's DRS tags.
      type: dict
summary:
  description: Counts over RV(recovery_instances).
  returned: always
  type: dict
  contains:
    total:
      description: Recovery instances found.
      type: int
    drills:
      description: Drill recovery instances.
      type: int
    running:
      description: Instances running in EC2.
      type: int
    launch_into_targets:
      description: Instances that are pre-provisioned targets.
      type: int
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_recovery_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_each_location
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_locations
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import recovery_instance_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule


def read_recovery_instances(factory, account_id, region, params):
    drs = factory.client("drs", account_id=account_id, region=region)
    items = describe_recovery_instances(drs, recovery_instance_ids=params.get("recovery_instance_ids"),
                                        source_server_ids=params.get("source_server_ids"))
    if params.get("recovery_instance_ids") and params.get("source_server_ids"):
        wanted = set(params["source_server_ids"])
        items = [ri for ri in items if ri.get("sourceServerID") in wanted]
    if params.get("is_drill") is not None:
        items = [ri for ri in items if bool(ri.get("isDrill")) == params["is_drill"]]
    ec2_info = {}
    if items:
        ec2 = factory.client("ec2", account_id=account_id, region=region)
        ec2_info = describe_instances(ec2, [ri.get("ec2InstanceID") for ri in items])
    return [recovery_instance_summary(ri, ec2_info.get(ri.get("ec2InstanceID")), account_id, region) for ri in items]


def main():
    argument_spec = dict(
        recovery_instance_ids=dict(type="list", elements="str"),
        source_server_ids=dict(type="list", elements="str"),
        is_drill=dict(type="bool"),
        regions=dict(type="list", elements="str"),
        account_ids=dict(type="list", elements="str"),
    )
    argument_spec.update(ACCOUNTS_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = dict(module.params)
    factory = ClientFactory(module, accounts=params["accounts"])
    params["region"] = factory.default_region
    if not factory.default_region and not params.get("regions"):
        module.fail_json(msg="No region given: set region (or AWS_REGION) or regions")

    def read(account_id, region):
        return read_recovery_instances(factory, account_id, region, params)

    instances = read_each_location(module, read_locations(params), read, "DRS recovery instances")
    summary = {
        "total": len(instances),
        "drills": sum(1 for ri in instances if ri["is_drill"]),
        "running": sum(1 for ri in instances if ri["ec2_state"] == "running"),
        "launch_into_targets": sum(1 for ri in instances if ri["launch_into_target"]),
    }
    module.exit_json(changed=False, recovery_instances=instances, summary=summary)


if __name__ == "__main__":
    main()
