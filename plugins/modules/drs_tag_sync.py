#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_tag_sync
short_description: Copy the source EC2 instances' tags onto their DRS source servers
version_added: 0.1.0
description:
  - For each AWS Elastic Disaster Recovery source server that replicates an EC2 instance, reads the
    tags of that instance (in its origin account and region, from the server's C(sourceCloudProperties)
    and C(identificationHints.awsInstanceID)) and sets the selected ones on the DRS source server, so
    discovery, scoping and reports see the same C(dr:*), C(Customer) and C(Environment) tags on both.
  - Tags are selected with O(include) and O(exclude) glob patterns; C(aws:*) tags are never copied.
  - With O(purge=true), DRS tags that match O(include) (and not O(exclude)) but are no longer on the
    instance are removed; tags outside O(include) are never touched.
  - "Scope: the scope is checked on the source EC2 instance's own tags, because a new DRS source server
    may not carry C(Customer)/C(Environment) yet (that is what this module fixes). A DRS source server
    whose own tags name another customer or environment is refused as well."
  - Servers are grouped by account and region, one client per group, groups read concurrently.
options:
  servers:
    description: The DRS source servers to tag.
    type: list
    elements: dict
    required: true
    suboptions:
      source_server_id:
        description: The DRS source server ID (C(s-...)).
        type: str
        required: true
      account_id:
        description: The DRS recovery account the server lives in. Defaults to the module's own credentials.
        type: str
      region:
        description: The DRS recovery region the server lives in. Defaults to the module's region.
        type: str
      hostname:
        description: The server's hostname, for messages. Defaults to the hostname DRS reports.
        type: str
      priority:
        description: The server's priority (informational here).
        type: str
        choices: [critical, high, medium, low]
      target_instance_id:
        description: Ignored by this module.
        type: str
  include:
    description:
      - Glob patterns (C(fnmatch), case-sensitive) of the tag keys to copy.
      - The default copies the DR tag schema and the names that scoping and matching rely on.
    type: list
    elements: str
    default: ["dr:*", "Customer", "Environment", "Name"]
  exclude:
    description: Glob patterns of tag keys never to copy, applied after O(include). C(aws:*) is always excluded.
    type: list
    elements: str
    default: []
  purge:
    description:
      - Remove DRS tags that match O(include) and not O(exclude) but are not on the source instance.
    type: bool
    default: false
extends_documentation_fragment:
  - enterprise_dr.orchestration.scope
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Copy the DR tags of acme's source instances onto their DRS source servers
  enterprise_dr.orchestration.drs_tag_sync:
    customer: acme
    region: us-west-2
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
    servers:
      - source_server_id: s-1234567890abcdef0
        account_id: "210987654321"

- name: Copy everything but cost tags, and drop DR tags removed from the instances
  enterprise_dr.orchestration.drs_tag_sync:
    customer: acme
    servers: "{{ wave_servers }}"
    include: ["*"]
    exclude: ["CostCenter", "billing:*"]
    purge: true
"""

RETURN = r"""
servers:
  description: What happened to each server.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id:
      description: The source server ID.
      type: str
    account_id:
      description: Its account.
      type: str
    region:
      description: Its region.
      type: str
    hostname:
      description: Its hostname.
      type: str
    source_instance_id:
      description: The EC2 instance the tags were read from.
      type: str
    changed:
      description: Whether its tags changed (in check mode, would change).
      type: bool
    tags_set:
      description: Tags added or given a new value.
      type: dict
    tags_removed:
      description: Tag keys removed (with O(purge=true)).
      type: list
      elements: str
    before:
      description: The server's DRS tags before.
      type: dict
    after:
      description: The server's DRS tags after (predicted in check mode).
      type: dict
    error:
      description: Why tagging this server failed; null when it did not.
      type: str
diff:
  description: DRS tags per source server ID before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
