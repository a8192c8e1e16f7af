# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared plumbing of the batch DRS modules: the ``servers`` option, source servers read per account and
region, and the launch-settings change set.

A batch module takes a whole wave (up to 1,000 servers), groups it by (account_id, region), makes one client per
group through ClientFactory and works on the groups concurrently (module_utils/batch.py, as every technology does).
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import PRIORITIES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_source_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import get_launch_configuration
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import launch_settings_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import paginate
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import update_launch_configuration

# Paired with the ``servers`` option documented in each batch module.
SERVERS_ARGUMENT_SPEC = dict(
    servers=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            source_server_id=dict(type="str", required=True),
            account_id=dict(type="str"),
            region=dict(type="str"),
            hostname=dict(type="str"),
            priority=dict(type="str", choices=list(PRIORITIES)),
            target_instance_id=dict(type="str"),
        ),
    ),
)

# Launch settings this collection manages: option name -> (API field, how to read it from a LaunchConfiguration).
LAUNCH_SETTING_FIELDS = {
    "copy_private_ip": "copyPrivateIp",
    "copy_tags": "copyTags",
    "right_sizing": "targetInstanceTypeRightSizingMethod",
    "launch_disposition": "launchDisposition",
    "licensing_os_byol": "licensing",
    "post_launch_enabled": "postLaunchEnabled",
    "launch_into_instance_id": "launchIntoInstanceProperties",
}


