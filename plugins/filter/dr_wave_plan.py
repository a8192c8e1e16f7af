# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_wave_plan
version_added: 0.1.0
short_description: Order in-scope DR hosts into waves and serial batches
description:
  - Takes the inventory's DR hosts (dicts with C(inventory_hostname) and the C(dr_*) host variables),
    keeps those in scope, and orders them by C(dr:wave), then C(dr:priority) (critical first), then name.
  - Inside a wave, C(dr:dependencies) split the wave into tiers; each tier is one serial batch, so a
    resource never starts before the resources it depends on.
  - The result feeds play-level C(hosts) and C(serial) so that each serial batch is one wave tier.
options:
  _input:
    description: List of host dicts (C(groups['all'] | map('extract', hostvars))).
    type: list
    elements: dict
    required: true
  customer:
    description: The customer in scope.
    type: str
    required: true
  environment:
    description: The environment in scope; all when omitted.
    type: str
  waves:
    description: Only these waves; all when omitted.
    type: list
    elements: int
  technologies:
    description: Only these technologies; all when omitted. Excluded resources are listed, never dropped silently.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Plan the waves
  ansible.builtin.set_fact:
    dr_plan: >-
      {{ groups['all'] | map('extract', hostvars) | enterprise_dr.orchestration.dr_wave_plan(customer='acme') }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    hosts: {description: In-scope hosts in execution order., type: list}
    batch_sizes: {description: Size of each serial batch (one wave tier each)., type: list}
    batches: {description: "Each batch: wave, tier and hosts.", type: list}
    waves: {description: "Each wave: number, hosts, and how many.", type: list}
    technologies: {description: "The in-scope hosts' technologies, sorted: each phase dispatches to these.", type: list}
    excluded:
      description: Hosts of the customer left out by the wave or technology filter, with the reason.
      type: list
    errors:
      description:
        - Problems that make the plan unsafe (a dr:wave that is not a whole number 1 or more, dependency cycles,
          unknown names, later waves), each naming the resource ARN, the tag, the value given and the fix.
      type: list
    customers:
      description: The customers of every DR host, without case, sorted (hosts without a Customer tag left out).
      type: list
    unassigned:
      description:
        - DR hosts without a usable C(Customer) tag (never in any customer's scope), each as a message naming the
          resource ARN, the tag and the fix.
      type: list
"""

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
_WHOLE = re.compile(r"[0-9]+")
_INTEGER = re.compile(r"-?[0-9]+")


def _norm(value):
    return str(value or "").strip().lower()


def _wave(host):
    value = host.get("dr_wave")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    text = str(value if value is not None else "").strip()
    # ASCII digits only: str.isdigit() accepts superscripts that int() refuses.
    return int(text) if _WHOLE.fullmatch(text) and int(text) >= 1 else None


def _label(host):
    """The host name and, when known, its resource ARN."""
    arn = host.get("dr_arn")
    return f"{host['inventory_hostname']} ({arn})" if arn else host["inventory_hostname"]


def _wave_error(host):
    raw = (host.get("dr_tags") or {}).get("dr:wave", host.get("dr_wave"))
    if raw is None or not str(raw).strip():
        what = "dr:wave is missing or empty"
    else:
        text = str(raw).strip()
        what = (f"dr:wave {text!r} is not an integer" if not _INTEGER.fullmatch(text)
                else f"dr:wave {text!r} is not a wave number (1 or more)")
    return (f"{_label(host)}: {what}; fix: set the tag dr:wave to the wave number, "
            "1 or more (for example dr:wave=1)")


def _sort_key(host):
    return (PRIORITY_RANK.get(_norm(host.get("dr_priority")), len(PRIORITY_RANK)), host["inventory_hostname"])


def _dependencies(host):
    deps = host.get("dr_dependencies") or []
    if isinstance(deps, str):
        deps = deps.split(",")
    return [d.strip() for d in deps if d and d.strip()]


def _tiers(wave_hosts, aliases, wave_of, errors):
    """Split one wave into dependency tiers (Kahn's algorithm), each tier in priority order."""
    names = {h["inventory_hostname"] for h in wave_hosts}
    needs = {}
    for host in wave_hosts:
        name = host["inventory_hostname"]
        needs[name] = set()
        for dep in _dependencies(host):
            target = aliases.get(_norm(dep))
            if target is None:
                errors.append(f"{_label(host)}: dr:dependencies names {dep!r}, which is not an in-scope resource; "
                              "fix: correct the tag, or bring that resource into scope")
            elif target in names:
                if target != name:
                    needs[name].add(target)
            elif wave_of.get(target, 0) > wave_of[name]:
                errors.append(f"{_label(host)}: depends on {target} in the later wave {wave_of[target]}; "
                              f"fix: move {target} to wave {wave_of[name]} or earlier")
    by_name = {h["inventory_hostname"]: h for h in wave_hosts}
    tiers = []
    remaining = dict(needs)
    while remaining:
        ready = [n for n, deps in remaining.items() if not deps & set(remaining)]
        if not ready:
            cycle = ", ".join(sorted(remaining))
            errors.append(f"dependency cycle inside wave {wave_of[next(iter(remaining))]} among: {cycle}; "
                          "break the cycle in the dr:dependencies tags")
            ready = list(remaining)
        tiers.append(sorted((by_name[n] for n in ready), key=_sort_key))
        for name in ready:
            remaining.pop(name)
    return tiers


def dr_wave_plan(hosts, customer=None, environment=None, waves=None, technologies=None):
    if not customer:
        raise AnsibleFilterError("dr_wave_plan needs customer=")
    wave_filter = {int(w) for w in waves} if waves else None
    tech_filter = {_norm(t) for t in technologies} if technologies else None
    in_scope, excluded, errors, customers, unassigned = [], [], [], set(), []
    for host in hosts or []:
        if not isinstance(host, Mapping) or "inventory_hostname" not in host:
            continue
        if "dr_technology" in host and not _norm(host.get("dr_customer")):
            raw = (host.get("dr_tags") or {}).get("Customer")
            shown = "missing" if raw is None else f"{str(raw)!r}, empty"
            unassigned.append(f"{_label(host)}: tag Customer is {shown}, so the "
                              "resource is in no customer's scope; fix: add the tag Customer=<customer> "
                              "(for example Customer=acme), or remove dr:enabled")
        elif host.get("dr_customer") is not None:
            customers.add(_norm(host.get("dr_customer")))
        if _norm(host.get("dr_customer")) != _norm(customer):
            continue
        if environment and _norm(host.get("dr_environment")) != _norm(environment):
            continue
        name = host["inventory_hostname"]
        wave = _wave(host)
        if wave is None:
            errors.append(_wave_error(host))
            continue
        if wave_filter is not None and wave not in wave_filter:
            excluded.append({"host": name, "wave": wave, "reason": f"wave {wave} not in the selected waves"})
            continue
        if tech_filter is not None and _norm(host.get("dr_technology")) not in tech_filter:
            excluded.append({"host": name, "wave": wave,
                             "reason": f"technology {host.get('dr_technology')} not in dr_technologies"})
            continue
        in_scope.append(host)

    wave_of = {h["inventory_hostname"]: _wave(h) for h in in_scope}
    aliases = {}
    for host in in_scope:
        for alias in (host["inventory_hostname"], host.get("dr_hostname"), (host.get("dr_tags") or {}).get("Name")):
            if alias:
                aliases.setdefault(_norm(alias), host["inventory_hostname"])

    ordered, batch_sizes, batches, wave_list = [], [], [], []
    for wave in sorted({wave_of[h["inventory_hostname"]] for h in in_scope}):
        wave_hosts = [h for h in in_scope if wave_of[h["inventory_hostname"]] == wave]
        tiers = _tiers(wave_hosts, aliases, wave_of, errors)
        names = []
        for number, tier in enumerate(tiers, start=1):
            tier_names = [h["inventory_hostname"] for h in tier]
            batches.append({"wave": wave, "tier": number, "hosts": tier_names})
            batch_sizes.append(len(tier_names))
            names.extend(tier_names)
        ordered.extend(names)
        wave_list.append({"wave": wave, "hosts": names, "count": len(names), "tiers": len(tiers)})
    return {
        "hosts": ordered,
        "batch_sizes": batch_sizes,
        "batches": batches,
        "waves": wave_list,
        "technologies": sorted({str(h["dr_technology"]) for h in in_scope if h.get("dr_technology")}),
        "excluded": excluded,
        "errors": errors,
        "customers": sorted(customers),
        "unassigned": unassigned,
    }


class FilterModule:
    def filters(self):
        return {"dr_wave_plan": dr_wave_plan}