"""

import fnmatch

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import SERVERS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import error_text
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import group_entries
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import resolve_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import server_label
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation

DEFAULT_INCLUDE = ["dr:*", TAG_CUSTOMER, TAG_ENVIRONMENT, "Name"]


def selected(key, include, exclude):
    """Whether a tag key is copied: matches an include pattern, no exclude pattern, and is not aws:*."""
    if key.lower().startswith("aws:"):
        return False
    return any(fnmatch.fnmatchcase(key, p) for p in include) and not any(fnmatch.fnmatchcase(key, p) for p in exclude)


def plan_tags(current, source, include, exclude, purge):
    """(tags to set, keys to remove) to bring a server's DRS tags in line with its instance's tags."""
    wanted = {k: v for k, v in source.items() if selected(k, include, exclude)}
    to_set = {k: v for k, v in wanted.items() if current.get(k) != v}
    to_remove = sorted(k for k in current if purge and selected(k, include, exclude) and k not in wanted)
    return to_set, to_remove


def source_location(entry):
    server = entry["server"]
    cloud = server.get("sourceCloudProperties") or {}
    hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
    return cloud.get("originAccountID"), cloud.get("originRegion"), hints.get("awsInstanceID")


def read_source_tags(factory, entries):
    """Set ``entry['source_tags']`` from each server's source EC2 instance; DRSError naming every server whose
    instance cannot be found."""
    by_origin = {}
    problems = []
    for entry in entries:
        account_id, region, instance_id = source_location(entry)
        entry["source_instance_id"] = instance_id
        if not (account_id and region and instance_id):
            problems.append(f"{server_label(entry)} does not replicate an EC2 instance (no origin account, region or "
                            "awsInstanceID); tag it with drs tag-resource instead")
            continue
        by_origin.setdefault((account_id, region), []).append(entry)

    def read(origin):
        account_id, region = origin
        ec2 = factory.client("ec2", account_id=account_id, region=region)
        return describe_instances(ec2, {e["source_instance_id"] for e in by_origin[origin]})

    found = run_concurrently(read, by_origin)
    for origin, group in by_origin.items():
        for entry in group:
            instance = found[origin].get(entry["source_instance_id"])
            if instance is None or (instance.get("State") or {}).get("Name") == "terminated":
                problems.append(f"{server_label(entry)}: source instance {entry['source_instance_id']} was not "
                                f"found in {origin[0]}/{origin[1]}; check the origin account is listed in accounts")
                continue
            entry["source_tags"] = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
    if problems:
        raise DRSError("; ".join(problems))


def check_scope_of(entries, customer, environment):
    violations = []
    for entry in entries:
        label = f"{server_label(entry)} (source instance {entry['source_instance_id']})"
        violation = scope_violation(label, entry["source_tags"], customer, environment)
        own = (entry["server"].get("tags") or {})
        effective = {TAG_CUSTOMER: own.get(TAG_CUSTOMER, customer),
                     TAG_ENVIRONMENT: own.get(TAG_ENVIRONMENT, environment)}
        violation = violation or scope_violation(server_label(entry), effective, customer, environment)
        if violation:
            violations.append(violation)
    if violations:
        raise ScopeError(violations)


def apply_tags(factory, entries, check_mode):
    def tag_entry(client, entry):
        if check_mode or not (entry["to_set"] or entry["to_remove"]):
            return
        arn = entry["server"]["arn"]
        try:
            if entry["to_set"]:
                client.tag_resource(resourceArn=arn, tags=entry["to_set"])
                entry["done_set"] = True
            if entry["to_remove"]:
                client.untag_resource(resourceArn=arn, tagKeys=entry["to_remove"])
            entry["after"] = dict(client.list_tags_for_resource(resourceArn=arn).get("tags") or {})
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            entry["error"] = f"{server_label(entry)}: {error_text(e)}"
            if not entry.get("done_set"):
                entry["after"] = entry["before"]

    groups = group_entries(entries)

    def apply(group_key):
        account_id, region = group_key
        client = factory.client("drs", account_id=account_id, region=region)
        map_concurrently(lambda e: tag_entry(client, e), groups[group_key])

    run_concurrently(apply, groups)


def row(entry):
    return {
        "source_server_id": entry["source_server_id"],
        "account_id": entry.get("account_id"),
        "region": entry.get("region"),
        "hostname": entry.get("hostname"),
        "source_instance_id": entry.get("source_instance_id"),
        "changed": bool(entry["to_set"] or entry["to_remove"]) and entry["after"] != entry["before"],
        "tags_set": entry["to_set"],
        "tags_removed": entry["to_remove"],
        "before": entry["before"],
        "after": entry["after"],
        "error": entry.get("error"),
    }


def main():
    argument_spec = dict(
        SERVERS_ARGUMENT_SPEC,
        include=dict(type="list", elements="str", default=DEFAULT_INCLUDE),
        exclude=dict(type="list", elements="str", default=[]),
        purge=dict(type="bool", default=False),
    )
    argument_spec.update(ACCOUNTS_ARGUMENT_SPEC)
    argument_spec.update(SCOPE_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    factory = ClientFactory(module, accounts=params["accounts"])
    try:
        entries = resolve_servers(factory, params["servers"], factory.default_region)
        read_source_tags(factory, entries)
        check_scope_of(entries, params["customer"], params.get("environment"))
        for entry in entries:
            entry["before"] = dict(entry["server"].get("tags") or {})
            entry["to_set"], entry["to_remove"] = plan_tags(entry["before"], entry["source_tags"], params["include"],
                                                            params["exclude"], params["purge"])
            predicted = dict(entry["before"], **entry["to_set"])
            for key in entry["to_remove"]:
                predicted.pop(key, None)
            entry["after"] = predicted
        apply_tags(factory, entries, module.check_mode)
    except ScopeError as e:
        module.fail_json(msg=str(e), out_of_scope=[v["resource"] for v in e.violations])
    except DRSError as e:
        module.fail_json(msg=str(e))
    except AccountAccessError as e:
        module.fail_json(msg=f"Could not reach account {e.account_id}: {e.reason}. Fix: check its role_arn, "
                             "external_id or profile in accounts")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not read DRS source servers or their source instances ({error_text(e)})")

    rows = [row(e) for e in entries]
    result = {"changed": any(r["changed"] for r in rows), "servers": rows}
    if module._diff:
        result["diff"] = {"before": {e["source_server_id"]: e["before"] for e in entries},
                          "after": {e["source_server_id"]: e["after"] for e in entries}}
    errors = [e["error"] for e in entries if e.get("error")]
    if errors:
        module.fail_json(msg=f"Tags of {len(errors)} server(s) could not be changed: {'; '.join(errors)}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