def account_of(arn):
    """The account ID in an ARN (``arn:aws:drs:us-west-2:210987654321:source-server/s-...``)."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 else None


def server_label(entry):
    """``s-... (hostname) in account/region`` for messages."""
    hostname = entry.get("hostname")
    where = f"{entry.get('account_id') or 'default account'}/{entry.get('region')}"
    name = f"{entry['source_server_id']} ({hostname})" if hostname else entry["source_server_id"]
    return f"{name} in {where}"


def resolve_servers(factory, servers, default_region):
    """Describe every requested server in its own account and region.

    Returns a list of entries (the input dict with ``region`` filled in, ``hostname`` defaulted from
    DRS, and ``server`` = the DescribeSourceServers item, ``account_id`` = the ARN's account when it was
    not given). Raises DRSError naming every server that does not exist where it was said to be.
    """
    entries = [dict(s, region=s.get("region") or default_region) for s in servers]
    seen = set()
    for entry in entries:
        key = (entry.get("account_id"), entry["region"], entry["source_server_id"])
        if key in seen:
            raise DRSError(f"source server {server_label(entry)} is listed twice",
                           resource=entry["source_server_id"], remediation="list each server once")
        seen.add(key)
    groups = group_by_account_region(entries, default_region=default_region)

    def describe(group_key):
        account_id, region = group_key
        client = factory.client("drs", account_id=account_id, region=region)
        ids = [e["source_server_id"] for e in groups[group_key]]
        return {s["sourceServerID"]: s for s in describe_source_servers(client, source_server_ids=ids)}

    found = run_concurrently(describe, groups)
    missing = []
    for group_key, group in groups.items():
        for entry in group:
            server = found[group_key].get(entry["source_server_id"])
            if server is None:
                missing.append(server_label(entry))
                continue
            entry["server"] = server
            entry["account_id"] = entry.get("account_id") or account_of(server.get("arn"))
            if not entry.get("hostname"):
                hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
                entry["hostname"] = hints.get("hostname") or hints.get("fqdn")
    if missing:
        raise DRSError(
            f"source servers not found: {'; '.join(missing)}",
            resource=", ".join(missing),
            remediation="check source_server_id, and that account_id/region name the DRS recovery account and region",
        )
    return entries


def group_entries(entries):
    """{(account_id, region): [entries]} of resolved entries."""
    return group_by_account_region(entries)


def last_recovery_snapshot(client, source_server_id):
    """The newest recovery snapshot of a server (one DescribeRecoverySnapshots call), or None."""
    page = client.describe_recovery_snapshots(sourceServerID=source_server_id, order="DESC", maxResults=1)
    items = page.get("items") or []
    if not items:
        return None
    newest = max(items, key=lambda s: s.get("timestamp") or s.get("expectedTimestamp") or "")
    return {
        "snapshot_id": newest.get("snapshotID"),
        "date_time": newest.get("timestamp") or newest.get("expectedTimestamp"),
        "ebs_snapshot_count": len(newest.get("ebsSnapshots") or []),
    }


def list_all_source_servers(client):
    """Every source server of one account and region."""
    return paginate(client, "describe_source_servers", "items", filters={})


def launch_settings_request(desired):
    """UpdateLaunchConfiguration keyword arguments for snake_case settings (None = leave unchanged)."""
    request = {}
    for option, field in LAUNCH_SETTING_FIELDS.items():
        value = desired.get(option)
        if value is None:
            continue
        if option == "licensing_os_byol":
            request[field] = {"osByol": value}
        elif option == "launch_into_instance_id":
            request[field] = {"launchIntoEC2InstanceID": value} if value else {}
        else:
            request[field] = value
    return request


def settings_differences(current, desired):
    """Option names whose desired value (not None) differs from the current launch settings summary.

    An empty ``launch_into_instance_id`` means "no launch-into target"."""
    changed = []
    for option, value in desired.items():
        if value is None or option not in LAUNCH_SETTING_FIELDS:
            continue
        have = current.get(option)
        if option == "launch_into_instance_id":
            if (have or "") != (value or ""):
                changed.append(option)
        elif have != value:
            changed.append(option)
    return changed


# Settings DRS requires before launchIntoInstanceProperties.launchIntoEC2InstanceID can be set.
LAUNCH_INTO_PREREQUISITES = {"copy_private_ip": False, "copy_tags": False, "right_sizing": "NONE"}


def plan_launch_settings(current, desired):
    """The UpdateLaunchConfiguration steps (snake_case settings each) from ``current`` to ``desired``.

    Setting a launch-into target takes two steps: everything else first (so copyPrivateIp/copyTags are
    already off), then the target. Clearing it goes first, so the other settings may turn copying back on.
    """
    changes = settings_differences(current, desired)
    if not changes:
        return []
    rest = {k: desired[k] for k in changes if k != "launch_into_instance_id"}
    if "launch_into_instance_id" not in changes:
        return [rest]
    into = desired.get("launch_into_instance_id") or ""
    if into:
        return ([rest] if rest else []) + [{"launch_into_instance_id": into}]
    return [{"launch_into_instance_id": ""}] + ([rest] if rest else [])


def predict_settings(current, steps):
    after = dict(current)
    for step in steps:
        for option, value in step.items():
            after[option] = (value or None) if option == "launch_into_instance_id" else value
    return after


def launch_into_conflicts(settings):
    """Why ``settings`` (a launch settings summary) cannot be saved: launch-into with copying on."""
    if not settings.get("launch_into_instance_id"):
        return []
    return [option for option in ("copy_private_ip", "copy_tags") if settings.get(option)]


def read_launch_configurations(factory, groups):
    """Set ``entry['config']`` (GetLaunchConfiguration) on every entry; groups and servers concurrently."""
    def read(group_key):
        account_id, region = group_key
        client = factory.client("drs", account_id=account_id, region=region)
        configs = map_concurrently(lambda e: get_launch_configuration(client, e["source_server_id"]), groups[group_key])
        for entry, config in zip(groups[group_key], configs):
            entry["config"] = config

    run_concurrently(read, groups)


def apply_launch_plans(factory, groups, check_mode):
    """Run every entry's ``steps``; sets ``after`` (and ``error`` on failure) per entry. A failing server
    does not stop the others: each entry says what happened to it."""
    def apply_entry(client, entry):
        if check_mode or not entry.get("steps"):
            return
        try:
            config = None
            for step in entry["steps"]:
                config = update_launch_configuration(client, entry["source_server_id"], **launch_settings_request(step))
                entry.setdefault("applied_steps", []).append(step)
            entry["after"] = launch_settings_summary(config)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            entry["error"] = f"{server_label(entry)}: {error_text(e)}"
            entry["after"] = predict_settings(entry["before"], entry.get("applied_steps", []))

    def apply(group_key):
        account_id, region = group_key
        client = factory.client("drs", account_id=account_id, region=region)
        map_concurrently(lambda e: apply_entry(client, e), groups[group_key])

    run_concurrently(apply, groups)


# A botocore error as ``Code: message`` (and the policy to fix for AccessDenied): the client layer's one formatter.
error_text = describe_error


def check_servers_scope(entries, customer, environment=None):
    """ScopeError naming every server whose own DRS tags are outside the scope (before any change)."""
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

    check_scope(((server_label(e), (e.get("server") or {}).get("tags") or {}) for e in entries),
                customer, environment)


def result_row(entry):
    """The per-server part of a batch module's result."""
    return {
        "source_server_id": entry["source_server_id"],
        "account_id": entry.get("account_id"),
        "region": entry.get("region"),
        "hostname": entry.get("hostname"),
        "changed": bool(entry.get("steps")) and not (entry.get("error") and not entry.get("applied_steps")),
        "changes": sorted({k for step in entry.get("steps") or [] for k in step}),
        "before": entry.get("before"),
        "after": entry.get("after"),
        "error": entry.get("error"),
    }
