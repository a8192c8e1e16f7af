# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route 53 DNS failover of one hosted zone: which records move, how, and what DNS must answer afterwards.

A record takes part when it has a ``SetIdentifier`` naming a region (``api-us-east-1``, ``us-west-2``) and is a
failover (PRIMARY/SECONDARY) or weighted record. Failover records move through their health checks: the record of the
region being left gets an inverted health check when the region taking over holds the SECONDARY record; the record
taking over gets its health check un-inverted. Weighted records move their weight to the region taking over. Pure
functions here (unit-tested); the module does the calls.
"""

import copy

TAG_RECORD_NAMES = "dr:record-names"


def _norm(name):
    return (name or "").rstrip(".").lower()


def region_of(record, regions):
    """The region a record serves, from its SetIdentifier (longest region name first), or None."""
    identifier = (record.get("SetIdentifier") or "").lower()
    for region in sorted(regions, key=len, reverse=True):
        if region and region.lower() in identifier:
            return region
    return None


def values_of(record):
    if record.get("AliasTarget"):
        return [_norm(record["AliasTarget"].get("DNSName"))]
    return [r.get("Value") for r in record.get("ResourceRecords") or []]


def wanted_names(tags):
    text = (tags or {}).get(TAG_RECORD_NAMES) or ""
    return {_norm(n) for n in text.split(",") if n.strip()}


def plan_zone(records, checks, source_region, target_region, names=None):
    """What moves DNS from ``source_region`` to ``target_region`` in one zone.

    ``records``: ListResourceRecordSets items; ``checks``: ``{health check id: {"inverted", "disabled", "version"}}``.
    Returns ``{"record_changes", "check_changes", "expected", "problems", "before", "lines"}``.
    """
    groups = {}
    for record in records:
        if not record.get("SetIdentifier") or (names and _norm(record["Name"]) not in names):
            continue
        if record.get("Failover") is None and record.get("Weight") is None:
            continue
        groups.setdefault((_norm(record["Name"]), record["Type"]), []).append(record)
    plan = {"record_changes": [], "check_changes": [], "expected": [], "problems": [], "before": {}, "lines": []}
    for (name, record_type), members in sorted(groups.items()):
        by_region = {region_of(r, (source_region, target_region)): r for r in members}
        target, source = by_region.get(target_region), by_region.get(source_region)
        label = f"{name} {record_type}"
        if target is None:
            plan["problems"].append(f"{label}: no record whose SetIdentifier names {target_region}")
            continue
        plan["before"][label] = {r["SetIdentifier"]: {
            "failover": r.get("Failover"), "weight": r.get("Weight"), "health_check_id": r.get("HealthCheckId"),
            "health_check_inverted": (checks.get(r.get("HealthCheckId")) or {}).get("inverted")} for r in members}
        plan["expected"].append({"name": name, "type": record_type, "values": values_of(target),
                                 "set_identifier": target["SetIdentifier"],
                                 "health_check_id": target.get("HealthCheckId")})
        if target.get("Failover"):
            _plan_failover(plan, label, target, source, checks)
        else:
            _plan_weighted(plan, label, target, source)
    return plan


def _invert(plan, label, check_id, checks, inverted, why):
    check = checks.get(check_id)
    if check is None:
        plan["problems"].append(f"{label}: health check {check_id} not found")
        return
    if bool(check.get("inverted")) != inverted:
        plan["check_changes"].append({"id": check_id, "inverted": inverted, "version": check.get("version")})
        plan["lines"].append(f"{label}: {'invert' if inverted else 'un-invert'} health check {check_id} ({why})")


def _plan_failover(plan, label, target, source, checks):
    if target.get("HealthCheckId"):
        _invert(plan, label, target["HealthCheckId"], checks, False, f"{target['SetIdentifier']} answers")
    if target["Failover"] == "SECONDARY":
        if source is None or not source.get("HealthCheckId"):
            plan["problems"].append(f"{label}: the PRIMARY record has no health check, so DNS cannot fail over to "
                                    f"{target['SetIdentifier']} through it")
            return
        _invert(plan, label, source["HealthCheckId"], checks, True,
                f"{source['SetIdentifier']} stops answering, SECONDARY {target['SetIdentifier']} does")


def _plan_weighted(plan, label, target, source):
    source_weight = int((source or {}).get("Weight") or 0)
    target_weight = int(target.get("Weight") or 0)
    if source_weight == 0 and target_weight > 0:
        return
    moved = max(1, source_weight + target_weight)
    new_target = copy.deepcopy(target)
    new_target["Weight"] = moved
    plan["record_changes"].append({"Action": "UPSERT", "ResourceRecordSet": new_target})
    if source is not None:
        new_source = copy.deepcopy(source)
        new_source["Weight"] = 0
        plan["record_changes"].append({"Action": "UPSERT", "ResourceRecordSet": new_source})
    plan["lines"].append(f"{label}: weight {target['SetIdentifier']} {target_weight} -> {moved}"
                         + (f", {source['SetIdentifier']} {source_weight} -> 0" if source is not None else ""))


def answers(expected, record_data):
    """True when DNS answers with exactly the values of the record that took over."""
    return sorted(_norm(v) for v in record_data or []) == sorted(_norm(v) for v in expected["values"])
