#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_source_server_info
short_description: Readiness of AWS Elastic Disaster Recovery source servers across accounts and regions
version_added: 0.1.0
description:
  - Lists DRS source servers in every given account and region, with what an operator needs to
    decide whether they can be recovered now - replication state, replication lag in seconds,
    last launch, staging account, last recovery snapshot and the launch settings.
  - One call covers many accounts and regions; accounts and regions are read concurrently, every
    read is paginated and retried on throttling.
  - Read-only; check mode returns the same result.
options:
  regions:
    description:
      - The DRS recovery regions to read. Defaults to the module's region.
    type: list
    elements: str
  account_ids:
    description:
      - The accounts to read.
      - Defaults to every account in O(accounts), or to the module's own credentials when O(accounts) is empty.
      - An account not listed in O(accounts) is read with the module's own credentials.
    type: list
    elements: str
  source_server_ids:
    description: Only these source servers (C(s-...)).
    type: list
    elements: str
  hostnames:
    description:
      - Only servers with these hostnames, compared case-insensitively and ignoring surrounding whitespace.
    type: list
    elements: str
  tags:
    description:
      - "Only servers whose DRS tags include all of these key/value pairs, for example C({Customer: acme})."
      - Values are compared as strings, exactly.
    type: dict
  replication_direction:
    description: Only servers replicating in this direction.
    type: str
    choices: [FAILOVER, FAILBACK]
  lag_threshold_seconds:
    description:
      - A server whose replication lag exceeds this many seconds is reported as not ready.
      - When omitted, lag does not affect readiness.
    type: int
  include_launch_settings:
    description:
      - Read each server's launch settings (one GetLaunchConfiguration call per server).
    type: bool
    default: true
  include_snapshots:
    description:
      - Read each server's newest recovery snapshot (one DescribeRecoverySnapshots call per server).
    type: bool
    default: false
  match_targets:
    description:
      - Also find, for each server, the pre-provisioned launch-into target in its account and region
        whose C(Name) tag equals the server's hostname (normalized, exact; see
        M(enterprise_dr.orchestration.drs_launch_into_instance) for the rules).
      - One EC2 DescribeInstances per account and region.
      - A server without a unique target is reported as not ready, with the reason in RV(source_servers[].problems).
    type: bool
    default: false
extends_documentation_fragment:
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Readiness of every DRS source server of acme in both workload accounts
  enterprise_dr.orchestration.drs_source_server_info:
    region: us-west-2
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
      - account_id: "345678901234"
        role_arn: arn:aws:iam::345678901234:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-b
    tags:
      Customer: acme
    lag_threshold_seconds: 300
    match_targets: true
  register: readiness

- name: Stop when a server is not ready
  ansible.builtin.assert:
    that: readiness.summary.not_ready == 0
    fail_msg: "{{ readiness.source_servers | rejectattr('ready') | map(attribute='hostname') | list }} not ready"

- name: One server with its newest recovery snapshot
  enterprise_dr.orchestration.drs_source_server_info:
    region: us-west-2
    hostnames: [acme-prod-app01]
    include_snapshots: true
