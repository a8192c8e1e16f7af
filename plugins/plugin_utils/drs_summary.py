# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one-line summary of a DRS record entry (what a phase did to a server), for the plan, the report and alerts."""


def summary(phase, after, status):
    """One line for people: what the phase did to the server."""
    instance = after.get("ec2_instance_id") or after.get("recovery_instance_id")
    where = " ".join(str(v) for v in (instance, after.get("private_ip")) if v)
    if status == "failed":
        return f"{phase} failed"
    if after.get("launch_status"):
        into = " into its target" if after.get("launched_into_target") else ""
        return f"{after['launch_status'].lower()}{into} {where} (job {after.get('job_id')})".strip()
    if after.get("passed") is not None:
        return f"runs on {where}, checks passed" if after["passed"] else f"checks failed on {where}"
    if after.get("state"):
        return f"{after.get('action') or 'now'} {after['state']} {where}".strip()
    if after.get("actions"):
        return ", ".join(str(a) for a in after["actions"])
    return f"{phase} {status}"
