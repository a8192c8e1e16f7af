#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_launch_configuration
short_description: Manage the DRS launch settings of many source servers at once
version_added: 0.1.0
description:
  - Sets the per-server launch settings of AWS Elastic Disaster Recovery source servers - private IP
    and tag copying, right-sizing, launch disposition, OS licensing, post-launch actions and the
    launch-into instance - for a whole wave of servers across accounts and regions.
  - Only settings that differ are changed (one UpdateLaunchConfiguration per server, two when a
    launch-into instance is set, so copying is already off when the instance is set).
  - Returns every server's settings before and after; pass a previous run's RV(before) as
    O(restore) to roll back to it.
  - Before any change, every server's own C(Customer)/C(Environment) DRS tags are checked against
    the scope; servers outside it are refused by name and nothing is changed.
  - Servers are grouped by account and region, one client per group, groups worked on concurrently.
options:
  servers:
    description:
      - The source servers to configure. Required unless O(restore) is given.
    type: list
    elements: dict
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
        description: Ignored by this module (see M(enterprise_dr.orchestration.drs_launch_into_instance)).
        type: str
      launch_settings:
        description:
          - Settings for this server only, overriding the module-level ones. Same keys as the
            module-level options (O(copy_private_ip), O(copy_tags), O(right_sizing), O(launch_disposition),
            O(licensing_os_byol), O(post_launch_enabled), O(launch_into_instance_id)).
        type: dict
  copy_private_ip:
    description: Give the recovery instance the source server's private IP. Must be off with a launch-into instance.
    type: bool
  copy_tags:
    description: Copy the source server's tags to the recovery instance. Must be off with a launch-into instance.
    type: bool
  right_sizing:
    description: How DRS picks the recovery instance type.
    type: str
    choices: [NONE, BASIC, IN_AWS]
  launch_disposition:
    description: Whether the recovery instance is left running or stopped after launch.
    type: str
    choices: [STOPPED, STARTED]
  licensing_os_byol:
    description: Bring your own OS licence.
    type: bool
  post_launch_enabled:
    description: Run post-launch actions after launch.
    type: bool
  launch_into_instance_id:
    description:
      - The pre-provisioned EC2 instance to launch into (in the server's recovery account and region).
      - An empty string removes the launch-into instance, so DRS launches a new instance again.
      - To match targets to servers by name and check their prerequisites, use
        M(enterprise_dr.orchestration.drs_launch_into_instance) instead.
    type: str
  restore:
    description:
      - A previous run's RV(before) list; every server listed is set back to those settings
        (a server that had no launch-into instance has it removed).
      - Mutually exclusive with O(servers) and the setting options.
    type: list
    elements: dict
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
- name: Recovery instances of wave 1 start stopped and keep their own instance type
  enterprise_dr.orchestration.drs_launch_configuration:
    customer: acme
    env: production
    region: us-west-2
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
    servers:
      - source_server_id: s-1234567890abcdef0
        account_id: "210987654321"
      - source_server_id: s-1234567890abcdef1
        account_id: "210987654321"
        launch_settings:
          launch_disposition: STARTED
    launch_disposition: STOPPED
    right_sizing: NONE
  register: wave1_settings

- name: Roll the settings back to what they were
  enterprise_dr.orchestration.drs_launch_configuration:
    customer: acme
    region: us-west-2
    accounts: "{{ dr_accounts }}"
    restore: "{{ wave1_settings.before }}"
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
    changed:
      description: Whether its settings changed (in check mode, would change).
      type: bool
    changes:
      description: The names of the settings that changed.
      type: list
      elements: str
    before:
      description: Its launch settings before (see RV(before)).
      type: dict
    after:
      description: Its launch settings after (predicted in check mode).
      type: dict
    error:
      description: Why changing this server failed; null when it did not.
      type: str
before:
  description: Every server's launch settings before the run; pass it as O(restore) to roll back.
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
    launch_settings:
      description:
        - C(copy_private_ip), C(copy_tags), C(right_sizing), C(launch_disposition), C(licensing_os_byol),
          C(post_launch_enabled), C(launch_into_instance_id) and C(ec2_launch_template_id).
      type: dict
after:
  description: Every server's launch settings after the run, in the shape of RV(before).
  returned: always
  type: list
  elements: dict
diff:
  description: Launch settings per source server ID before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import launch_settings_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import LAUNCH_SETTING_FIELDS
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import SERVERS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import apply_launch_plans
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import check_servers_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import error_text
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import group_entries
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import launch_into_conflicts
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import plan_launch_settings
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import predict_settings
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import read_launch_configurations
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import resolve_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import result_row
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import server_label
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError

SETTING_OPTIONS = dict(
    copy_private_ip=dict(type="bool"),
    copy_tags=dict(type="bool"),
    right_sizing=dict(type="str", choices=["NONE", "BASIC", "IN_AWS"]),
    launch_disposition=dict(type="str", choices=["STOPPED", "STARTED"]),
    licensing_os_byol=dict(type="bool"),
    post_launch_enabled=dict(type="bool"),
    launch_into_instance_id=dict(type="str"),
)


def desired_settings(params, entry):
    """Module-level settings overlaid with the server's own ``launch_settings``."""
    desired = {k: params.get(k) for k in SETTING_OPTIONS}
    for key, value in (entry.get("launch_settings") or {}).items():
        if key not in SETTING_OPTIONS:
            raise DRSError(f"{server_label(entry)}: unknown launch setting {key!r}", resource=entry["source_server_id"],
                           remediation=f"use one of {', '.join(SETTING_OPTIONS)}")
        desired[key] = value
    return desired


def entries_from_restore(restore):
    """Entries (with per-server settings) from a previous run's ``before`` list."""
    entries = []
    for item in restore:
        if not item.get("source_server_id"):
            raise DRSError("every restore item needs source_server_id (pass a previous run's 'before' list)")
        saved = item.get("launch_settings") or {}
        settings = {k: saved.get(k) for k in LAUNCH_SETTING_FIELDS}
        settings["launch_into_instance_id"] = saved.get("launch_into_instance_id") or ""
        entries.append({"source_server_id": item["source_server_id"], "account_id": item.get("account_id"),
                        "region": item.get("region"), "hostname": item.get("hostname"), "launch_settings": settings})
    return entries


def settings_row(entry, key):
    return {"source_server_id": entry["source_server_id"], "account_id": entry.get("account_id"),
            "region": entry.get("region"), "hostname": entry.get("hostname"), "launch_settings": entry.get(key)}


def run(module, factory):
    params = module.params
    if params.get("restore"):
        requested = entries_from_restore(params["restore"])
    else:
        requested = params["servers"]
    entries = resolve_servers(factory, requested, factory.default_region)
    check_servers_scope(entries, params["customer"], params.get("environment"))
    groups = group_entries(entries)
    read_launch_configurations(factory, groups)

    problems = []
    for entry in entries:
        entry["before"] = launch_settings_summary(entry["config"])
        desired = desired_settings(params, entry)
        entry["steps"] = plan_launch_settings(entry["before"], desired)
        entry["after"] = predict_settings(entry["before"], entry["steps"])
        conflicts = launch_into_conflicts(entry["after"])
        if conflicts:
            problems.append(f"{server_label(entry)}: {' and '.join(conflicts)} must be false while "
                            f"launch_into_instance_id is {entry['after']['launch_into_instance_id']}")
    if problems:
        raise DRSError("; ".join(problems), remediation="set copy_private_ip and copy_tags to false for servers that "
                                                        "launch into an instance (or clear launch_into_instance_id)")
    apply_launch_plans(factory, groups, module.check_mode)
    return entries


def main():
    server_spec = dict(SERVERS_ARGUMENT_SPEC["servers"])
    server_spec["required"] = False
    server_spec["options"] = dict(server_spec["options"], launch_settings=dict(type="dict"))
    argument_spec = dict(servers=server_spec, restore=dict(type="list", elements="dict"), **SETTING_OPTIONS)
    argument_spec.update(ACCOUNTS_ARGUMENT_SPEC)
    argument_spec.update(SCOPE_ARGUMENT_SPEC)
    module = DRModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["servers", "restore"]],
        mutually_exclusive=[["restore", "servers"]] + [["restore", option] for option in SETTING_OPTIONS],
    )
    factory = ClientFactory(module, accounts=module.params["accounts"])
    try:
        entries = run(module, factory)
    except ScopeError as e:
        module.fail_json(msg=str(e), out_of_scope=[v["resource"] for v in e.violations])
    except DRSError as e:
        module.fail_json(msg=str(e))
    except AccountAccessError as e:
        module.fail_json(msg=f"Could not reach account {e.account_id}: {e.reason}. Fix: check its role_arn, "
                             "external_id or profile in accounts")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not read DRS launch settings ({error_text(e)})")

    rows = [result_row(e) for e in entries]
    result = {
        "changed": any(r["changed"] for r in rows),
        "servers": rows,
        "before": [settings_row(e, "before") for e in entries],
        "after": [settings_row(e, "after") for e in entries],
    }
    if module._diff:
        result["diff"] = {
            "before": {e["source_server_id"]: e["before"] for e in entries},
            "after": {e["source_server_id"]: e["after"] for e in entries},
        }
    errors = [e["error"] for e in entries if e.get("error")]
    if errors:
        module.fail_json(msg=f"Launch settings of {len(errors)} server(s) could not be changed: {'; '.join(errors)}",
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