"""

RETURN = r"""
source_servers:
  description: One readiness summary per source server, ordered by account, region, wave, priority and hostname.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id:
      description: The DRS source server ID.
      type: str
      sample: s-1234567890abcdef0
    arn:
      description: The source server ARN.
      type: str
    account_id:
      description: The account the server lives in (the DRS recovery account).
      type: str
      sample: "210987654321"
    region:
      description: The region the server lives in (the DRS recovery region).
      type: str
      sample: us-west-2
    hostname:
      description: The hostname DRS identified on the source machine.
      type: str
      sample: acme-prod-app01
    source_instance_id:
      description: The source EC2 instance ID, for servers replicating from EC2.
      type: str
    origin_account_id:
      description: The account of the source EC2 instance.
      type: str
    origin_region:
      description: The region of the source EC2 instance.
      type: str
    replication_direction:
      description: C(FAILOVER) or C(FAILBACK).
      type: str
    replication_state:
      description: The data replication state, for example C(CONTINUOUS) or C(STALLED).
      type: str
    lag_duration:
      description: The replication lag as DRS reports it (ISO 8601 duration).
      type: str
      sample: PT12S
    lag_seconds:
      description: The replication lag in seconds; null when DRS reports none.
      type: float
      sample: 12
    last_seen_date_time:
      description: When DRS last heard from the replication agent.
      type: str
    last_snapshot:
      description: The newest recovery snapshot; only with O(include_snapshots=true) and when one exists.
      type: dict
      contains:
        snapshot_id:
          description: The snapshot ID (C(pit-...)).
          type: str
        date_time:
          description: When it was taken.
          type: str
        ebs_snapshot_count:
          description: How many EBS snapshots it consists of.
          type: int
    last_snapshot_date_time:
      description: When the newest recovery snapshot was taken; only with O(include_snapshots=true).
      type: str
    last_launch:
      description: The last drill or recovery launch of the server, or null.
      type: dict
      contains:
        status:
          description: C(PENDING), C(IN_PROGRESS), C(LAUNCHED), C(FAILED) or C(TERMINATED).
          type: str
        job_id:
          description: The launch job.
          type: str
        type:
          description: C(RECOVERY) or C(DRILL).
          type: str
        date_time:
          description: When the launch was requested.
          type: str
    last_launch_result:
      description: C(NOT_STARTED), C(PENDING), C(SUCCEEDED) or C(FAILED).
      type: str
    recovery_instance_id:
      description: The server's current recovery instance, if any.
      type: str
    staging_account_id:
      description:
        - The staging account replication runs through (a failback must use the same one).
        - For a server that is not extended from a staging account (C(NOT_EXTENDED)), its own account.
      type: str
    staging_status:
      description: C(NOT_EXTENDED), C(EXTENDED) or C(EXTENSION_ERROR), as DRS reports it.
      type: str
    customer:
      description: The server's C(Customer) tag.
      type: str
    environment:
      description: The server's C(Environment) tag.
      type: str
    wave:
      description: The server's C(dr:wave) tag as an integer; null when missing or not an integer.
      type: int
    priority:
      description: The server's C(dr:priority) tag, lower case; null when missing.
      type: str
    tags:
      description: The server's DRS tags.
      type: dict
    launch_settings:
      description: The server's launch settings; only with O(include_launch_settings=true).
      type: dict
      contains:
        launch_disposition:
          description: C(STOPPED) or C(STARTED).
          type: str
        copy_private_ip:
          description: Whether the recovery instance gets the source's private IP.
          type: bool
        copy_tags:
          description: Whether the source's tags are copied to the recovery instance.
          type: bool
        right_sizing:
          description: C(NONE), C(BASIC) or C(IN_AWS).
          type: str
        licensing_os_byol:
          description: Whether the OS licence is brought by the customer.
          type: bool
        post_launch_enabled:
          description: Whether post-launch actions run.
          type: bool
        ec2_launch_template_id:
          description: The EC2 launch template DRS uses for this server.
          type: str
        launch_into_instance_id:
          description: The pre-provisioned instance DRS launches into, or null.
          type: str
    matched_target:
      description:
        - The launch-into target whose Name matches the hostname; only with O(match_targets=true).
        - Null when there is no unique exact match (see RV(source_servers[].problems)).
      type: dict
      contains:
        instance_id:
          description: The target instance ID.
          type: str
        name:
          description: Its Name tag.
          type: str
        state:
          description: Its EC2 state (a target must be C(stopped)).
          type: str
        private_ip:
          description: Its private IP address.
          type: str
    ready:
      description: Whether the server can be recovered now (CONTINUOUS, no replication error, lag within the threshold).
      type: bool
    problems:
      description: Why the server is not ready, one sentence each.
      type: list
      elements: str
summary:
  description: Counts over RV(source_servers).
  returned: always
  type: dict
  contains:
    total:
      description: Number of servers returned.
      type: int
    ready:
      description: Number of ready servers.
      type: int
    not_ready:
      description: Number of servers that are not ready.
      type: int
    by_replication_state:
      description: Number of servers per replication state.
      type: dict
    by_account_region:
      description: Number of servers per C(account_id/region).
      type: dict
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import PRIORITY_RANK
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_PRIORITY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_WAVE
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_source_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import discover_launch_targets
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import get_launch_configuration
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import launch_settings_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import normalize_name
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import server_readiness
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_each_location
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_locations
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import account_of
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import last_recovery_snapshot
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.matching import match_servers_by_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule


def _wave(tags):
    try:
        return int(str(tags.get(TAG_WAVE)).strip())
    except (TypeError, ValueError):
        return None


def _tags_match(tags, wanted):
    return all(str(tags.get(k)) == str(v) for k, v in wanted.items()) if wanted else True


def select_servers(servers, hostnames=None, tags=None, replication_direction=None):
    """The servers passing the hostname, tag and direction filters."""
    wanted_hosts = {normalize_name(h) for h in hostnames} if hostnames else None
    selected = []
    for server in servers:
        if replication_direction and server.get("replicationDirection") != replication_direction:
            continue
        if not _tags_match(server.get("tags") or {}, tags):
            continue
        if wanted_hosts is not None:
            hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
            names = {normalize_name(hints.get("hostname")), normalize_name(hints.get("fqdn"))}
            if not names & wanted_hosts:
                continue
        selected.append(server)
    return selected


