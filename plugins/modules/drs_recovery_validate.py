#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_recovery_validate
short_description: Validate recovered DRS servers - running, on the expected instance, with the expected private IP
version_added: 0.1.0
description:
  - For each source server, finds its DRS recovery instance and checks, in batches per account and region,
    that the recovery instance exists, that it runs on the expected EC2 instance (the pre-provisioned target
    or, for failback, the original instance), that the instance is running, that its private IP is the
    expected one, and that the EC2 instance and system status checks pass.
  - With O(wait=true) it polls until every check passes or O(wait_timeout) expires; only the state and
    status checks can still change while waiting.
  - Read-only - it never changes anything, so check mode runs the same checks.
  - With a C(health_check_url) for a server, its application is checked too, once its instance checks pass.
    C(http://) and C(https://) URLs must answer C(200) or C(204) to a C(GET), C(tcp://host:port) must accept a
    connection. Every server's health check runs concurrently and is retried until O(health_check_timeout).
  - Each failed check names the server and says what to do about it.
options:
  servers:
    description: The source servers to validate.
    type: list
    elements: dict
    required: true
    suboptions:
      source_server_id:
        description: The DRS source server ID.
        type: str
        required: true
      account_id:
        description: The DRS recovery account. Defaults to the module's own credentials.
        type: str
      region:
        description: The DRS recovery region. Defaults to the module's region.
        type: str
      hostname:
        description: The server's hostname, for messages.
        type: str
      expected_instance_id:
        description:
          - The EC2 instance the server must run on (the launch-into target, or the original instance after failback).
        type: str
      expected_private_ip:
        description: The private IP the instance must keep.
        type: str
      health_check_url:
        description:
          - The application's health check, checked once the instance checks pass.
          - C(http://...) or C(https://...) must answer C(200) or C(204); C(tcp://host:port) must accept a connection.
        type: str
  health_check_timeout:
    description:
      - Seconds to keep retrying a failing health check (every 5 seconds, each attempt with a 10-second timeout).
    type: int
    default: 300
  drill:
    description:
      - Which recovery instance to validate when a server has both a drill and a recovery instance.
      - When omitted, the most recent recovery instance of the server is validated.
    type: bool
  status_checks:
    description: Require the EC2 instance and system status checks to be C(ok).
    type: bool
    default: true
  fail_on_error:
    description: Fail the task, naming every failed server and check, when a check does not pass.
    type: bool
    default: true
extends_documentation_fragment:
  - enterprise_dr.orchestration.accounts
  - enterprise_dr.orchestration.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Validate the wave's recovered servers kept their target's instance ID and private IP
  enterprise_dr.orchestration.drs_recovery_validate:
    servers:
      - source_server_id: s-1234567890abcdef0
        account_id: "210987654321"
        region: us-west-2
        hostname: acme-prod-web01
        expected_instance_id: i-0123456789abcdef0
        expected_private_ip: 10.20.1.11
        health_check_url: https://web01.dr.example.com/health
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: "{{ workload_a_external_id }}"
    wait_timeout: 900
    poll_interval: 15
"""

RETURN = r"""
servers:
  description: One entry per server with every check.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id: {description: The source server ID., type: str}
    hostname: {description: The server's hostname., type: str}
    account_id: {description: The recovery account., type: str}
    region: {description: The recovery region., type: str}
    recovery_instance_id: {description: The DRS recovery instance ID., type: str}
    ec2_instance_id: {description: The EC2 instance the server runs on., type: str}
    private_ip: {description: The instance's private IP., type: str}
    state: {description: The EC2 instance state., type: str}
    passed: {description: Whether every check passed., type: bool}
    checks:
      description:
        - Each check with C(passed), C(detail) and, when it failed, C(fix) - C(recovery_instance), C(instance_id),
          C(running), C(private_ip), C(status_checks), and C(health_check) for a server with a C(health_check_url).
      type: dict
summary:
  description: Counts of servers that passed and failed.
  returned: always
  type: dict
  sample: {total: 12, passed: 12, failed: 0}
failed_servers:
  description: Hostnames (or IDs) of the servers with a failed check.
  returned: always
  type: list
  elements: str
"""

import re
import socket
import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.urls import open_url

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_recovery_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import instance_status
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import Poll


def _check(passed, detail, fix=None):
    entry = {"passed": bool(passed), "detail": detail}
    if not passed and fix:
        entry["fix"] = fix
    return entry


def pick_recovery_instance(instances, drill=None):
    """The recovery instance to validate: of the requested kind, the most recent first."""
    if drill is not None:
        instances = [i for i in instances if bool(i.get("isDrill")) == drill]
    if not instances:
        return None
    return sorted(instances, key=lambda i: (i.get("pointInTimeSnapshotDateTime") or "", i.get("jobID") or ""))[-1]


def evaluate(entry, recovery, instance, status, require_status_checks):
    """The checks of one server (pure: unit-tested)."""
    name = entry.get("hostname") or entry["source_server_id"]
    checks = {}
    row = {
        "source_server_id": entry["source_server_id"],
        "hostname": entry.get("hostname"),
        "account_id": entry.get("account_id"),
        "region": entry.get("region"),
        "recovery_instance_id": (recovery or {}).get("recoveryInstanceID"),
        "ec2_instance_id": (recovery or {}).get("ec2InstanceID"),
        "private_ip": (instance or {}).get("PrivateIpAddress"),
        "state": ((instance or {}).get("State") or {}).get("Name"),
        "checks": checks,
    }
    checks["recovery_instance"] = _check(
        recovery is not None,
        f"recovery instance {row['recovery_instance_id']}" if recovery else f"{name} has no recovery instance",
        f"launch {name} first (drs_recover), or check it was launched in "
        f"{entry.get('account_id')}/{entry.get('region')}",
    )
    expected_id = entry.get("expected_instance_id")
    if expected_id:
        checks["instance_id"] = _check(
            row["ec2_instance_id"] == expected_id,
            f"runs on {row['ec2_instance_id']}, expected {expected_id}",
            f"{name} did not launch into {expected_id}: check its launchIntoInstanceProperties and the target's "
            "AWSDRS tag, then relaunch",
        )
    checks["running"] = _check(
        row["state"] == "running",
        f"EC2 state {row['state'] or 'unknown'}",
        f"start {row['ec2_instance_id']} or read the DRS job log of {name} for the launch error",
    )
    expected_ip = entry.get("expected_private_ip")
    if expected_ip:
        checks["private_ip"] = _check(
            row["private_ip"] == expected_ip,
            f"private IP {row['private_ip']}, expected {expected_ip}",
            f"{name} lost its private IP: launch into the pre-provisioned instance that owns {expected_ip}",
        )
    if require_status_checks:
        ok = bool(status) and status.get("instance") == "ok" and status.get("system") == "ok"
        detail = (f"instance status {status.get('instance')}, system status {status.get('system')}"
                  if status else "no status checks reported yet")
        checks["status_checks"] = _check(ok, detail, f"wait for {row['ec2_instance_id']}'s status checks or open its "
                                                     "system log (console output) for boot problems")
    row["passed"] = all(c["passed"] for c in checks.values())
    return row


HEALTH_CHECK_ATTEMPT_TIMEOUT = 10
HEALTH_CHECK_DELAY = 5
HEALTH_CHECK_WORKERS = 32
TCP_URL = re.compile(r"^tcp://([^:/]+):(\d+)")


def shown(url):
    """The URL without credentials, for messages and results."""
    return re.sub(r"^([a-z]+://)[^/@]*@", r"\1", url)


def probe(url, timeout=HEALTH_CHECK_ATTEMPT_TIMEOUT):
    """One attempt at a health check: (passed, what was seen)."""
    tcp = TCP_URL.match(url)
    try:
        if tcp:
            with socket.create_connection((tcp.group(1), int(tcp.group(2))), timeout=timeout):
                return True, f"{shown(url)} accepted a connection"
        if not url.startswith(("http://", "https://")):
            return False, f"{shown(url)} is not an http(s):// or tcp://host:port URL"
        response = open_url(url, method="GET", timeout=timeout, follow_redirects="safe")
        status = response.getcode()
        return status in (200, 204), f"{shown(url)} answered HTTP {status}"
    except Exception as e:  # pylint: disable=broad-except  # every failed attempt is reported, not raised
        code = getattr(e, "code", None)
        return False, (f"{shown(url)} answered HTTP {code}" if code
                       else f"{shown(url)} did not answer: {str(e).replace(url, shown(url))}")


def health_check(url, deadline, name, instance_id, attempt=probe, sleep=time.sleep, clock=time.monotonic):
    """Retry one server's health check until it passes or the deadline; the check entry of that server."""
    attempts = 0
    while True:
        attempts += 1
        passed, seen = attempt(url)
        if passed or clock() + HEALTH_CHECK_DELAY > deadline:
            break
        sleep(HEALTH_CHECK_DELAY)
    detail = seen if passed else f"{seen} (after {attempts} attempt{'s' if attempts > 1 else ''})"
    return _check(passed, detail, f"check the application of {name} on {instance_id}, its listener and the security "
                                  f"groups and network ACLs between this controller and {shown(url)}")


def add_health_checks(rows, urls, timeout, check=health_check):
    """Health-check, concurrently, every server that has a URL and passed its instance checks."""
    due = [r for r in rows if urls.get(r["source_server_id"]) and r["passed"] and "health_check" not in r["checks"]]
    if not due:
        return rows
    deadline = time.monotonic() + timeout
    results = map_concurrently(
        lambda r: check(urls[r["source_server_id"]], deadline, r.get("hostname") or r["source_server_id"],
                        r["ec2_instance_id"]),
        due, max_workers=HEALTH_CHECK_WORKERS)
    for row, result in zip(due, results):
        row["checks"]["health_check"] = result
        row["passed"] = result["passed"]
    return rows


def validate_group(factory, key, entries, drill, require_status_checks):
    account_id, region = key
    drs = factory.client("drs", account_id=account_id, region=region)
    ec2 = factory.client("ec2", account_id=account_id, region=region)
    by_server = {}
    for item in describe_recovery_instances(drs, source_server_ids=[e["source_server_id"] for e in entries]):
        by_server.setdefault(item.get("sourceServerID"), []).append(item)
    recoveries = {e["source_server_id"]: pick_recovery_instance(by_server.get(e["source_server_id"], []), drill)
                  for e in entries}
    ids = [r["ec2InstanceID"] for r in recoveries.values() if r and r.get("ec2InstanceID")]
    instances = describe_instances(ec2, ids) if ids else {}
    statuses = instance_status(ec2, ids) if ids and require_status_checks else {}
    rows = []
    for entry in entries:
        recovery = recoveries[entry["source_server_id"]]
        ec2_id = (recovery or {}).get("ec2InstanceID")
        rows.append(evaluate(entry, recovery, instances.get(ec2_id), statuses.get(ec2_id), require_status_checks))
    return rows


def main():
    argument_spec = dict(
        servers=dict(
            type="list", elements="dict", required=True,
            options=dict(
                source_server_id=dict(type="str", required=True),
                account_id=dict(type="str"),
                region=dict(type="str"),
                hostname=dict(type="str"),
                expected_instance_id=dict(type="str"),
                expected_private_ip=dict(type="str"),
                health_check_url=dict(type="str"),
            ),
        ),
        health_check_timeout=dict(type="int", default=300),
        drill=dict(type="bool"),
        status_checks=dict(type="bool", default=True),
        fail_on_error=dict(type="bool", default=True),
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        factory = ClientFactory(module, params["accounts"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    entries = [dict(s, region=s.get("region") or factory.default_region) for s in params["servers"]]
    groups = group_by_account_region(entries, default_region=factory.default_region)
    deadline = time.monotonic() + params["wait_timeout"]

    def validate_all():
        results = run_concurrently(
            lambda key: validate_group(factory, key, groups[key], params["drill"], params["status_checks"]), groups)
        return [row for key in groups for row in results[key]]

    try:
        rows = validate_all()
        pauses = Poll(max(0, deadline - time.monotonic()), params["poll_interval"])
        while params["wait"] and not all(r["passed"] for r in rows) and not pauses.expired():
            # Only waiting can fix a state or status check; missing instances and wrong IDs/IPs will not heal.
            lasting = [c for r in rows for n, c in r["checks"].items() if n not in ("running", "status_checks")]
            if any(not c["passed"] for c in lasting):
                break
            pauses.pause()
            rows = validate_all()
        add_health_checks(rows, {e["source_server_id"]: e.get("health_check_url") for e in entries},
                          params["health_check_timeout"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read recovery instances or EC2 instances for validation")

    failed = [r.get("hostname") or r["source_server_id"] for r in rows if not r["passed"]]
    summary = {"total": len(rows), "passed": len(rows) - len(failed), "failed": len(failed)}
    result = dict(changed=False, servers=rows, summary=summary, failed_servers=failed)
    if failed and params["fail_on_error"]:
        details = []
        for row in rows:
            if not row["passed"]:
                for name, check in row["checks"].items():
                    if not check["passed"]:
                        details.append(f"{row.get('hostname') or row['source_server_id']}: {name}: {check['detail']}"
                                       f" (fix: {check.get('fix')})")
        module.fail_json(msg=f"{len(failed)} of {len(rows)} recovered servers failed validation: " + "; ".join(details),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
