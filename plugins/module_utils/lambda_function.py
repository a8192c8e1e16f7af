# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lambda functions in a failover (pilot light): the function exists once per region under the same name, each with
the alias its clients invoke (``dr:alias``, or the function's only alias).

- INSTANTIATE publishes a version of the DR function's ``$LATEST`` (only when ``$LATEST`` differs from the newest
  version: PublishVersion would return that version anyway).
- ACTIVATE points the alias at that version, sets reserved and provisioned concurrency to the production levels
  captured from the serving function in PREFLIGHT (else the ``dr:reserved-concurrency`` /
  ``dr:provisioned-concurrency`` tags), waits until the provisioned concurrency is READY, enables the function's event
  source mappings in its region and disables those of the old region.
- CLEANUP deletes versions beyond the newest ``keep``, never one an alias, a provisioned concurrency configuration or an
  event source mapping uses.
- A drill invokes the DR alias and changes nothing.

Pure planning functions are unit-tested; the read/write helpers take a boto3 client.
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently

TAG_ALIAS = "dr:alias"
TAG_RESERVED = "dr:reserved-concurrency"
TAG_PROVISIONED = "dr:provisioned-concurrency"
TAG_KEEP = "dr:keep-versions"
DEFAULT_KEEP_VERSIONS = 3
LATEST = "$LATEST"
# What PublishVersion copies from $LATEST: a version that matches these is what a new publish would give.
VERSION_KEYS = ("CodeSha256", "Runtime", "Handler", "MemorySize", "Timeout", "Environment", "Layers",
                "Architectures", "ImageConfigResponse")
ESM_ON = ("Enabled", "Enabling")
ESM_OFF = ("Disabled", "Disabling")


class LambdaReadError(Exception):
    def __init__(self, account_id, region, error):
        super().__init__(f"{account_id or 'default account'}/{region}: {error}")
        self.account_id = account_id
        self.region = region
        self.error = error


def _code(error):
    response = getattr(error, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def _is_client_error(error):
    botocore = regional_pairs.botocore
    return botocore is not None and isinstance(error, (botocore.exceptions.ClientError,
                                                       botocore.exceptions.BotoCoreError))


def function_name(host):
    return (host.get("dr_lambda") or {}).get("function_name") or host.get("dr_resource_name")


def alias_hint(host):
    """The alias clients use, as the host says (``dr:alias``); None lets the function's only alias be it."""
    hint = (host.get("dr_lambda") or {}).get("alias") or (host.get("dr_tags") or {}).get(TAG_ALIAS)
    return str(hint).strip() or None if hint else None


def unqualified(arn):
    """``arn:aws:lambda:r:a:function:name[:qualifier]`` -> ``(unqualified ARN, qualifier or None)``."""
    parts = (arn or "").split(":")
    if len(parts) > 7:
        return ":".join(parts[:7]), parts[7]
    return arn, None


def version_number(version):
    try:
        return int(version)
    except (TypeError, ValueError):
        return -1


def pages(client, operation, key, **params):
    paginator = client.get_paginator(operation)
    found = []
    for page in paginator.paginate(**params):
        found.extend(page.get(key) or [])
    return found


def choose_alias(hint, aliases):
    """``(alias name, None)`` or ``(None, why)``: the hinted alias, else the function's only one."""
    if hint:
        return (hint, None) if hint in aliases else (None, f"no alias {hint} ({TAG_ALIAS})")
    if len(aliases) == 1:
        return next(iter(aliases)), None
    if not aliases:
        return None, "the function has no alias"
    return None, (f"{len(aliases)} aliases ({', '.join(sorted(aliases))}) and no {TAG_ALIAS} tag to say which "
                  "clients use")


def provisioned_state(config):
    if not config:
        return None
    return {"requested": config.get("RequestedProvisionedConcurrentExecutions"),
            "allocated": config.get("AllocatedProvisionedConcurrentExecutions"),
            "available": config.get("AvailableProvisionedConcurrentExecutions"),
            "status": config.get("Status"), "status_reason": config.get("StatusReason")}


def read_provisioned(client, name, qualifier):
    try:
        return provisioned_state(client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier))
    except Exception as e:  # no configuration is an answer, not an error
        if _code(e) in ("ProvisionedConcurrencyConfigNotFoundException", "ResourceNotFoundException"):
            return None
        raise


def version_state(config):
    return {"version": config.get("Version"), **{k: config.get(k) for k in VERSION_KEYS if config.get(k) is not None}}


