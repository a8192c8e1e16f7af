"""Helpers of the DRS recovery integration tests: estates, launch-into setup, running a module."""

from __future__ import annotations

import json
import subprocess

WORKLOAD_A = "210987654321"
WORKLOAD_B = "345678901234"
DR_REGION = "us-west-2"


LINUX_AMI = "ami-04681a1dbd79675a5"  # amzn2 in moto's catalogue of both regions


def estate(count, accounts=("workload-a",), priorities=("low", "critical", "medium", "high"), customers=("acme",),
           environment="production"):
    """``count`` Linux servers with stopped, tagged launch-into targets, round-robin over accounts and customers."""
    accounts_block = [
        {"account_id": WORKLOAD_A, "name": "workload-a", "external_id": "edr-demo-workload-a"},
        {"account_id": WORKLOAD_B, "name": "workload-b", "external_id": "edr-demo-workload-b"},
    ]
    servers = []
    for index in range(count):
        customer = customers[index % len(customers)]
        servers.append({
            "hostname": f"{customer}-app{index:04d}",
            "account": accounts[index % len(accounts)],
            "customer": customer,
            "environment": environment,
            "wave": 1,
            "priority": priorities[index % len(priorities)],
            "source": {"image_id": LINUX_AMI},
            "target": {"image_id": LINUX_AMI},
            "drs": {"replication_state": "CONTINUOUS", "lag_seconds": 0},
        })
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": "us-east-1", "dr": DR_REGION},
        "customers": list(customers),
        "accounts": [a for a in accounts_block if a["name"] in accounts],
        "servers": servers,
    }


def configure_launch_into(sandbox, servers):
    """Point each server's launch configuration at its seeded target (direct boto3, as an operator would)."""
    clients = {}
    for server in servers:
        account = server["drs_account_id"]
        if account not in clients:
            clients[account] = sandbox.client("drs", account, DR_REGION)
        clients[account].update_launch_configuration(
            sourceServerID=server["source_server_id"], copyPrivateIp=False, copyTags=False,
            targetInstanceTypeRightSizingMethod="NONE", launchDisposition="STARTED",
            launchIntoInstanceProperties={"launchIntoEC2InstanceID": server["target_instance_id"]},
        )


def account_args(sandbox, account_ids):
    out = []
    for account_id in account_ids:
        entry = sandbox.account(account_id)
        out.append({"account_id": account_id, "role_arn": entry["role_arn"], "external_id": entry["external_id"]})
    return out


def server_args(servers, with_target=False):
    out = []
    for server in servers:
        item = {"source_server_id": server["source_server_id"], "account_id": server["drs_account_id"],
                "region": DR_REGION, "hostname": server["hostname"], "priority": server["priority"]}
        if with_target:
            item["target_instance_id"] = server["target_instance_id"]
        out.append(item)
    return out


def module_command(sandbox, module, args, check=False, diff=False):
    command = [str(sandbox_bin("ansible")), "localhost", "-m", f"enterprise_dr.orchestration.{module}",
               "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    return command


def sandbox_bin(program):
    from sandbox.harness import REPO_ROOT

    return REPO_ROOT / ".venv" / "bin" / program


def module_env(sandbox):
    return sandbox.ansible_env({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
                                "AWS_REGION": DR_REGION, "AWS_DEFAULT_REGION": DR_REGION})


def run_module(sandbox, module, args, check=False, diff=False, timeout=600):
    """Run one module on localhost; returns its result dict (``failed`` set when it failed)."""
    from sandbox.harness import REPO_ROOT

    completed = subprocess.run(
        module_command(sandbox, module, args, check, diff), cwd=str(REPO_ROOT), env=module_env(sandbox),
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False,
    )
    try:
        document = json.loads(completed.stdout)
        return document["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError(
            f"no module result (rc={completed.returncode}):\n{completed.stdout}\n{completed.stderr}") from None


def jobs_of(sandbox, account_id):
    drs = sandbox.client("drs", account_id, DR_REGION)
    items = []
    for page in drs.get_paginator("describe_jobs").paginate(filters={}):
        items.extend(page["items"])
    return items


def servers_in_two_jobs(jobs, job_type="LAUNCH"):
    seen = {}
    for job in jobs:
        if job.get("type") != job_type:
            continue
        for participant in job.get("participatingServers") or []:
            seen.setdefault(participant["sourceServerID"], []).append(job["jobID"])
    return {sid: ids for sid, ids in seen.items() if len(ids) > 1}


def instances(sandbox, account_id, instance_ids):
    ec2 = sandbox.client("ec2", account_id, DR_REGION)
    found = {}
    ids = list(instance_ids)
    for start in range(0, len(ids), 200):
        for reservation in ec2.describe_instances(InstanceIds=ids[start:start + 200])["Reservations"]:
            for instance in reservation["Instances"]:
                found[instance["InstanceId"]] = instance
    return found
