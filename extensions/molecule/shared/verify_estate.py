"""Checks the sandbox's AWS state after a lifecycle scenario, through boto3 (independent of the collection's code).

    python verify_estate.py instantiate|activate|cleanup|drill

Reads the estate file next to this script, assumes the workload role like the hub does, and exits non-zero with
every failed check listed."""

import os
import sys

import boto3
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CUSTOMER = "acme"


def session(account):
    if not account.get("role_name"):
        return boto3.Session()
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account['account_id']}:role/{account['role_name']}",
        RoleSessionName="molecule-verify",
        ExternalId=account["external_id"],
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def instances_by_name(ec2):
    found = {}
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                if instance["State"]["Name"] != "terminated":
                    found[(tags.get("Name") or "").strip().lower()] = dict(instance, TagMap=tags)
    return found


def main(scenario):
    with open(os.path.join(HERE, "vars", "estate.yml")) as stream:
        estate = yaml.safe_load(stream)
    primary, dr = estate["regions"]["primary"], estate["regions"]["dr"]
    problems = []

    def check(condition, message):
        if not condition:
            problems.append(message)

    for account in estate["accounts"]:
        aws = session(account)
        drs = aws.client("drs", region_name=dr)
        servers = {
            s["sourceProperties"]["identificationHints"]["hostname"]: s
            for s in drs.describe_source_servers(filters={})["items"]
        }
        recovery = {r["sourceServerID"]: r for r in drs.describe_recovery_instances(filters={})["items"]}
        launches = {}
        for job in drs.describe_jobs(filters={})["items"]:
            if job["type"] == "LAUNCH":
                for participant in job["participatingServers"]:
                    launches.setdefault(participant["sourceServerID"], []).append(job)
        targets = instances_by_name(aws.client("ec2", region_name=dr))
        sources = instances_by_name(aws.client("ec2", region_name=primary))
        names = [s["hostname"] for s in estate["servers"] if s["account"] in (account["name"], account["account_id"])]
        for hostname in names:
            in_scope = hostname.startswith(CUSTOMER + "-")
            server_id = servers[hostname]["sourceServerID"]
            target, source = targets[hostname], sources[hostname]
            instance = recovery.get(server_id)
            jobs = launches.get(server_id, [])
            if not in_scope:
                check(
                    not jobs and instance is None, f"{hostname}: out of scope but has DRS jobs or a recovery instance"
                )
                check(
                    target["State"]["Name"] == "stopped",
                    f"{hostname}: out-of-scope target is {target['State']['Name']}",
                )
                check(
                    source["State"]["Name"] == "running",
                    f"{hostname}: out-of-scope source is {source['State']['Name']}",
                )
                continue
            if scenario == "drill":
                check(
                    instance is None,
                    f"{hostname}: drill recovery instance {instance and instance['ec2InstanceID']} left",
                )
                check(
                    len(jobs) >= 1 and all(j["initiatedBy"] == "START_DRILL" for j in jobs),
                    f"{hostname}: expected drill jobs only, got {[j['initiatedBy'] for j in jobs]}",
                )
                check(
                    target["State"]["Name"] == "stopped",
                    f"{hostname}: target is {target['State']['Name']}, not stopped",
                )
                check(
                    target["TagMap"].get("AWSDRS") == "AllowLaunchingIntoThisInstance",
                    f"{hostname}: target lost its AWSDRS tag",
                )
                check(source["State"]["Name"] == "running", f"{hostname}: a drill stopped the source")
                continue
            # Failover: launched into its own target, by exactly one job (a second run starts none).
            check(len(jobs) == 1, f"{hostname}: {len(jobs)} LAUNCH jobs, expected exactly 1")
            check(
                instance is not None and instance["ec2InstanceID"] == target["InstanceId"],
                f"{hostname}: recovery instance {instance and instance['ec2InstanceID']} is not its target "
                f"{target['InstanceId']}",
            )
            check(instance is not None and not instance["isDrill"], f"{hostname}: recovery instance is a drill")
            check(all(j["status"] == "COMPLETED" for j in jobs), f"{hostname}: job not COMPLETED")
            check(
                all(
                    p.get("launchStatus") == "LAUNCHED"
                    for j in jobs
                    for p in j["participatingServers"]
                    if p["sourceServerID"] == server_id
                ),
                f"{hostname}: launch status is not LAUNCHED",
            )
            if scenario in ("activate", "cleanup"):
                check(target["State"]["Name"] == "running", f"{hostname}: target is {target['State']['Name']}")
                expected_ip = next(s["target"]["private_ip"] for s in estate["servers"] if s["hostname"] == hostname)
                check(
                    target.get("PrivateIpAddress") == expected_ip,
                    f"{hostname}: target IP {target.get('PrivateIpAddress')} is not {expected_ip}",
                )
            if scenario == "cleanup":
                check(source["State"]["Name"] == "stopped", f"{hostname}: source is {source['State']['Name']}")
                check(
                    source["TagMap"].get("dr:failback-target") == "true",
                    f"{hostname}: source not tagged dr:failback-target=true",
                )
            else:
                check(source["State"]["Name"] == "running", f"{hostname}: source is {source['State']['Name']}")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"{scenario}: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