def read_function(client, name, hint, with_versions=False):
    """One function in one region: configuration, tags, reserved concurrency, the clients' alias and its provisioned
    concurrency (and the versions when asked). ``exists`` False when there is no such function."""
    try:
        answer = client.get_function(FunctionName=name)
    except Exception as e:
        if _code(e) == "ResourceNotFoundException":
            return {"exists": False}
        raise
    config = answer.get("Configuration") or {}
    aliases = {a["Name"]: {"version": a.get("FunctionVersion"), "revision_id": a.get("RevisionId"),
                           "weights": dict((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})}
               for a in pages(client, "list_aliases", "Aliases", FunctionName=name)}
    alias, alias_error = choose_alias(hint, aliases)
    state = {
        "exists": True, "name": name, "arn": unqualified(config.get("FunctionArn"))[0],
        "tags": dict(answer.get("Tags") or {}), "state": config.get("State"),
        "code_sha256": config.get("CodeSha256"),
        "reserved_concurrency": (answer.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
        "aliases": aliases, "alias": alias, "alias_error": alias_error,
        "alias_version": aliases[alias]["version"] if alias else None,
        "provisioned": read_provisioned(client, name, alias) if alias else None,
    }
    if with_versions:
        listed = pages(client, "list_versions_by_function", "Versions", FunctionName=name)
        state["latest"] = next((version_state(v) for v in listed if v.get("Version") == LATEST), version_state(config))
        state["versions"] = sorted((version_state(v) for v in listed if v.get("Version") != LATEST),
                                   key=lambda v: version_number(v["version"]))
    return state


def esm_state(mapping):
    return {"uuid": mapping.get("UUID"), "state": mapping.get("State"),
            "event_source_arn": mapping.get("EventSourceArn"), "function_arn": mapping.get("FunctionArn")}


def read_event_sources(client):
    """``{unqualified function ARN: [mapping]}`` of one region: one paginated listing, whatever the function count."""
    found = {}
    for mapping in pages(client, "list_event_source_mappings", "EventSourceMappings"):
        found.setdefault(unqualified(mapping.get("FunctionArn"))[0], []).append(esm_state(mapping))
    return found


def read_region(client, names_and_hints, account_id, region, with_versions=False, with_event_sources=True):
    """``{function name: state}`` of one account and region; raises LambdaReadError when the region does not answer."""
    try:
        items = sorted(names_and_hints.items())
        states = map_concurrently(lambda item: read_function(client, item[0], item[1], with_versions), items)
        sources = read_event_sources(client) if with_event_sources else {}
    except Exception as e:
        if _is_client_error(e):
            raise LambdaReadError(account_id, region, e) from e
        raise
    found = {}
    for (name, _hint), state in zip(items, states):
        if state.get("exists"):
            state["event_sources"] = sources.get(state["arn"], [])
        found[name] = state
    return found


def read_sides(factory, hosts, direction, primary_region, dr_region, with_versions=False, regions=None):
    """``{(account, region): {name: state} | LambdaReadError}`` for both sides of every host (or only ``regions``:
    ``"source"`` or ``"target"``)."""
    wanted = {}
    for host in hosts:
        source, target = regional_pairs.sides(host, direction, primary_region, dr_region)
        for side_name, region in (("source", source), ("target", target)):
            if regions and side_name not in regions:
                continue
            wanted.setdefault((host.get("dr_account_id"), region), {})[function_name(host)] = alias_hint(host)

    def read(key):
        try:
            return read_region(factory.client("lambda", account_id=key[0], region=key[1]), wanted[key], key[0],
                               key[1], with_versions=with_versions)
        except LambdaReadError as e:
            return e

    return run_concurrently(read, list(wanted))


def side(found, host, region):
    block = found.get((host.get("dr_account_id"), region))
    if isinstance(block, LambdaReadError):
        return {"region": region, "reachable": False, "exists": False,
                "error": regional_pairs.error_text(block.error)}
    if block is None:
        return {"region": region, "reachable": False, "exists": False, "error": "not read"}
    state = block.get(function_name(host)) or {"exists": False}
    return dict(state, region=region, reachable=True)


# ------------------------------------------------------------------------------------------- planning (pure)
def _tag_int(tags, key):
    value = str((tags or {}).get(key) or "").strip().lower()
    if value.isdigit():
        return int(value)
    if value in ("none", "unreserved"):
        return "none"
    return None


def production_levels(host, recorded_before, source):
    """``{"reserved": int | None, "provisioned": int | None, "origin": str}``: the levels the side that takes over
    gets. ``reserved`` None means unreserved (no limit); ``known`` False when nothing says what production runs."""
    captured = (recorded_before or {}).get("production")
    if isinstance(captured, dict) and captured.get("from"):
        return {"reserved": captured.get("reserved"), "provisioned": captured.get("provisioned"), "known": True,
                "origin": f"captured from {captured['from']} in PREFLIGHT"}
    if source.get("exists"):
        return {"reserved": source.get("reserved_concurrency"),
                "provisioned": (source.get("provisioned") or {}).get("requested"), "known": True,
                "origin": f"live from {source['region']}"}
    tags = host.get("dr_tags") or {}
    reserved, provisioned = _tag_int(tags, TAG_RESERVED), _tag_int(tags, TAG_PROVISIONED)
    if reserved is not None or provisioned is not None:
        return {"reserved": None if reserved == "none" else reserved,
                "provisioned": None if provisioned in (None, "none") else provisioned,
                "known": True, "origin": f"{TAG_RESERVED}/{TAG_PROVISIONED} tags"}
    return {"reserved": None, "provisioned": None, "known": False,
            "origin": f"no level known ({source['region']} not readable, no {TAG_RESERVED} tag)"}


def capture(source):
    """What PREFLIGHT records of the serving function (``before.production``)."""
    if not source.get("exists"):
        return None
    return {"from": source["region"], "reserved": source.get("reserved_concurrency"),
            "provisioned": (source.get("provisioned") or {}).get("requested"), "alias": source.get("alias"),
            "alias_version": source.get("alias_version")}


def same_version(version, latest):
    """A published version is what PublishVersion of ``$LATEST`` would give now."""
    return all(version.get(k) == latest.get(k) for k in VERSION_KEYS if k in latest or k in version)


def version_to_serve(target):
    """``(version, publish)``: the newest version when it matches ``$LATEST``, else a new one is to be published."""
    versions = target.get("versions") or []
    latest = target.get("latest") or {}
    if versions and same_version(versions[-1], latest):
        return versions[-1]["version"], False
    return None, True


def concurrency_steps(target, levels):
    """The concurrency calls the side that takes over needs: ``[("put_reserved", n) | ("delete_reserved", None) |
    ("put_provisioned", n)]``."""
    steps = []
    current = target.get("reserved_concurrency")
    if levels["known"]:
        if levels["reserved"] is None and current is not None:
            steps.append(("delete_reserved", None))
        elif levels["reserved"] is not None and current != int(levels["reserved"]):
            steps.append(("put_reserved", int(levels["reserved"])))
    elif current == 0:
        steps.append(("delete_reserved", None))  # a throttled pilot light cannot take over: lift the throttle
    wanted = levels.get("provisioned")
    if levels["known"] and wanted:
        provisioned = target.get("provisioned") or {}
        if provisioned.get("requested") != int(wanted) or provisioned.get("status") == "FAILED":
            steps.append(("put_provisioned", int(wanted)))
    return steps


def event_source_steps(target, source):
    """``(enable on the target, disable on the source)``: mapping UUIDs."""
    enable = [m["uuid"] for m in target.get("event_sources") or [] if m["state"] not in ESM_ON]
    disable = [m["uuid"] for m in source.get("event_sources") or [] if m["state"] not in ESM_OFF]
    return enable, disable


def keep_for(host, default):
    """Versions CLEANUP keeps: the function's ``dr:keep-versions`` tag (at least 1), else ``default``."""
    value = str((host.get("dr_tags") or {}).get(TAG_KEEP) or "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else int(default)


def versions_in_use(state, provisioned_qualifiers=()):
    used = set()
    for alias in (state.get("aliases") or {}).values():
        used.add(str(alias.get("version")))
        used.update(str(v) for v in (alias.get("weights") or {}))
    used.update(str(q) for q in provisioned_qualifiers)
    for mapping in state.get("event_sources") or []:
        qualifier = unqualified(mapping.get("function_arn"))[1]
        if qualifier:
            used.add(qualifier)
    return used


def versions_to_delete(state, keep, provisioned_qualifiers=()):
    """Versions beyond the newest ``keep``, except those in use (aliases, routing weights, provisioned concurrency,
    event source mappings on a version)."""
    used = versions_in_use(state, provisioned_qualifiers)
    numbered = sorted((v["version"] for v in state.get("versions") or []), key=version_number, reverse=True)
    kept = set(numbered[:max(0, int(keep))]) | used
    return [v for v in sorted(numbered, key=version_number) if v not in kept]


def provisioned_ready(provisioned, wanted):
    return bool(provisioned) and provisioned.get("status") == "READY" and (
        provisioned.get("allocated") or 0) >= int(wanted)


def levels_text(reserved, provisioned):
    return (f"reserved {reserved if reserved is not None else 'unreserved'}, provisioned "
            f"{provisioned if provisioned else 'none'}")
