# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data of the reports people read (docs/reports.md): the execution report of a failover, drill or failback
run, built from its execution record, and the readiness report of protected resources.

Both are plain dictionaries: the JSON file is this data, and ``report_html`` renders the same data. Nothing here
names a technology: a resource's line is its entry's ``summary`` when the technology's adapter supplies one, else a
generic rendering of its ``before`` and ``after`` state. Values that may hold secrets are redacted before they reach
either file.
"""

import copy
import re

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import iso
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import parse_time
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import rto_report
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import seconds_between
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import summarize
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import utcnow

PHASE_ORDER = ("PREFLIGHT", "INSTANTIATE", "ACTIVATE", "CLEANUP", "REPLICATE")
REDACTED = "[redacted]"
SECRET_KEY = re.compile(r"(passw|secret|token|credential|private_key|session|external_id|api_key|access_key)", re.I)
URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)
# Keys of before/after shown as the resource's state; bookkeeping keys are left to the JSON.
HIDDEN_STATE_KEYS = ("checks", "actions", "recovery_point_time", "recovery_started_at", "rpo_seconds")


def redact(value, key=None):
    """A copy of ``value`` with secret-looking keys replaced and credentials removed from URLs."""
    if key is not None and SECRET_KEY.search(str(key)):
        return REDACTED if value not in (None, "", [], {}) else value
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return URL_USERINFO.sub(r"\1", value)
    return value


def _text(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items()) or "-"
    return str(value)


def state_changes(before, after):
    """Rows ``{field, before, after}`` over the union of the keys of before and after, before's order first."""
    before = before or {}
    after = after or {}
    keys = [k for k in before if k not in HIDDEN_STATE_KEYS]
    keys += [k for k in after if k not in before and k not in HIDDEN_STATE_KEYS]
    return [{"field": k, "before": before.get(k), "after": after.get(k)} for k in keys]


def generic_summary(entry):
    """A one-line, technology-neutral account of what happened to a resource without an adapter summary."""
    changes = [c for c in state_changes(entry.get("before"), entry.get("after"))
               if c["before"] is not None and c["after"] is not None and c["before"] != c["after"]]
    parts = [f"{c['field']} {_text(c['before'])} -> {_text(c['after'])}" for c in changes[:3]]
    if not parts:
        after = [(k, v) for k, v in (entry.get("after") or {}).items() if k not in HIDDEN_STATE_KEYS and v is not None]
        parts = [f"{k} {_text(v)}" for k, v in after[:3]]
    if parts:
        return "; ".join(parts)
    return f"{entry.get('phase') or 'no phase'} {entry.get('status') or 'pending'}"


def health_checks(entry):
    """Check results ``{name, passed, detail, fix}`` from ``health_checks`` (adapter contract) or ``after.checks``."""
    raw = entry.get("health_checks")
    if raw is None:
        raw = (entry.get("after") or {}).get("checks")
    rows = []
    if isinstance(raw, dict):
        raw = [dict(name=name, **(check if isinstance(check, dict) else {"passed": bool(check)}))
               for name, check in raw.items()]
    for check in raw or []:
        if isinstance(check, dict):
            rows.append({"name": check.get("name") or "check", "passed": check.get("passed"),
                         "detail": check.get("detail"), "fix": check.get("fix")})
    return rows


def _offset(start, moment):
    value = seconds_between(start, moment)
    return max(0, value) if value is not None else None


