# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small, retried calls to AWS Elastic Disaster Recovery (DRS) and the summaries the modules return.

Clients passed in come from ClientFactory (module_utils/clients.py), whose retry policy retries every
request (each page of a paginated read included) on throttling and transient errors.
"""

import re

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET_VALUE
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_NAME

# Job states; a job never FAILs: success is per server (participatingServers[].launchStatus).
ACTIVE_JOB_STATES = ("PENDING", "STARTED")
FINAL_LAUNCH_STATES = ("LAUNCHED", "FAILED", "TERMINATED")
HEALTHY_REPLICATION_STATES = ("CONTINUOUS",)
MAX_SERVERS_PER_JOB = 100
MAX_ACTIVE_JOBS = 20
MAX_SERVERS_IN_ACTIVE_JOBS = 500
DESCRIBE_IDS_BATCH = 200  # DescribeSourceServersRequestFiltersIDs max length

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class DRSError(Exception):
    """A DRS precondition or result that the caller must act on.

    ``resource`` names the server/job/instance; ``remediation`` says what to do about it.
    """

    def __init__(self, message, resource=None, remediation=None):
        full = message
        if remediation:
            full = f"{message}. Fix: {remediation}"
        super().__init__(full)
        self.resource = resource
        self.remediation = remediation


def parse_iso8601_duration(value):
    """Seconds in an ISO 8601 duration such as ``PT1M30S`` or ``P1DT2H``; None when absent or malformed."""
    if not value:
        return None
    match = _DURATION.match(value.strip())
    if not match or value.strip() in ("P", "PT"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    seconds = parts.get("days", 0) * 86400 + parts.get("hours", 0) * 3600
    seconds += parts.get("minutes", 0) * 60 + parts.get("seconds", 0)
    return int(seconds) if seconds == int(seconds) else seconds


def normalize_name(name):
    """The form in which hostnames and Name tags are compared: case-folded, surrounding space removed."""
    return (name or "").strip().casefold()


def paginate(client, method, result_key, **kwargs):
    """All items of a paginated DRS read."""
    items = []
    token = None
    while True:
        params = dict(kwargs)
        if token:
            params["nextToken"] = token
        page = getattr(client, method)(**params)
        items.extend(page.get(result_key, []))
        token = page.get("nextToken")
        if not token:
            return items


def _chunks(values, size):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def describe_source_servers(client, source_server_ids=None, staging_account_ids=None):
    """Source servers of one account and region, optionally only the given IDs (batched)."""
    if source_server_ids is not None:
        servers = []
        for batch in _chunks(sorted(set(source_server_ids)), DESCRIBE_IDS_BATCH):
            servers.extend(paginate(client, "describe_source_servers", "items",
                                    filters={"sourceServerIDs": batch}))
        return servers
    filters = {}
    if staging_account_ids:
        filters["stagingAccountIDs"] = list(staging_account_ids)
    return paginate(client, "describe_source_servers", "items", filters=filters)


def describe_jobs(client, job_ids=None, from_date=None):
    """Jobs of one account and region: the given IDs (batched) or all since ``from_date``."""
    if job_ids is not None:
        jobs = []
        for batch in _chunks(sorted(set(job_ids)), 100):
            jobs.extend(paginate(client, "describe_jobs", "items", filters={"jobIDs": batch}))
        return jobs
    filters = {"fromDate": from_date} if from_date else {}
    return paginate(client, "describe_jobs", "items", filters=filters)


def describe_job_log_items(client, job_id):
    return paginate(client, "describe_job_log_items", "items", jobID=job_id)


def describe_recovery_instances(client, recovery_instance_ids=None, source_server_ids=None):
    filters = {}
    if recovery_instance_ids is not None:
        filters["recoveryInstanceIDs"] = list(recovery_instance_ids)
    if source_server_ids is not None:
        filters["sourceServerIDs"] = list(source_server_ids)
    if not filters:
        return paginate(client, "describe_recovery_instances", "items", filters={})
    # Filter lists are bounded (200); query in batches.
    key = "recoveryInstanceIDs" if "recoveryInstanceIDs" in filters else "sourceServerIDs"
    items = []
    for batch in _chunks(filters[key], DESCRIBE_IDS_BATCH):
        items.extend(paginate(client, "describe_recovery_instances", "items", filters={key: batch}))
    return items


def get_launch_configuration(client, source_server_id):
    config = client.get_launch_configuration(sourceServerID=source_server_id)
    config.pop("ResponseMetadata", None)
    return config


def update_launch_configuration(client, source_server_id, **changes):
    config = client.update_launch_configuration(sourceServerID=source_server_id, **changes)
    config.pop("ResponseMetadata", None)
    return config


def source_hostname(server):
    hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
    return hints.get("hostname") or hints.get("fqdn") or ""


def source_instance_id(server):
    hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
    return hints.get("awsInstanceID")


def server_readiness(server, lag_threshold_seconds=None):
    """A snake_case readiness summary of one DescribeSourceServers item.

    ``ready`` is true when replication is CONTINUOUS, the server is not archived or disconnected,
    and (when a threshold is given) the lag is within it; ``problems`` says why not.
    """
    replication = server.get("dataReplicationInfo") or {}
    lifecycle = server.get("lifeCycle") or {}
    last_launch = lifecycle.get("lastLaunch") or {}
    initiated = last_launch.get("initiated") or {}
    cloud = server.get("sourceCloudProperties") or {}
    staging = server.get("stagingArea") or {}
    state = replication.get("dataReplicationState")
    lag = parse_iso8601_duration(replication.get("lagDuration"))
    problems = []
    if state not in HEALTHY_REPLICATION_STATES:
        problems.append(f"replication state is {state or 'unknown'}, not CONTINUOUS")
    if lag_threshold_seconds is not None and lag is not None and lag > lag_threshold_seconds:
        problems.append(f"replication lag {lag}s exceeds {lag_threshold_seconds}s")
    if replication.get("dataReplicationError"):
        error = replication["dataReplicationError"]
        problems.append(f"replication error {error.get('error')}: {error.get('rawError', '')}".strip())
    return {
        "source_server_id": server.get("sourceServerID"),
        "arn": server.get("arn"),
        "hostname": source_hostname(server),
        "source_instance_id": source_instance_id(server),
        "origin_account_id": cloud.get("originAccountID"),
        "origin_region": cloud.get("originRegion"),
        "replication_direction": server.get("replicationDirection"),
        "replication_state": state,
        "lag_duration": replication.get("lagDuration"),
        "lag_seconds": lag,
        "last_seen_date_time": lifecycle.get("lastSeenByServiceDateTime"),
        # Filled from DescribeRecoverySnapshots by callers that ask for it (one call per server).
        "last_snapshot_date_time": None,
        "last_launch": {
            "status": last_launch.get("status"),
            "job_id": initiated.get("jobID"),
            "type": initiated.get("type"),
            "date_time": initiated.get("apiCallDateTime"),
        } if last_launch else None,
        "last_launch_result": server.get("lastLaunchResult"),
        "recovery_instance_id": server.get("recoveryInstanceId"),
        "staging_account_id": staging.get("stagingAccountID"),
        "tags": dict(server.get("tags") or {}),
        "ready": not problems,
        "problems": problems,
    }


def launch_settings_summary(config):
    """The launch settings that matter for recovery, snake_case."""
    into = (config.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")
    return {
        "launch_disposition": config.get("launchDisposition"),
        "copy_private_ip": config.get("copyPrivateIp"),
        "copy_tags": config.get("copyTags"),
        "right_sizing": config.get("targetInstanceTypeRightSizingMethod"),
        "licensing_os_byol": (config.get("licensing") or {}).get("osByol"),
        "post_launch_enabled": config.get("postLaunchEnabled"),
        "ec2_launch_template_id": config.get("ec2LaunchTemplateID"),
        "launch_into_instance_id": into,
    }


def discover_launch_targets(ec2_client):
    """Pre-provisioned DR targets: EC2 instances tagged AWSDRS=AllowLaunchingIntoThisInstance."""
    paginator = ec2_client.get_paginator("describe_instances")
    filters = [{"Name": f"tag:{TAG_DRS_TARGET}", "Values": [TAG_DRS_TARGET_VALUE]},
               {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
    targets = []
    pages = paginator.paginate(Filters=filters).build_full_result()
    for reservation in pages.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            targets.append(target_summary(instance))
    return targets


def target_summary(instance):
    tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
    return {
        "instance_id": instance["InstanceId"],
        "name": tags.get(TAG_NAME),
        "state": (instance.get("State") or {}).get("Name"),
        "private_ip": instance.get("PrivateIpAddress"),
        "subnet_id": instance.get("SubnetId"),
        "vpc_id": instance.get("VpcId"),
        "availability_zone": (instance.get("Placement") or {}).get("AvailabilityZone"),
        "security_group_ids": [g["GroupId"] for g in instance.get("SecurityGroups", [])],
        "instance_type": instance.get("InstanceType"),
        "architecture": instance.get("Architecture"),
        "platform": instance.get("PlatformDetails") or instance.get("Platform") or "Linux/UNIX",
        "boot_mode": instance.get("BootMode"),
        "tagged": tags.get(TAG_DRS_TARGET) == TAG_DRS_TARGET_VALUE,
        "tags": tags,
    }