def read_group(factory, account_id, region, params):
    """Readiness summaries of the selected servers of one account and region."""
    client = factory.client("drs", account_id=account_id, region=region)
    servers = describe_source_servers(client, source_server_ids=params.get("source_server_ids"))
    servers = select_servers(servers, params.get("hostnames"), params.get("tags"), params.get("replication_direction"))
    summaries = []
    for server in servers:
        summary = server_readiness(server, lag_threshold_seconds=params.get("lag_threshold_seconds"))
        tags = summary["tags"]
        own_account = account_of(server.get("arn")) or account_id
        staging = server.get("stagingArea") or {}
        summary["staging_status"] = staging.get("status")
        if not summary["staging_account_id"] and staging.get("status", "NOT_EXTENDED") == "NOT_EXTENDED":
            # NOT_EXTENDED: the server replicates in its own account, which is its staging account.
            summary["staging_account_id"] = own_account
        summary.update(
            account_id=own_account,
            region=region,
            customer=tags.get(TAG_CUSTOMER),
            environment=tags.get(TAG_ENVIRONMENT),
            wave=_wave(tags),
            priority=(tags.get(TAG_PRIORITY) or "").strip().lower() or None,
        )
        summaries.append(summary)

    if params.get("include_launch_settings"):
        configs = map_concurrently(lambda s: get_launch_configuration(client, s["source_server_id"]), summaries)
        for summary, config in zip(summaries, configs):
            summary["launch_settings"] = launch_settings_summary(config)
    if params.get("include_snapshots"):
        snapshots = map_concurrently(lambda s: last_recovery_snapshot(client, s["source_server_id"]), summaries)
        for summary, snapshot in zip(summaries, snapshots):
            summary["last_snapshot"] = snapshot
            summary["last_snapshot_date_time"] = snapshot["date_time"] if snapshot else None
    if params.get("match_targets") and summaries:
        ec2 = factory.client("ec2", account_id=account_id, region=region)
        targets = discover_launch_targets(ec2)
        # Each server's own customer and environment: another customer's target is never a candidate.
        plan = match_servers_by_scope(
            [{"source_server_id": s["source_server_id"], "hostname": s["hostname"], "customer": s["customer"],
              "environment": s["environment"]} for s in summaries], targets
        )
        by_server = {m["server"]["source_server_id"]: m["target"] for m in plan["matches"]}
        reasons = {u["server"]["source_server_id"]: u["reason"] for u in plan["unmatched_servers"]}
        for summary in summaries:
            target = by_server.get(summary["source_server_id"])
            summary["matched_target"] = {
                k: target[k] for k in ("instance_id", "name", "state", "private_ip")
            } if target else None
            if summary["source_server_id"] in reasons:
                summary["problems"].append(f"launch-into target: {reasons[summary['source_server_id']]}")
                summary["ready"] = False
    return summaries


def summarize(servers):
    by_state = {}
    by_group = {}
    for server in servers:
        state = server.get("replication_state") or "UNKNOWN"
        by_state[state] = by_state.get(state, 0) + 1
        group = f"{server.get('account_id')}/{server.get('region')}"
        by_group[group] = by_group.get(group, 0) + 1
    ready = sum(1 for s in servers if s["ready"])
    return {
        "total": len(servers),
        "ready": ready,
        "not_ready": len(servers) - ready,
        "by_replication_state": by_state,
        "by_account_region": by_group,
    }


def _sort_key(server):
    return (
        server.get("account_id") or "",
        server.get("region") or "",
        server["wave"] if server.get("wave") is not None else 1 << 30,
        PRIORITY_RANK.get(server.get("priority"), len(PRIORITY_RANK)),
        normalize_name(server.get("hostname")),
        server.get("source_server_id") or "",
    )


def gather(module, factory, params, default_region):
    def read(account_id, region):
        return read_group(factory, account_id, region, params)

    servers = read_each_location(module, read_locations(params, default_region), read, "DRS source servers")
    servers.sort(key=_sort_key)
    return servers


def main():
    argument_spec = dict(
        regions=dict(type="list", elements="str"),
        account_ids=dict(type="list", elements="str"),
        source_server_ids=dict(type="list", elements="str"),
        hostnames=dict(type="list", elements="str"),
        tags=dict(type="dict"),
        replication_direction=dict(type="str", choices=["FAILOVER", "FAILBACK"]),
        lag_threshold_seconds=dict(type="int"),
        include_launch_settings=dict(type="bool", default=True),
        include_snapshots=dict(type="bool", default=False),
        match_targets=dict(type="bool", default=False),
    )
    argument_spec.update(ACCOUNTS_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)

    factory = ClientFactory(module, accounts=module.params["accounts"])
    if not factory.default_region and not module.params.get("regions"):
        module.fail_json(msg="No region given: set region (or AWS_REGION) or regions")
    servers = gather(module, factory, module.params, factory.default_region)
    module.exit_json(changed=False, source_servers=servers, summary=summarize(servers))


if __name__ == "__main__":
    main()