def timeline(record, now=None):
    """Bars of the phases and, under each, of its waves, in seconds from the run's start; gates as marks."""
    now = now or utcnow()
    start = record.get("started_at")
    end_of_run = record.get("ended_at") or iso(now)
    bars = []
    phases = record.get("phases") or {}
    waves = record.get("waves") or {}
    names = sorted(set(phases) | {w.get("phase") for w in waves.values() if w.get("phase")},
                   key=lambda p: (PHASE_ORDER.index(p) if p in PHASE_ORDER else len(PHASE_ORDER), p))
    for name in names:
        phase = phases.get(name) or {}
        phase_waves = sorted((w for w in waves.values() if w.get("phase") == name),
                             key=lambda w: int(w.get("number") or 0) if str(w.get("number") or 0).isdigit() else 0)
        starts = [w.get("started_at") for w in phase_waves if w.get("started_at")]
        ends = [w.get("ended_at") for w in phase_waves if w.get("ended_at")]
        # The waves say when the phase's work happened; the phase's own times can stretch to the run's close.
        p_start = min(starts, key=parse_time) if starts else phase.get("started_at")
        p_end = max(ends, key=parse_time) if ends and len(ends) == len(phase_waves) else phase.get("ended_at")
        bars.append(_bar("phase", name, None, phase.get("status"), start, p_start, p_end, end_of_run))
        for wave in phase_waves:
            bars.append(_bar("wave", name, wave.get("number"), wave.get("status"), start,
                             wave.get("started_at"), wave.get("ended_at"), end_of_run))
    marks = []
    for approval in record.get("approvals") or []:
        marks.append({"kind": "approval", "label": f"{approval.get('gate')}: {approval.get('decision')}",
                      "at": approval.get("at"), "offset_seconds": _offset(start, approval.get("at"))})
    return {"started_at": start, "ended_at": record.get("ended_at"),
            "total_seconds": _offset(start, end_of_run) or 0, "bars": bars, "marks": marks}


def _bar(kind, phase, wave, status, run_start, started, ended, end_of_run):
    label = phase if wave is None else f"{phase} wave {wave}"
    offset = _offset(run_start, started)
    duration = seconds_between(started, ended or end_of_run) if started else None
    return {"kind": kind, "label": label, "phase": phase, "wave": wave, "status": status or "pending",
            "started_at": started, "ended_at": ended, "offset_seconds": offset,
            "duration_seconds": max(0, duration) if duration is not None else None}


def _drill_result(entry, checks):
    check_failed = any(c["passed"] is False for c in checks)
    if entry.get("status") == "succeeded" and not entry.get("error") and not check_failed:
        return "pass"
    if entry.get("status") in ("failed", "cancelled") or entry.get("error") or check_failed:
        return "fail"
    return "incomplete"


def execution_report(record, resources, now=None):
    """The execution report's data: what the HTML shows and the JSON holds."""
    now = now or utcnow()
    record = redact(copy.deepcopy(record))
    resources = redact(copy.deepcopy(resources or []))
    status = summarize(record, resources, now)
    rto = rto_report(record, resources, now)
    by_resource = {r["resource"]: r for r in rto["resources"]}
    drill = record.get("operation") == "drill"
    rows = []
    for entry in sorted(resources, key=_resource_order):
        checks = health_checks(entry)
        verdicts = by_resource.get(entry["resource"]) or {}
        rows.append({
            "resource": entry["resource"],
            "name": entry.get("name") or entry["resource"],
            "technology": entry.get("technology"),
            "account_id": entry.get("account_id"),
            "region": entry.get("region"),
            "wave": entry.get("wave"),
            "priority": entry.get("priority"),
            "phase": entry.get("phase"),
            "status": entry.get("status") or "pending",
            "phases": entry.get("phases") or {},
            "summary": entry.get("summary") or generic_summary(entry),
            "summary_from_adapter": bool(entry.get("summary")),
            "changes": state_changes(entry.get("before"), entry.get("after")),
            "job_ids": entry.get("job_ids") or [],
            "rto": verdicts.get("rto"),
            "rpo": verdicts.get("rpo"),
            "recovery_point_time": (entry.get("after") or {}).get("recovery_point_time"),
            "health_checks": checks,
            "error": entry.get("error"),
            "remediation": entry.get("remediation"),
            "drill_result": _drill_result(entry, checks) if drill else None,
        })
    errors = list(record.get("errors") or [])
    known = {(e.get("resource"), e.get("message")) for e in errors}
    for row in rows:
        if row["error"] and (row["resource"], row["error"]) not in known:
            errors.append({"message": row["error"], "remediation": row["remediation"], "resource": row["resource"],
                           "phase": row["phase"], "wave": row["wave"], "at": None})
    names = {r["resource"]: r["name"] for r in rows}
    for error in errors:
        error["resource_name"] = names.get(error.get("resource"), error.get("resource"))
    rto_missed = [r["name"] for r in rows if (r["rto"] or {}).get("met") is False]
    rpo_missed = [r["name"] for r in rows if (r["rpo"] or {}).get("met") is False]
    report = {
        "kind": "execution",
        "generated_at": iso(now),
        "execution": {k: record.get(k) for k in (
            "execution_id", "customer", "environment", "operation", "status", "started_by", "started_at", "ended_at",
            "current_phase", "current_wave")},
        "elapsed_seconds": status["elapsed_seconds"],
        "resource_counts": status["resource_counts"],
        "rto": {"run": rto["run"], "waves": sorted(rto["waves"], key=lambda w: (
            PHASE_ORDER.index(w["phase"]) if w.get("phase") in PHASE_ORDER else len(PHASE_ORDER),
            int(w["wave"]) if str(w.get("wave")).isdigit() else 0))},
        "compliance": {"rto_missed": rto_missed, "rpo_missed": rpo_missed,
                       "rto_met": len([r for r in rows if (r["rto"] or {}).get("met")]),
                       "rpo_met": len([r for r in rows if (r["rpo"] or {}).get("met")])},
        "timeline": timeline(record, now),
        "resources": rows,
        "approvals": record.get("approvals") or [],
        "errors": errors,
        "details": record.get("details") or {},
    }
    if drill:
        report["drill"] = {"passed": len([r for r in rows if r["drill_result"] == "pass"]),
                           "failed": len([r for r in rows if r["drill_result"] == "fail"]),
                           "incomplete": len([r for r in rows if r["drill_result"] == "incomplete"])}
        report["drill"]["result"] = "pass" if rows and report["drill"]["passed"] == len(rows) else "fail"
    return report


