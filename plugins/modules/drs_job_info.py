#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_job_info
short_description: AWS Elastic Disaster Recovery jobs across accounts and regions, with their logs
version_added: 0.1.0
description:
  - Lists DRS jobs (launch, terminate, failback) by ID, since a date, or by the execution ID of the
    run that started them (the C(enterprise-dr:execution-id) tag that
    M(enterprise_dr.orchestration.drs_recover) puts on its jobs).
  - For each job, the participating servers with their launch status and recovery instance, and
    optionally the job log (DescribeJobLogItems), where DRS explains a failed launch in C(raw_error).
  - Accounts and regions are read concurrently. Read-only; check mode returns the same result.
options:
  job_ids:
    description: Only these jobs (C(drsjob-...)). Looked up in every account and region read.
    type: list
    elements: str
  from_date:
    description:
      - Only jobs created at or after this time, ISO 8601 (for example C(2026-11-21T00:00:00Z)).
      - Ignored when O(job_ids) is given.
    type: str
  to_date:
    description: Only jobs created at or before this time, ISO 8601. Ignored when O(job_ids) is given.
    type: str
  run_id:
    description: Only jobs tagged with this execution ID.
    type: str
    aliases: [execution_id]
  job_type:
    description: Only jobs of this type.
    type: str
    choices: [LAUNCH, TERMINATE, CREATE_CONVERTED_SNAPSHOT]
  include_log_items:
    description: Read each job's log (one DescribeJobLogItems call per job).
    type: bool
    default: false
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
- name: Jobs of this execution in both workload accounts, with their logs
  enterprise_dr.orchestration.drs_job_info:
    region: us-west-2
    run_id: "{{ execution_id }}"
    include_log_items: true
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
      - account_id: "345678901234"
        role_arn: arn:aws:iam::345678901234:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-b
  register: run_jobs

- name: Two jobs by ID
  enterprise_dr.orchestration.drs_job_info:
    region: us-west-2
    job_ids: [drsjob-1234567890abcdef0, drsjob-0fedcba9876543210]

- name: Launch jobs since midnight
  enterprise_dr.orchestration.drs_job_info:
    region: us-west-2
    from_date: "2026-11-21T00:00:00Z"
    job_type: LAUNCH
"""

RETURN = r"""
jobs:
  description: The jobs found, newest first within each account and region.
  returned: always
  type: list
  elements: dict
  contains:
    job_id:
      description: The job ID.
      type: str
      sample: drsjob-1234567890abcdef0
    arn:
      description: The job ARN.
      type: str
    account_id:
      description: The account.
      type: str
    region:
      description: The region.
      type: str
    type:
      description: C(LAUNCH), C(TERMINATE) or C(CREATE_CONVERTED_SNAPSHOT).
      type: str
    initiated_by:
      description: For example C(START_DRILL), C(START_RECOVERY), C(TERMINATE_RECOVERY_INSTANCES).
      type: str
    status:
      description: C(PENDING), C(STARTED) or C(COMPLETED). A job never fails; its servers do.
      type: str
    creation_date_time:
      description: When the job was created.
      type: str
    end_date_time:
      description: When it ended.
      type: str
    tags:
      description: The job's tags.
      type: dict
    run_id:
      description: The execution ID tag, when present.
      type: str
    servers:
      description: Number of participating servers.
      type: int
    launched:
      description: Participating servers with launch status C(LAUNCHED).
      type: int
    failed:
      description: Participating servers with launch status C(FAILED).
      type: int
    participating_servers:
      description: The servers of the job.
      type: list
      elements: dict
      contains:
        source_server_id:
          description: The source server.
          type: str
        recovery_instance_id:
          description: Its recovery instance, once launched.
          type: str
        launch_status:
          description: C(PENDING), C(IN_PROGRESS), C(LAUNCHED), C(FAILED) or C(TERMINATED).
          type: str
    log_items:
      description: The job log, with O(include_log_items=true).
      returned: when include_log_items is true
      type: list
      elements: dict
      contains:
        log_date_time:
          description: When.
          type: str
        event:
          description: The event, for example C(LAUNCH_START), C(LAUNCH_END), C(LAUNCH_FAILED).
          type: str
        source_server_id:
          description: The server the event is about.
          type: str
        target_instance_id:
          description: The launched instance (C(LAUNCH_END)).
          type: str
        conversion_server_id:
          description: The conversion server (C(CONVERSION_END)).
          type: str
        raw_error:
          description: The raw error of a failure event.
          type: str
summary:
  description: Counts over RV(jobs).
  returned: always
  type: dict
  contains:
    total:
      description: Jobs found.
      type: int
    active:
      description: Jobs still C(PENDING) or C(STARTED).
      type: int
    servers_launched:
      description: Participating servers launched.
      type: int
    servers_failed:
      description: Participating servers failed.
      type: int
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_job_log_items
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import paginate
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import RUN_ID_TAG
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import is_active
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import job_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_each_location
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_locations
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule


def read_jobs(client, params):
    if params.get("job_ids"):
        jobs = []
        ids = sorted(set(params["job_ids"]))
        for start in range(0, len(ids), 100):
            jobs.extend(paginate(client, "describe_jobs", "items", filters={"jobIDs": ids[start:start + 100]}))
        return jobs
    filters = {}
    if params.get("from_date"):
        filters["fromDate"] = params["from_date"]
    if params.get("to_date"):
        filters["toDate"] = params["to_date"]
    return paginate(client, "describe_jobs", "items", filters=filters)


def main():
    argument_spec = dict(
        job_ids=dict(type="list", elements="str"),
        from_date=dict(type="str"),
        to_date=dict(type="str"),
        run_id=dict(type="str", aliases=["execution_id"]),
        job_type=dict(type="str", choices=["LAUNCH", "TERMINATE", "CREATE_CONVERTED_SNAPSHOT"]),
        include_log_items=dict(type="bool", default=False),
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
        client = factory.client("drs", account_id=account_id, region=region)
        out = []
        for job in read_jobs(client, params):
            if params.get("run_id") and (job.get("tags") or {}).get(RUN_ID_TAG) != params["run_id"]:
                continue
            if params.get("job_type") and job.get("type") != params["job_type"]:
                continue
            logs = describe_job_log_items(client, job["jobID"]) if params["include_log_items"] else None
            out.append(job_summary(job, account_id, region, logs))
        return out

    jobs = read_each_location(module, read_locations(params), read, "DRS jobs")
    summary = {
        "total": len(jobs),
        "active": sum(1 for j in jobs if is_active({"status": j["status"]})),
        "servers_launched": sum(j["launched"] for j in jobs),
        "servers_failed": sum(j["failed"] for j in jobs),
    }
    module.exit_json(changed=False, jobs=jobs, summary=summary)


if __name__ == "__main__":
    main()
