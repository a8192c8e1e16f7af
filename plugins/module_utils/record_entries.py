# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one execution-record entry schema every technology adapter returns (docs/adapters.md, section 3).

An entry says what one phase did to one resource: ``resource`` (its ARN, the key the record merges phases under),
``name`` (the inventory host), ``technology``, ``wave``, ``phase``, ``status``, a one-line ``summary``,
``before``/``after`` state, ``error``/``remediation`` when it failed, and the RTO/RPO inputs. Modules that build
entries themselves and the filters that turn module rows into entries both go through ``make_entry``.
"""

from collections.abc import Mapping

STATUSES = ("succeeded", "failed", "running", "skipped")

# Optional scalar fields of an entry besides before/after (the execution record keeps these).
OPTIONAL_SCALARS = ("summary", "error", "remediation", "rto_target_minutes", "rpo_target_minutes",
                    "replication_lag_seconds", "priority")


def make_entry(resource, name, technology, phase, status, wave=None, account_id=None, region=None, before=None,
               after=None, job_ids=None, **optional):
    """One record entry. ``None`` values of ``after`` and of the optional fields are left out, so a later phase never
    blanks what an earlier one wrote; ``before`` is kept as given (a key with no value says the resource had none)."""
    if status not in STATUSES:
        raise ValueError(f"record entry status {status!r} is not one of {', '.join(STATUSES)}")
    entry = {
        "resource": resource or name,
        "name": name,
        "technology": technology,
        "phase": phase,
        "status": status,
    }
    for key, value in (("wave", wave), ("account_id", account_id), ("region", region)):
        if value is not None:
            entry[key] = value
    entry["before"] = dict(before or {})
    entry["after"] = {k: v for k, v in (after or {}).items() if v is not None}
    if job_ids:
        entry["job_ids"] = list(job_ids)
    for key in OPTIONAL_SCALARS:
        if optional.get(key) is not None:
            entry[key] = optional[key]
    unknown = set(optional) - set(OPTIONAL_SCALARS)
    if unknown:
        raise ValueError(f"unknown record entry fields: {', '.join(sorted(unknown))}")
    return entry


def host_fields(host):
    """The entry fields that come from the inventory host (its dr_* variables)."""
    host = host if isinstance(host, Mapping) else {}
    fields = {
        "resource": host.get("dr_arn") or host.get("dr_source_server_id") or host.get("inventory_hostname"),
        "name": host.get("inventory_hostname"),
        "technology": host.get("dr_technology"),
        "wave": host.get("dr_wave"),
        "account_id": host.get("dr_account_id"),
        "region": host.get("dr_resource_region"),
    }
    targets = {}
    if host.get("dr_rto_target") is not None:
        targets["rto_target_minutes"] = host["dr_rto_target"]
    if host.get("dr_rpo_target") is not None:
        targets["rpo_target_minutes"] = host["dr_rpo_target"]
    return fields, targets


def status_of(row):
    """A row's status: explicit, else failed on an error or a failed check."""
    if row.get("status") in STATUSES:
        return row["status"]
    if row.get("error") or row.get("passed") is False:
        return "failed"
    return "succeeded"


def entries_for_rows(rows, hosts, phase):
    """Entries for module rows that carry ``resource`` (the host's dr_arn) or ``name`` (the inventory host).

    Each row may give ``status``, ``summary``, ``before``, ``after``, ``error``, ``remediation``,
    ``replication_lag_seconds`` and ``job_ids``. A row that matches no host of the wave is an error: a module that
    answers for a resource nobody asked about is a bug, and dropping it would hide it.
    """
    index = {}
    for host in hosts or []:
        if isinstance(host, Mapping):
            for key in ("dr_arn", "inventory_hostname"):
                if host.get(key):
                    index.setdefault(host[key], host)
    entries = []
    for row in rows or []:
        host = index.get(row.get("resource")) or index.get(row.get("name"))
        if host is None:
            raise ValueError(f"{phase} result for {row.get('resource') or row.get('name')!r} matches no resource of "
                             "the wave (rows must carry the host's dr_arn as resource, or its inventory name)")
        fields, targets = host_fields(host)
        optional = dict(targets)
        for key in ("summary", "error", "remediation", "replication_lag_seconds"):
            if row.get(key) is not None:
                optional[key] = row[key]
        entries.append(make_entry(phase=phase, status=status_of(row), before=row.get("before"),
                                  after=row.get("after"), job_ids=row.get("job_ids"), **fields, **optional))
    return entries
