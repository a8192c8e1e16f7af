# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_describe
version_added: 0.1.0
short_description: One readable line for a planned or finished DR step
description:
  - Renders one row of a DRS module result as the line an operator reads in a dry run or a summary.
options:
  _input:
    description: The row.
    type: dict
    required: true
  kind:
    description: What the row is.
    type: str
    required: true
    choices: [launch_into, job, server, validation, source_instance, recovery_instance]
  done:
    description:
      - Whether the row is a change already made rather than planned; a C(launch_into) row then says C(changed)
        instead of C(would change).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show the launch-into plan
  ansible.builtin.debug:
    msg: "{{ result.plan | map('enterprise_dr.orchestration.dr_describe', 'launch_into') | list }}"
"""

RETURN = r"""
_value:
  description: The line.
  type: str
"""


def _target(value):
    if isinstance(value, dict):
        name = (value.get("name") or "?").strip()
        return f"{name} {value.get('instance_id', '?')} {value.get('private_ip') or ''}".strip()
    return str(value or "no target")


def dr_describe(row, kind, done=False):
    row = row or {}
    name = row.get("hostname") or row.get("source_server_id") or row.get("instance_id") or "?"
    if kind == "launch_into":
        changes = row.get("changes")
        text = f"  {name}: launch into {_target(row.get('target'))}"
        if row.get("method"):
            text += f" [{row['method']} match]"
        verb = "changed " if done else "would change "
        text += f" - {verb + str(changes) if row.get('changed') else 'already configured'}"
        return text + (f" - ERROR {row['error']}" if row.get("error") else "")
    if kind == "job":
        servers = row.get("source_server_ids") or []
        return (f"  job {row.get('order', '?')} in {row.get('account_id') or 'hub'}/{row.get('region')}: "
                f"{'start' if row.get('starts', True) else 'follow'} {len(servers)} server(s): {', '.join(servers)}")
    if kind == "server":
        into = "kept target" if row.get("launched_into_target") else "NEW instance"
        return (f"  {name}: {row.get('launch_status')} as {row.get('ec2_instance_id')} {row.get('private_ip') or ''} "
                f"({into}, job {row.get('job_id')})" + (f" - {row['raw_error']}" if row.get("raw_error") else ""))
    if kind == "validation":
        failed = [f"{n}: {c.get('detail')}" for n, c in (row.get("checks") or {}).items() if not c.get("passed")]
        verdict = "OK" if row.get("passed") else "FAILED " + "; ".join(failed)
        return f"  {name}: {verdict} ({row.get('ec2_instance_id')} {row.get('private_ip')})"
    if kind == "source_instance":
        before = (row.get("before") or {}).get("state")
        after = (row.get("after") or {}).get("state")
        actions = " ".join(row.get("actions") or []) or "(no change)"
        return f"  {name}: original {row.get('instance_id')} {before} -> {after} {actions}"
    if kind == "recovery_instance":
        return f"  {name}: {row.get('action') or row.get('state') or row}"
    return f"  {name}: {row}"


class FilterModule:
    def filters(self):
        return {"dr_describe": dr_describe}