def _resource_order(entry):
    wave = entry.get("wave")
    try:
        wave = int(wave)
    except (TypeError, ValueError):
        wave = 0
    return (wave, str(entry.get("name") or entry.get("resource")))


# ---------------------------------------------------------------------------------------------------------------------
# Readiness: per resource, every check passed or failed with its fix

def readiness_check(name, passed, detail, fix=None, severity="critical"):
    """One readiness check; ``passed`` None means not applicable (shown, not counted)."""
    return {"name": name, "passed": passed, "detail": detail, "fix": fix if passed is False else None,
            "severity": severity}


def readiness_report(resources, scope=None, now=None, sources=None):
    """The readiness report's data. ``resources`` are ``{name, customer, technology, account_id, region, wave, ...,
    checks: [readiness_check ...]}``; a resource is ready when no critical check failed."""
    now = now or utcnow()
    rows = []
    for resource in sorted(redact(copy.deepcopy(resources or [])), key=lambda r: (
            str(r.get("customer")), _resource_order(r))):
        checks = resource.get("checks") or []
        blocking = [c for c in checks if c.get("passed") is False and c.get("severity", "critical") == "critical"]
        warnings = [c for c in checks if c.get("passed") is False and c.get("severity") == "warning"]
        resource["ready"] = not blocking
        resource["problems"] = [{"check": c["name"], "detail": c.get("detail"), "fix": c.get("fix"),
                                 "severity": c.get("severity", "critical")} for c in blocking + warnings]
        rows.append(resource)
    customers = sorted({str(r.get("customer")) for r in rows})
    return {
        "kind": "readiness",
        "generated_at": iso(now),
        "scope": scope or {},
        "sources": sources or [],
        "counts": {"total": len(rows), "ready": len([r for r in rows if r["ready"]]),
                   "not_ready": len([r for r in rows if not r["ready"]]),
                   "problems": sum(len(r["problems"]) for r in rows)},
        "customers": [{"customer": c,
                       "total": len([r for r in rows if str(r.get("customer")) == c]),
                       "ready": len([r for r in rows if str(r.get("customer")) == c and r["ready"]])}
                      for c in customers],
        "resources": rows,
    }
