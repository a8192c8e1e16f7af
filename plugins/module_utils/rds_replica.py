# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDS (non-Aurora) cross-region read replicas: read a replication pair, plan a promotion or a re-created replica.

A pair is one DB instance per region with the same role in the estate: ``instances`` maps each region to its
identifier. Planning functions are pure (unit-tested); calls go through the collection's client factory and reuse
amazon.aws's RDS helpers (``describe_db_instances``) and its ``read_replica_promoted`` waiter.
"""

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = Exception

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


class ReplicaError(Exception):
    """What failed for one pair, and the fix."""

    def __init__(self, message, remediation=None):
        super().__init__(message)
        self.remediation = remediation


def describe(client, identifier):
    """The instance with its tags, or None when it does not exist."""
    try:
        found = client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return None
        raise
    if not found:
        return None
    instance = found[0]
    return {
        "arn": instance["DBInstanceArn"], "identifier": instance["DBInstanceIdentifier"],
        "status": instance.get("DBInstanceStatus"), "engine": instance.get("Engine"),
        "instance_class": instance.get("DBInstanceClass"),
        "source": instance.get("ReadReplicaSourceDBInstanceIdentifier"),
        "replicas": list(instance.get("ReadReplicaDBInstanceIdentifiers") or []),
        "replicating": any(s.get("Status") == "replicating" for s in instance.get("StatusInfos") or []),
        "endpoint": (instance.get("Endpoint") or {}).get("Address"),
        "port": (instance.get("Endpoint") or {}).get("Port"),
        "backup_retention": instance.get("BackupRetentionPeriod"),
        "tags": boto3_tag_list_to_ansible_dict(instance.get("TagList") or []),
    }


def plan_promotion(target, source_region):
    """``promote`` (a replica to promote), ``none`` (already standalone, not replicating: a resumed run) or an error."""
    if target is None:
        raise ReplicaError("the DR instance does not exist", "re-create the cross-region replica, or re-run discovery")
    if target["source"]:
        if target["status"] not in ("available", "storage-optimization"):
            raise ReplicaError(f"the replica {target['identifier']} is {target['status']}: it cannot be promoted now",
                               "wait until it is available, then re-run the same command")
        return "promote"
    if target["status"] == "modifying":
        return "wait"  # promoted by an interrupted run: wait for it, never promote twice
    return "none"


def plan_replica(old, new_primary):
    """What re-creating the replica in the old region needs: ``none`` (``old`` replicates from ``new_primary``),
    ``create`` (no instance holds the identifier) or ``replace`` (the old primary holds it: rename it, then create)."""
    if old is None:
        return "create"
    if old["source"] in (new_primary["arn"], new_primary["identifier"]):
        return "none"
    if old["source"]:
        raise ReplicaError(f"{old['identifier']} replicates from {old['source']}, not from {new_primary['arn']}",
                           "promote or remove that replica first, then re-run")
    return "replace"


def retired_identifier(identifier, execution_id):
    suffix = (execution_id or "retired").replace("_", "-")[-12:].strip("-")
    return f"{identifier[:63 - len(suffix) - 5]}-pre-{suffix}".rstrip("-")
