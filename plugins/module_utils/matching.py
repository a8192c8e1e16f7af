# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Matching DRS source servers to pre-provisioned launch-into targets by name.

The rules (docs/modules_drs.md, "Matching rules"):

1. A server pinned to a target (``target_instance_id``) gets that target, whatever its Name.
2. Otherwise the server's hostname is compared with the targets' Name tags after normalization
   (case-folded, surrounding whitespace removed). Only an exact, one-to-one match counts.
3. Two targets with one normalized Name, or two servers with one normalized hostname, are
   duplicates: none of them is matched, all of them are reported by name.
4. Fuzzy matching runs only when a threshold is given, only over what is left after steps 1-3, and
   only between names with the same role token and the same numbers, so ``app01`` never matches
   ``app10`` and ``web01`` never matches ``db01``. It tolerates differences in the other tokens
   (separators, a prefix, a spelling of the environment). A tie or two servers wanting one target
   is reported, never guessed.

Work is linear in the number of servers and targets: targets are indexed by normalized name and
fuzzy candidates are bucketed by (role, numbers) before any string comparison.
"""

import difflib
import re

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import normalize_name

_SEPARATORS = re.compile(r"[^0-9a-z]+")
_RUNS = re.compile(r"[a-z]+|[0-9]+")

METHOD_PINNED = "pinned"
METHOD_EXACT = "exact"
METHOD_FUZZY = "fuzzy"


def name_tokens(name):
    """Alphabetic and numeric runs of a normalized name: ``ACME-Prod-App01`` -> acme, prod, app, 01."""
    return _RUNS.findall(normalize_name(name))


def name_key(name):
    """(role, numbers): the part of a name fuzzy matching never relaxes.

    The numbers are every numeric run as an integer (``app01`` and ``app1`` agree, ``app01`` and
    ``app10`` do not); the role is the alphabetic run right before the last number, or the last
    alphabetic run when the name has no number.
    """
    tokens = name_tokens(name)
    numbers = tuple(int(t) for t in tokens if t.isdigit())
    role = ""
    last_digit = max((i for i, t in enumerate(tokens) if t.isdigit()), default=None)
    if last_digit is not None:
        if last_digit > 0 and not tokens[last_digit - 1].isdigit():
            role = tokens[last_digit - 1]
    else:
        alpha = [t for t in tokens if not t.isdigit()]
        role = alpha[-1] if alpha else ""
    return role, numbers


def similarity(first, second):
    """0..1 similarity of two names once separators are made uniform."""
    a = _SEPARATORS.sub("-", normalize_name(first)).strip("-")
    b = _SEPARATORS.sub("-", normalize_name(second)).strip("-")
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def target_in_scope(target_tags, customer, environment=None):
    """Whether a launch-into target may receive a server of ``customer`` (and ``environment``).

    A target tagged with another Customer is never a candidate, nor one tagged with another Environment
    when both the target and the server name one. A target without these tags stays a candidate.
    """
    tags = target_tags or {}
    target_customer = normalize_name(tags.get("Customer"))
    if target_customer and target_customer != normalize_name(customer):
        return False
    target_environment = normalize_name(tags.get("Environment"))
    wanted_environment = normalize_name(environment)
    return not (target_environment and wanted_environment and target_environment != wanted_environment)


def match_servers_by_scope(servers, targets, fuzzy_threshold=None):
    """match_servers over each (customer, environment) of ``servers`` with only that scope's candidate targets.

    ``servers`` carry ``customer`` and ``environment`` (their own tags); the result has the same keys as
    match_servers, merged. Another customer's target never blocks, receives or is named for a server.
    """
    groups = {}
    for server in servers:
        key = (normalize_name(server.get("customer")), normalize_name(server.get("environment")))
        groups.setdefault(key, []).append(server)
    merged = None
    for (customer, environment), members in sorted(groups.items()):
        candidates = [t for t in targets if target_in_scope(t.get("tags"), customer, environment)]
        result = match_servers(members, candidates, fuzzy_threshold=fuzzy_threshold)
        if merged is None:
            merged = result
            continue
        for key, value in result.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
    if merged is None:
        return match_servers([], targets, fuzzy_threshold=fuzzy_threshold)
    matched = {m["target"]["instance_id"] for m in merged["matches"]}
    merged["unmatched_targets"] = [t for t in targets if t["instance_id"] not in matched]
    nameless = {t["instance_id"]: t for t in merged["nameless_targets"]}
    merged["nameless_targets"] = list(nameless.values())
    return merged


def match_servers(servers, targets, fuzzy_threshold=None):
    """Match servers to targets; returns a dict describing every match and every problem.

    ``servers``: dicts with ``source_server_id``, ``hostname`` and optionally ``target_instance_id``.
    ``targets``: dicts with ``instance_id`` and ``name`` (``drs.target_summary`` output).

    Returns ``matches`` (server, target, method, score), ``unmatched_servers`` (server, reason),
    ``unmatched_targets``, ``duplicate_targets`` (name, instance_ids), ``duplicate_servers``
    (hostname, source_server_ids), ``ambiguous`` (fuzzy ties and conflicts) and ``problems``
    (readable sentences naming every server and target that blocks a clean match).
    """
    targets_by_id = {t["instance_id"]: t for t in targets}
    matches = []
    unmatched_servers = []
    problems = []
    claimed = {}  # target instance_id -> source_server_ids claiming it

    # 1. Pinned targets.
    name_servers = []
    for server in servers:
        pinned = server.get("target_instance_id")
        if pinned:
            claimed.setdefault(pinned, []).append(server["source_server_id"])
        else:
            name_servers.append(server)
    for server in servers:
        pinned = server.get("target_instance_id")
        if not pinned:
            continue
        label = _server_label(server)
        if len(claimed[pinned]) > 1:
            reason = f"target {pinned} is pinned by more than one server ({', '.join(claimed[pinned])})"
            unmatched_servers.append({"server": server, "reason": reason})
            problems.append(f"{label}: {reason}; pin each server to its own target")
        elif pinned not in targets_by_id:
            reason = f"pinned target {pinned} was not found in the recovery account and region"
            unmatched_servers.append({"server": server, "reason": reason})
            problems.append(f"{label}: {reason}; check the instance ID and the server's account_id/region")
        else:
            matches.append(_match(server, targets_by_id[pinned], METHOD_PINNED, 1.0))

    # 2. Index targets by normalized Name, leaving out pinned ones.
    by_name = {}
    nameless_targets = []
    for target in targets:
        if target["instance_id"] in claimed:
            continue
        key = normalize_name(target.get("name"))
        if key:
            by_name.setdefault(key, []).append(target)
        else:
            nameless_targets.append(target)
    duplicate_targets = [
        {"name": group[0].get("name"), "normalized_name": key, "instance_ids": [t["instance_id"] for t in group]}
        for key, group in by_name.items() if len(group) > 1
    ]
    duplicate_target_names = {d["normalized_name"] for d in duplicate_targets}

    # 3. Duplicate hostnames among the servers to be matched by name.
    by_hostname = {}
    for server in name_servers:
        by_hostname.setdefault(normalize_name(server.get("hostname")), []).append(server)
    duplicate_servers = [
        {"hostname": group[0].get("hostname"), "normalized_name": key,
         "source_server_ids": [s["source_server_id"] for s in group]}
        for key, group in by_hostname.items() if key and len(group) > 1
    ]
    for dup in duplicate_servers:
        problems.append(
            f"servers {', '.join(dup['source_server_ids'])} share the hostname {dup['hostname']!r}; "
            "pin each to its target with target_instance_id"
        )

    # 4. Exact matches.
    used = set()
    leftovers = []
    for key, group in by_hostname.items():
        if not key:
            for server in group:
                reason = "the source server reports no hostname"
                unmatched_servers.append({"server": server, "reason": reason})
                problems.append(f"{_server_label(server)}: {reason}; give it a hostname or a target_instance_id")
            continue
        if len(group) > 1:
            for server in group:
                unmatched_servers.append({"server": server, "reason": f"duplicate hostname {server.get('hostname')!r}"})
            continue
        server = group[0]
        candidates = by_name.get(key)
        if candidates and len(candidates) > 1:
            ids = ", ".join(t["instance_id"] for t in candidates)
            reason = f"several targets are named {candidates[0].get('name')!r} ({ids})"
            unmatched_servers.append({"server": server, "reason": reason})
            problems.append(f"{_server_label(server)}: {reason}; rename all but one or pin target_instance_id")
        elif candidates:
            matches.append(_match(server, candidates[0], METHOD_EXACT, 1.0))
            used.add(candidates[0]["instance_id"])
        else:
            leftovers.append(server)

    # 5. Fuzzy matches over the leftovers only, bucketed by (role, numbers).
    ambiguous = []
    if fuzzy_threshold is not None and leftovers:
        buckets = {}
        for key, group in by_name.items():
            if key in duplicate_target_names or group[0]["instance_id"] in used:
                continue
            buckets.setdefault(name_key(key), []).append(group[0])
        wanted = {}
        for server in leftovers:
            best, best_score, tie = None, -1.0, False
            for target in buckets.get(name_key(server.get("hostname")), []):
                score = similarity(server.get("hostname"), target.get("name"))
                if score > best_score:
                    best, best_score, tie = target, score, False
                elif score == best_score:
                    tie = True
            if best is None or best_score < fuzzy_threshold:
                continue
            if tie:
                ambiguous.append({"server": server, "reason": "several targets are equally close"})
                continue
            wanted.setdefault(best["instance_id"], []).append((server, best, best_score))
        for instance_id, claims in wanted.items():
            if len(claims) == 1:
                server, target, score = claims[0]
                matches.append(_match(server, target, METHOD_FUZZY, round(score, 3)))
                used.add(instance_id)
            else:
                for server, target, _score in claims:
                    ambiguous.append({"server": server,
                                      "reason": f"target {target.get('name')!r} ({instance_id}) is the closest "
                                                "name for more than one server"})
    matched_ids = {m["server"]["source_server_id"] for m in matches}
    ambiguous_ids = set()
    for item in ambiguous:
        ambiguous_ids.add(item["server"]["source_server_id"])
        unmatched_servers.append(item)
        problems.append(f"{_server_label(item['server'])}: fuzzy match is ambiguous ({item['reason']}); "
                        "pin target_instance_id or rename the target")
    for server in leftovers:
        sid = server["source_server_id"]
        if sid in matched_ids or sid in ambiguous_ids:
            continue
        reason = f"no target is named {server.get('hostname')!r}"
        unmatched_servers.append({"server": server, "reason": reason})
        problems.append(
            f"{_server_label(server)}: {reason}; tag its stopped recovery instance Name={server.get('hostname')} "
            "and AWSDRS=AllowLaunchingIntoThisInstance, or pin target_instance_id"
        )

    matched_targets = {m["target"]["instance_id"] for m in matches}
    unmatched_targets = [t for t in targets if t["instance_id"] not in matched_targets
                         and t["instance_id"] not in claimed]
    return {
        "matches": matches,
        "unmatched_servers": unmatched_servers,
        "unmatched_targets": unmatched_targets,
        "nameless_targets": nameless_targets,
        "duplicate_targets": duplicate_targets,
        "duplicate_servers": duplicate_servers,
        "problems": problems,
    }


def _match(server, target, method, score):
    return {"server": server, "target": target, "method": method, "score": score}


def _server_label(server):
    hostname = server.get("hostname")
    sid = server.get("source_server_id")
    return f"{sid} ({hostname})" if hostname else str(sid)
