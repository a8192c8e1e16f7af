"""Lambda: provisioned concurrency (moto 5.2.5 routes none of it: 404), Invoke without Docker, and the state moto
gets wrong for a failover (reference/failover_apis.md section 6, Appendix B item 5).

- ``Put/Get/List/DeleteProvisionedConcurrencyConfig``: a configuration per function and qualifier (an alias or a
  published version, never ``$LATEST``; an alias must point at a published version); ``IN_PROGRESS`` with nothing
  allocated, then ``READY`` with Allocated = Available = Requested after a while at the sandbox's time scale. When the
  alias moves to another version the configuration is allocated again (``IN_PROGRESS`` -> ``READY``). The function's
  reserved concurrency bounds the total it can provision.
- ``Invoke``: moto runs the code in Docker, which the sandbox does not have. Here the function (name, ``name:alias``
  or ARN, ``Qualifier``) is resolved in moto's backend and answers a small JSON document (function, version, region,
  the event's keys); reserved concurrency 0 throttles it (429 ``TooManyRequestsException``), as in Lambda.
- moto fixes: ``PublishVersion`` numbers a version after the highest one (moto reuses numbers once a version was
  deleted); ``GetFunction`` reports reserved concurrency 0 (moto drops it); ``UpdateAlias`` honours ``RevisionId``
  (412 ``PreconditionFailedException``), validates routing weights (0..1, published versions that exist) and rotates
  ``RevisionId``; ``UpdateEventSourceMapping(Enabled)`` passes through ``Enabling``/``Disabling`` before
  ``Enabled``/``Disabled`` and says ``USER_INITIATED``.

The configurations live in this module, keyed by account, region, function and qualifier, cleared by reset.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from urllib.parse import parse_qs
from urllib.parse import unquote

from sandbox.emulators import _clock
from sandbox.emulators import register
from sandbox.emulators._common import json_error
from sandbox.locking import STATE_LOCK

ALLOCATE_SECONDS = 3.0
ESM_SECONDS = 1.0
PATH_PROVISIONED = re.compile(r"^/2019-09-30/functions/(?P<name>[^/]+)/provisioned-concurrency/?$")
PATH_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
PATH_ALIAS = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/aliases/(?P<alias>[^/]+)/?$")

_LOCK = STATE_LOCK
_CONFIGS: dict[tuple[str, str, str, str], dict] = {}


class LambdaError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def reset():
    with _LOCK:
        _CONFIGS.clear()


def _backend(account, region):
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account][region]


def _split_name(raw):
    """``name``, ``name:qualifier`` or an ARN -> ``(name, qualifier or None)``."""
    raw = unquote(raw or "")
    if raw.startswith("arn:"):
        parts = raw.split(":")
        return parts[6], (parts[7] if len(parts) > 7 else None)
    name, _colon, qualifier = raw.partition(":")
    return name, qualifier or None


def _function(account, region, name):
    from moto.awslambda.exceptions import UnknownFunctionException

    try:
        return _backend(account, region).get_function(name)
    except UnknownFunctionException as exc:
        raise LambdaError("ResourceNotFoundException", f"Function not found: {name}", 404) from exc


def _storage(account, region):
    return _backend(account, region)._lambdas  # pylint: disable=protected-access


def _published(account, region, name):
    storage = _storage(account, region)
    return [str(v.version) for v in storage._functions.get(name, {}).get("versions", [])]  # noqa: SLF001


def _aliases(account, region, name):
    try:
        return {alias.name: alias for alias in _storage(account, region).list_aliases(name)}
    except Exception:  # no such function: no aliases
        return {}


def _resolve(account, region, name, qualifier):
    """The published version a qualifier (alias or version) stands for."""
    if not qualifier or qualifier == "$LATEST":
        raise LambdaError("InvalidParameterValueException",
                          "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    _function(account, region, name)
    if qualifier in _published(account, region, name):
        return qualifier
    alias = _aliases(account, region, name).get(qualifier)
    if alias is None:
        raise LambdaError("ResourceNotFoundException", f"Function not found: {name}:{qualifier}", 404)
    if str(alias.function_version) == "$LATEST":
        raise LambdaError("InvalidParameterValueException",
                          "Provisioned Concurrency Configs cannot be applied to an alias that points to $LATEST.")
    return str(alias.function_version)


# ------------------------------------------------------------------------------------------- provisioned concurrency
def _advance(key, config):
    """Allocate again when the alias moved; READY when the allocation is over."""
    account, region, name, qualifier = key
    try:
        version = _resolve(account, region, name, qualifier)
    except LambdaError:
        version = config["_version"]
    if version != config["_version"]:
        config.update(_version=version, Status="IN_PROGRESS", _due=_clock.start(ALLOCATE_SECONDS),
                      AllocatedProvisionedConcurrentExecutions=0, AvailableProvisionedConcurrentExecutions=0,
                      LastModified=_clock.iso(_clock.now()))
    if config["Status"] == "IN_PROGRESS" and _clock.over(config["_due"]):
        requested = config["RequestedProvisionedConcurrentExecutions"]
        config.update(Status="READY", AllocatedProvisionedConcurrentExecutions=requested,
                      AvailableProvisionedConcurrentExecutions=requested)
    return config


def _public(key, config):
    account, region, name, qualifier = key
    public = {k: v for k, v in config.items() if not k.startswith("_")}
    public["FunctionArn"] = f"arn:aws:lambda:{region}:{account}:function:{name}:{qualifier}"
    return public


def put_provisioned(call, name, qualifier, params):
    wanted = params.get("ProvisionedConcurrentExecutions")
    if not isinstance(wanted, int) or wanted < 1:
        raise LambdaError("InvalidParameterValueException",
                          f"ProvisionedConcurrentExecutions {wanted!r} must be an integer of at least 1.")
    with STATE_LOCK:
        function = _function(call.account, call.region, name)
        version = _resolve(call.account, call.region, name, qualifier)
        reserved = function.reserved_concurrency
        others = sum(c["RequestedProvisionedConcurrentExecutions"] for k, c in _CONFIGS.items()
                     if k[:3] == (call.account, call.region, name) and k[3] != qualifier)
        if reserved is not None and others + wanted > int(reserved):
            raise LambdaError("InvalidParameterValueException",
                              f"Requested Provisioned Concurrency ({others + wanted}) exceeds the function's reserved "
                              f"concurrency ({reserved}).")
    now = _clock.iso(_clock.now())
    config = {"RequestedProvisionedConcurrentExecutions": wanted, "AllocatedProvisionedConcurrentExecutions": 0,
              "AvailableProvisionedConcurrentExecutions": 0, "Status": "IN_PROGRESS", "LastModified": now,
              "_due": _clock.start(ALLOCATE_SECONDS), "_version": version}
    key = (call.account, call.region, name, qualifier)
    _CONFIGS[key] = config
    answer = _public(key, config)
    answer.pop("FunctionArn")
    return 202, answer


def get_provisioned(call, name, qualifier):
    key = (call.account, call.region, name, qualifier)
    config = _CONFIGS.get(key)
    if config is None:
        with STATE_LOCK:
            _function(call.account, call.region, name)
        raise LambdaError("ProvisionedConcurrencyConfigNotFoundException",
                          f"No Provisioned Concurrency Config found for this function: {name}:{qualifier}", 404)
    with STATE_LOCK:
        _advance(key, config)
    answer = _public(key, config)
    answer.pop("FunctionArn")
    return 200, answer


def list_provisioned(call, name):
    with STATE_LOCK:
        _function(call.account, call.region, name)
        found = []
        for key, config in sorted(_CONFIGS.items()):
            if key[:3] == (call.account, call.region, name):
                found.append(_public(key, _advance(key, config)))
    return 200, {"ProvisionedConcurrencyConfigs": found}


def delete_provisioned(call, name, qualifier):
    if _CONFIGS.pop((call.account, call.region, name, qualifier), None) is None:
        raise LambdaError("ProvisionedConcurrencyConfigNotFoundException",
                          f"No Provisioned Concurrency Config found for this function: {name}:{qualifier}", 404)
    return 204, b""


# ------------------------------------------------------------------------------------------- invoke
def invoke(call, raw_name, query):
    name, qualifier = _split_name(raw_name)
    qualifier = (query.get("Qualifier") or [qualifier])[0]
    invocation_type = call.environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
    with STATE_LOCK:
        latest = _function(call.account, call.region, name)
        try:
            target = _backend(call.account, call.region).get_function(name, qualifier)
        except Exception as exc:  # unknown version or alias
            raise LambdaError("ResourceNotFoundException", f"Function not found: {name}:{qualifier}", 404) from exc
        version = str(target.version) if str(target.version) != "$LATEST" else "$LATEST"
        throttled = latest.reserved_concurrency is not None and int(latest.reserved_concurrency) == 0
    if throttled:
        raise LambdaError("TooManyRequestsException", "Rate Exceeded.", 429)
    headers = {"X-Amz-Executed-Version": version, "Content-Type": "application/json",
               "x-amzn-RequestId": str(uuid.uuid4())}
    if invocation_type == "DryRun":
        return 204, headers, b""
    if invocation_type == "Event":
        return 202, headers, b""
    try:
        event = json.loads(call.body) if call.body else {}
    except ValueError:
        event = None
    payload = {"statusCode": 200, "function": name, "version": version, "region": call.region, "sandbox": True,
               "event_keys": sorted(event) if isinstance(event, dict) else []}
    return 200, headers, json.dumps(payload).encode()


# ------------------------------------------------------------------------------------------- alias checks
def check_alias_update(call, raw_name, alias_name, params):
    """RevisionId precondition and routing weight validation; moto then applies the update (None)."""
    name, _qualifier = _split_name(raw_name)
    with STATE_LOCK:
        _function(call.account, call.region, name)
        alias = _aliases(call.account, call.region, name).get(unquote(alias_name))
        if alias is None:
            raise LambdaError("ResourceNotFoundException", f"Alias not found: {name}:{alias_name}", 404)
        if params.get("RevisionId") and params["RevisionId"] != alias.revision_id:
            raise LambdaError("PreconditionFailedException",
                              "The Revision Id provided does not match the latest Revision Id. Call the GetAlias API "
                              "to retrieve the latest Revision Id", 412)
        published = _published(call.account, call.region, name)
        version = str(params.get("FunctionVersion") or alias.function_version)
        weights = ((params.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        for extra, weight in weights.items():
            if str(extra) not in published:
                raise LambdaError("InvalidParameterValueException",
                                  f"Version {extra} of {name} in AdditionalVersionWeights does not exist.")
            if str(extra) == version:
                raise LambdaError("InvalidParameterValueException",
                                  "The additional version must differ from the alias's FunctionVersion.")
            if not isinstance(weight, (int, float)) or not 0.0 <= float(weight) <= 1.0:
                raise LambdaError("ValidationException",
                                  f"Weight {weight!r} of version {extra} must be between 0.0 and 1.0.")


# ------------------------------------------------------------------------------------------- moto corrections
def _patch_moto():
    from moto.awslambda import models

    if getattr(models, "_sandbox_patched", False):
        return
    models._sandbox_patched = True  # pylint: disable=protected-access

    def publish_version(self, name_or_arn, description=""):
        # moto's numbers len(versions) + 1, which reuses a number once a version was deleted (Lambda never does).
        function = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
        entry = self._functions.get(function.function_name) or {}
        if not entry.get("latest"):
            return None
        versions = entry["versions"]
        if versions and not function.code_or_config_updated:
            return versions[-1]  # nothing changed since the newest version: Lambda returns it
        function.code_or_config_updated = False
        fn = copy.copy(entry["latest"])
        fn.set_version(max((int(v.version) for v in versions), default=0) + 1)
        if description:
            fn.description = description
        versions.append(fn)
        self._arns[fn.function_arn] = fn
        return fn

    models.LambdaStorage.publish_version = publish_version

    original_get_code = models.LambdaFunction.get_code

    def get_code(self):
        answer = original_get_code(self)
        if self.reserved_concurrency is not None and "Concurrency" not in answer:
            answer["Concurrency"] = {"ReservedConcurrentExecutions": int(self.reserved_concurrency)}
        return answer

    models.LambdaFunction.get_code = get_code

    original_update = models.LambdaAlias.update

    def update(self, description, function_version, routing_config):
        original_update(self, description, function_version, routing_config)
        self.revision_id = str(uuid.uuid4())

    models.LambdaAlias.update = update

    original_esm_update = models.LambdaBackend.update_event_source_mapping

    def update_event_source_mapping(self, uuid_, spec):
        esm = self.get_event_source_mapping(uuid_)
        was = bool(esm.enabled) if esm is not None else None
        answer = original_esm_update(self, uuid_, spec)
        if answer is not None and "Enabled" in spec and bool(spec["Enabled"]) != was:
            answer._sandbox_transition = {  # pylint: disable=protected-access
                "state": "Enabling" if spec["Enabled"] else "Disabling", "due": _clock.start(ESM_SECONDS)}
        return answer

    models.LambdaBackend.update_event_source_mapping = update_event_source_mapping

    original_configuration = models.EventSourceMapping.get_configuration

    def get_configuration(self):
        answer = original_configuration(self)
        transition = getattr(self, "_sandbox_transition", None)
        if transition and not _clock.over(transition["due"]):
            answer["State"] = transition["state"]
        answer["StateTransitionReason"] = "USER_INITIATED"
        return answer

    models.EventSourceMapping.get_configuration = get_configuration


# ------------------------------------------------------------------------------------------- dispatch
def _handle(call):
    query = parse_qs(call.query_string or "", keep_blank_values=True)
    try:
        params = json.loads(call.body) if call.body and call.operation != "Invoke" else {}
    except ValueError:
        params = {}
    try:
        if call.operation == "Invoke":
            return invoke(call, PATH_INVOKE.match(call.path).group("name"), query)
        if call.operation == "UpdateAlias":
            match = PATH_ALIAS.match(call.path)
            check_alias_update(call, match.group("name"), match.group("alias"), params)
            return None  # moto applies it (and the patched update rotates RevisionId)
        match = PATH_PROVISIONED.match(call.path)
        name = _split_name(match.group("name"))[0]
        qualifier = (query.get("Qualifier") or [None])[0]
        with _LOCK:
            if call.operation == "PutProvisionedConcurrencyConfig":
                status, body = put_provisioned(call, name, qualifier, params)
            elif call.operation == "GetProvisionedConcurrencyConfig":
                status, body = get_provisioned(call, name, qualifier)
            elif call.operation == "ListProvisionedConcurrencyConfigs":
                status, body = list_provisioned(call, name)
            else:
                status, body = delete_provisioned(call, name, qualifier)
    except LambdaError as exc:
        return json_error(exc.code, exc.message, exc.status)
    return status, {"Content-Type": "application/json"}, body


_patch_moto()
register("lambda", "lambda", _handle, reset=reset,
         operations=("PutProvisionedConcurrencyConfig", "GetProvisionedConcurrencyConfig",
                     "ListProvisionedConcurrencyConfigs", "DeleteProvisionedConcurrencyConfig", "Invoke",
                     "UpdateAlias"))
