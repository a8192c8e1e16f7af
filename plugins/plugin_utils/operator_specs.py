# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operator variables of every playbook, in one place, and how they are checked.

Each playbook's spec maps a variable name to an Ansible argument spec entry (``type``, ``choices``,
``elements``, ``required``) plus the checks argument specs cannot express:

- ``minimum`` / ``greater_than``: the number (or every element of a list) must be >= / > this;
- ``non_empty``: a string that is not empty or only whitespace;
- ``failure_policy``: ``stop``, ``continue``, or a mapping of wave number to one of them;
- ``example``: a valid value, shown in the fix of every message about this variable;
- ``ignored``: accepted (so a shared extra-vars file can carry it) but not read by this playbook.

docs/operations.md lists the same variables for operators; keep both in step.
"""

import difflib
import json
from collections.abc import Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# Names Ansible, AWX and Molecule pass on their own; they are never an operator's typo.
INTERNAL_PREFIXES = ("ansible_", "_ansible", "awx_", "tower_", "molecule_", "omit")

RESERVED = {
    "environment": "env",
}

_STORE = {
    "execution_store": {"type": "str", "choices": ["dynamodb", "file"], "example": "file"},
    "execution_store_path": {"type": "str", "non_empty": True, "example": "~/.ansible/enterprise_dr/executions"},
    "execution_table": {"type": "str", "non_empty": True, "example": "enterprise-dr-executions"},
}

# AWX passes the store variables to every job template (awx/vars/dr_awx.yml dr_awx_job_vars); a playbook that writes
# no record takes them and ignores them.
_STORE_IGNORED = {name: {"type": "raw", "ignored": True} for name in _STORE}

_SCOPE = {
    "customer": {"type": "str", "required": True, "non_empty": True, "example": "acme"},
    "env": {"type": "str", "non_empty": True, "example": "production"},
}

_LIFECYCLE = dict(
    _SCOPE,
    approval_mode={"type": "str", "choices": ["required", "automatic", "record", "awx_workflow"], "example": "record"},
    allow_automatic_production={"type": "bool", "example": "true"},
    gate_every_wave={"type": "bool", "example": "true"},
    gate_timeout_minutes={"type": "float", "greater_than": 0, "example": "30"},
    waves={"type": "list", "elements": "int", "minimum": 1, "example": "'{\"waves\": [1, 2]}'"},
    phases={"type": "list", "elements": "str", "choices": ["instantiate", "activate", "cleanup", "replicate"],
            "example": "'{\"phases\": [\"instantiate\", \"activate\"]}'"},
    emergency={"type": "bool", "example": "true"},
    primary_region={"type": "str", "non_empty": True, "example": "us-east-1"},
    dr_region={"type": "str", "non_empty": True, "example": "us-west-2"},
    failure_policy={"type": "raw", "failure_policy": True,
                    "example": "continue (or '{\"failure_policy\": {\"1\": \"stop\", \"2\": \"continue\"}}')"},
    dr_technologies={"type": "list", "elements": "str", "example": "'{\"dr_technologies\": [\"drs\"]}'"},
    round_trip_failback={"type": "bool", "example": "true"},
    lag_threshold_seconds={"type": "int", "minimum": 0, "example": "300"},
    poll_interval={"type": "int", "minimum": 1, "example": "30"},
    health_check_timeout_seconds={"type": "int", "greater_than": 0, "example": "300"},
    wait_timeout_minutes={"type": "int", "greater_than": 0, "example": "60"},
    notify={"type": "bool", "example": "true"},
    notify_topic_arn={"type": "str", "non_empty": True,
                      "example": "arn:aws:sns:us-east-1:123456789012:enterprise-dr-acme"},
    # The report written at the end of every run (roles/report, docs/reports.md).
    report_file={"type": "str", "example": "/tmp/summary.json"},
    report_html={"type": "bool", "example": "true"},
    report_dir={"type": "str", "non_empty": True, "example": "~/.ansible/enterprise_dr/reports"},
    report_s3_bucket={"type": "str", "example": "dr-evidence"},
    report_s3_prefix={"type": "str", "example": "enterprise-dr/reports/"},
    **_STORE,
)

_FAILBACK = dict(
    _LIFECYCLE,
    failback_dr_instances={"type": "str", "choices": ["stopped", "terminated"], "example": "stopped"},
    instance_profile_severity={"type": "str", "choices": ["critical", "warning", "skip"], "example": "warning"},
)

_HUB_SETUP = {
    "hub_setup_store": {"type": "str", "choices": ["dynamodb", "file"], "example": "dynamodb"},
    "hub_setup_table_name": {"type": "str", "non_empty": True, "example": "enterprise-dr-executions"},
    "hub_setup_store_path": {"type": "str", "non_empty": True, "example": "~/.ansible/enterprise_dr/executions"},
    "hub_setup_customers": {"type": "list", "elements": "str", "example": "'{\"hub_setup_customers\": [\"acme\"]}'"},
    "hub_setup_topic_pattern": {"type": "str", "example": "enterprise-dr-{customer}"},
    "hub_setup_shared_topic": {"type": "str", "example": "enterprise-dr-notifications"},
    "hub_setup_dashboard_name": {"type": "str", "non_empty": True, "example": "EnterpriseDR"},
    "hub_setup_namespace": {"type": "str", "non_empty": True, "example": "EnterpriseDR"},
    "hub_setup_region": {"type": "str", "non_empty": True, "example": "us-east-1"},
}

PLAYBOOK_SPECS = {
    "failover": _LIFECYCLE,
    "drill": _LIFECYCLE,
    "failback": _FAILBACK,
    "validate_failback": dict(
        _SCOPE,
        dr_region=_LIFECYCLE["dr_region"],
        lag_threshold_seconds=dict(_LIFECYCLE["lag_threshold_seconds"], example="60"),
        instance_profile_severity=_FAILBACK["instance_profile_severity"],
        **_STORE,
    ),
    "discover": dict(_SCOPE, plan_file={"type": "str", "non_empty": True, "example": "/tmp/plan.json"},
                     **_STORE_IGNORED),
    # Launch settings configured ahead of a failover (playbooks/prepare.yml): the scope only.
    "prepare": dict(_SCOPE, **_STORE_IGNORED),
    "status": dict(
        customer=dict(_SCOPE["customer"], required=False),
        env=_SCOPE["env"],
        execution_id={"type": "str", "non_empty": True, "example": "edr-acme-20240501T120000-a1b2c3"},
        operation={"type": "str", "choices": ["failover", "drill", "failback"], "example": "failover"},
        status_file={"type": "str", "non_empty": True, "example": "status.json"},
        **_STORE,
    ),
    "history": dict(
        _SCOPE,
        operation={"type": "str", "choices": ["failover", "drill", "failback"], "example": "drill"},
        limit={"type": "int", "minimum": 1, "example": "10"},
        history_file={"type": "str", "non_empty": True, "example": "history.json"},
        **_STORE,
    ),
    "approve": dict(
        execution_id={"type": "str", "required": True, "non_empty": True,
                      "example": "edr-acme-20240501T120000-a1b2c3"},
        decision={"type": "str", "required": True, "choices": ["approve", "cancel"], "example": "approve"},
        approver={"type": "str", "non_empty": True, "example": "jane.doe"},
        gate={"type": "str", "non_empty": True, "example": "before-activate"},
        comment={"type": "str", "example": "'comment=checked with the app owner'"},
        **_STORE,
    ),
    "setup_hub": _HUB_SETUP,
    "cancel": dict(
        _SCOPE,
        reason={"type": "str", "required": True, "non_empty": True,
                "example": "'reason=controller lost; cleaned up by hand (CHG-1234)'"},
        execution_id={"type": "str", "non_empty": True, "example": "edr-acme-20240501T120000-a1b2c3"},
        approver={"type": "str", "non_empty": True, "example": "jane.doe"},
        **_STORE,
    ),
    "report": dict(
        customer=dict(_SCOPE["customer"], required=False),
        env=_SCOPE["env"],
        execution_id={"type": "str", "non_empty": True, "example": "edr-acme-20240501T120000-a1b2c3"},
        operation={"type": "str", "choices": ["failover", "drill", "failback"], "example": "drill"},
        report_dir=_LIFECYCLE["report_dir"],
        report_s3_bucket=_LIFECYCLE["report_s3_bucket"],
        report_s3_prefix=_LIFECYCLE["report_s3_prefix"],
        **_STORE,
    ),
    "readiness": dict(
        customer=dict(_SCOPE["customer"], required=False),
        env=_SCOPE["env"],
        report_dir=_LIFECYCLE["report_dir"],
        report_s3_bucket=_LIFECYCLE["report_s3_bucket"],
        report_s3_prefix=_LIFECYCLE["report_s3_prefix"],
        readiness_report_name={"type": "str", "non_empty": True, "example": "readiness-acme"},
        readiness_sns_topic_arn={"type": "str", "non_empty": True,
                                 "example": "arn:aws:sns:us-east-1:123456789012:enterprise-dr-readiness"},
        readiness_fail_when_not_ready={"type": "bool", "example": "true"},
        **_STORE,
    ),
    "deploy_access": {
        "controller_principal_arn": {"type": "str", "required": True, "non_empty": True,
                                     "example": "arn:aws:iam::111111111111:role/awx"},
        "workload_accounts": {"type": "list", "elements": "str", "required": True,
                              "example": "'{\"workload_accounts\": [\"210987654321\"]}'"},
        "workload_regions": {"type": "list", "elements": "str", "example": "'{\"workload_regions\": [\"us-east-1\"]}'"},
        # Secrets (the external IDs): never shown in a message.
        "workload_external_ids": {"type": "dict", "required": True, "secret": True,
                                  "example": "@external_ids.vault.yml"},
        "technologies": {"type": "list", "elements": "str", "example": "'{\"technologies\": [\"drs\", \"aurora\"]}'"},
    },
    "demo": {
        "accounts": {"type": "list", "elements": "dict", "required": True,
                     "example": "@<sandbox state dir>/estate_vars.yml"},
        "dr_region": dict(_LIFECYCLE["dr_region"], required=True),
        "customers": {"type": "list", "elements": "str", "required": True,
                      "example": "'{\"customers\": [\"acme\", \"globex\"]}'"},
        # Written by the sandbox into estate_vars.yml beside the variables the demo reads.
        "hub_account_id": {"type": "raw", "ignored": True},
        "hub_account": {"type": "raw", "ignored": True},
        "regions": {"type": "raw", "ignored": True},
        "primary_region": {"type": "raw", "ignored": True},
    },
}

_ANSIBLE_KEYS = ("type", "elements", "choices")


def native(value):
    """Plain Python values (Ansible tags the strings it templates; type checks expect plain ones)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {native(k): native(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [native(v) for v in value]
    return value


def is_internal(name):
    return str(name).startswith(INTERNAL_PREFIXES)


def _fix(name, entry):
    example = entry.get("example")
    if example is None:
        return f"remove -e {name}"
    if str(example).startswith(("'", "@")):
        return f"pass it as -e {example}"
    return f"pass it as -e {name}={example}"


def _accepted(spec):
    return ", ".join(sorted(n for n, e in spec.items() if not e.get("ignored")))


def _given(value):
    value = native(value)
    if isinstance(value, (Mapping, list)):
        return "'" + json.dumps(value) + "'"
    return value


def unknown_name_errors(playbook, spec, extra_vars):
    """Messages for extra variable names the playbook does not take (typos, reserved words)."""
    errors = []
    known = [n for n in spec if not spec[n].get("ignored")]
    for name in sorted(str(n) for n in extra_vars):
        if name in spec or is_internal(name):
            continue
        if name in RESERVED and RESERVED[name] in spec:
            errors.append(
                f"variable {name} is a reserved Ansible word and would be ignored (the play sees it as []), "
                f"which would widen the run to every {name} of the customer; "
                f"fix: use -e {RESERVED[name]}={_given(extra_vars[name])}")
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close:
            given = "<hidden>" if spec[close[0]].get("secret") else _given(extra_vars[name])
            errors.append(f"unknown variable {name}; did you mean {close[0]}? "
                          f"fix: -e {close[0]}={given} ({playbook} takes: {_accepted(spec)})")
        else:
            errors.append(f"unknown variable {name}: {playbook} does not take it; fix: remove it "
                          f"({playbook} takes: {_accepted(spec)})")
    return errors


def _number_errors(name, entry, value, shown):
    errors = []
    values = value if isinstance(value, list) else [value]
    for number in values:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            continue
        if "minimum" in entry and number < entry["minimum"]:
            errors.append(f"{name}={shown}: must be {entry['minimum']} or more; fix: {_fix(name, entry)}")
            break
        if "greater_than" in entry and number <= entry["greater_than"]:
            errors.append(f"{name}={shown}: must be more than {entry['greater_than']}; fix: {_fix(name, entry)}")
            break
    return errors


def _failure_policy_errors(name, entry, value, shown):
    policies = ("stop", "continue")
    if isinstance(value, str):
        if value.strip().lower() in policies:
            return []
        return [f"{name}={shown}: must be stop or continue, or a mapping of wave number to one of them; "
                f"fix: {_fix(name, entry)}"]
    if isinstance(value, Mapping) and value:
        errors = []
        for wave, policy in value.items():
            wave_text = str(wave).strip()
            if not wave_text.isdigit() or int(wave_text) < 1:
                errors.append(f"{name}={shown}: the key {wave!r} is not a wave number (1 or more); "
                              f"fix: {_fix(name, entry)}")
            if not isinstance(policy, str) or policy.strip().lower() not in policies:
                errors.append(f"{name}={shown}: wave {wave} has policy {policy!r}, not stop or continue; "
                              f"fix: {_fix(name, entry)}")
        return errors
    return [f"{name}={shown}: must be stop or continue, or a mapping of wave number to one of them; "
            f"fix: {_fix(name, entry)}"]


def validate_values(spec, values):
    """Check the given values against the spec: ``(errors, normalized values)``."""
    errors, normalized = [], {}
    for name in sorted(values):
        entry = spec.get(name)
        if entry is None or entry.get("ignored"):
            continue
        value = native(values[name])
        shown = "<hidden>" if entry.get("secret") else repr(value)
        argument = {k: entry[k] for k in _ANSIBLE_KEYS if k in entry}
        result = ArgumentSpecValidator({name: argument}).validate({name: native(value)})
        if result.error_messages:
            reasons = "; ".join(result.error_messages)
            errors.append(f"{name}={shown}: {reasons}; fix: {_fix(name, entry)}")
            continue
        value = result.validated_parameters[name]
        if entry.get("non_empty") and (value is None or not str(value).strip()):
            errors.append(f"{name}={shown}: must not be empty; fix: {_fix(name, entry)}")
            continue
        if entry.get("failure_policy"):
            problems = _failure_policy_errors(name, entry, value, shown)
        else:
            problems = _number_errors(name, entry, value, shown)
        errors.extend(problems)
        if not problems:
            normalized[name] = value
    for name, entry in sorted(spec.items()):
        if entry.get("required") and name not in values:
            errors.append(f"variable {name} is required; fix: {_fix(name, entry)}")
    return errors, normalized
