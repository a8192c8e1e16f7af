"""IAM enforced at request time: every request is allowed or denied by the policies of the identity that signed it.

Off by default (the seeded roles carry the published policies either way). Switched on with
``POST /_sandbox/iam {"enforce": true}`` (``SandboxHarness.enforce_iam``) or an estate's ``sandbox.iam_enforcement``,
it checks every AWS request before the request reaches moto or an emulator (DRS and the failover emulators alike),
so a call the policies do not grant fails the run the way AWS would fail it.

How a request is judged, with moto's own IAM access control pieces:

- The **identity** is found from the access key as moto does (``moto.iam.access_control.create_access_key``):
  credentials from ``sts:AssumeRole`` are the assumed role (the session token must match), access keys of an IAM
  user are that user. The sandbox's default credentials in the hub account stand for the controller's identity, the
  role ``HUB_ROLE_NAME`` that the estate creates there with ``iam/policies/hub.json`` and ``discovery.json`` (what
  cloudformation/hub.yml gives the orchestration role). Any other key is refused as ``InvalidClientTokenId``.
- The **policies** are the identity's inline and attached policies as moto's IAM holds them (not the files), so a
  test that removes an action from a role's policy sees exactly what a customer with that policy would see.
- The **decision** is moto's policy evaluation (``IAMPolicy.is_action_permitted``): an explicit Deny wins, then any
  Allow, else denied. The action is the service prefix and operation (``iam.least_privilege.action_of``). The
  resource is the ARN where the published policies scope one (DynamoDB tables, the role of ``sts:AssumeRole``, S3
  buckets and objects), ``*`` otherwise.

Not judged: the sandbox's own requests (seeding and admin calls carry the ``x-moto-account-id`` header) and the test
harness's sessions (role session name ``HARNESS_SESSION_PREFIX``), which stand for an operator's own access, not the
collection's; ``sts:GetCallerIdentity``, which AWS answers whatever the policies say. Signatures are not verified.
``sts:AssumeRole`` is judged twice, as AWS does: the caller's policies must allow it, and so must the role's trust
policy, with its conditions (``sts:ExternalId``, ``sts:DurationSeconds``) met by the request.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs
from urllib.parse import unquote

from iam.least_privilege import action_of
from sandbox.locking import STATE_LOCK

HUB_ROLE_NAME = "EnterpriseDRHubRole"
HARNESS_SESSION_PREFIX = "edr-tests"
SANDBOX_ACCESS_KEY = "testing"
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})

# The AWS error code of a denial, per wire protocol (what botocore raises as ClientError).
DENIAL_CODES = {
    "ec2": ("UnauthorizedOperation", 403),
    "query": ("AccessDenied", 403),
    "rest-xml": ("AccessDenied", 403),
    "json": ("AccessDeniedException", 400),
    "rest-json": ("AccessDeniedException", 403),
    "smithy-rpc-v2-cbor": ("AccessDeniedException", 403),
}


class Denial(Exception):
    """A request the identity's policies do not allow (or an identity the sandbox does not know)."""

    def __init__(self, code, message, action=None, resource=None, principal=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.action = action
        self.resource = resource
        self.principal = principal


class _Identity:
    def __init__(self, arn, policies):
        self.arn = arn
        self.policies = policies


class Enforcement:
    """The switch and the judge; ``check`` raises Denial for a request that must not go through."""

    def __init__(self):
        self.enabled = False
        self.hub_account = None
        self.denials = 0
        self._lock = threading.Lock()

    def configure(self, enforce=None, hub_account=None):
        with self._lock:
            if enforce is not None:
                self.enabled = bool(enforce)
            if hub_account:
                self.hub_account = str(hub_account)
        return self.document()

    def reset(self):
        with self._lock:
            self.enabled = False
            self.denials = 0

    def document(self):
        return {"enforce": self.enabled, "hub_account": self.hub_account, "denials": self.denials}

    # ---------------------------------------------------------------------------------------------- judging
    def check(self, environ, body, service, operation, account, region, access_key, assumed_session=None):
        """Raise Denial unless the request may go through (always goes through while enforcement is off)."""
        if not self.enabled or environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            return
        action = action_of({"service": service, "operation": operation})
        if action is None or action in ALWAYS_ALLOWED:
            return
        identity = self._identity(environ, account, access_key)
        if identity is None:  # the harness's own session
            return
        for resource in self._resources(environ, body, service, operation, account, region):
            self._judge(identity, action, resource)
        if action == "sts:AssumeRole":
            self._judge_trust(identity, _form(environ, body))

    def _identity(self, environ, account, access_key):
        from moto.iam.access_control import CreateAccessKeyFailure
        from moto.iam.access_control import create_access_key
        from moto.iam.models import iam_backends

        token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
        headers = {"X-Amz-Security-Token": token} if token else {}
        with STATE_LOCK:
            if access_key == SANDBOX_ACCESS_KEY and not token:
                hub = self.hub_account or account
                backend = iam_backends[hub]["aws"]
                try:
                    backend.get_role(HUB_ROLE_NAME)
                except Exception:
                    raise Denial("AccessDenied", f"The hub account {hub} has no role {HUB_ROLE_NAME}: seed an estate "
                                 "(its roles carry the published policies) before enforcing IAM") from None
                policies = [backend.get_role_policy(HUB_ROLE_NAME, name)[1]
                            for name in backend.list_role_policies(HUB_ROLE_NAME)]
                policies += backend.list_attached_role_policies(HUB_ROLE_NAME)[0]
                return _Identity(f"arn:aws:sts::{hub}:assumed-role/{HUB_ROLE_NAME}/controller", policies)
            try:
                key = create_access_key(account, "aws", access_key or "", headers)
            except CreateAccessKeyFailure as exc:
                raise Denial("InvalidClientTokenId", f"The security token included in the request is invalid "
                             f"({exc.reason}).") from None
            if getattr(key, "_session_name", "").startswith(HARNESS_SESSION_PREFIX):
                return None
            return _Identity(key.arn, key.collect_policies())

    @staticmethod
    def _resources(environ, body, service, operation, account, region):
        """The ARNs the published policies scope by resource; ``*`` for every other request."""
        if service == "dynamodb":
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = {}
            tables = [params["TableName"]] if params.get("TableName") else list(params.get("RequestItems") or {})
            if tables:
                return [f"arn:aws:dynamodb:{region}:{account}:table/{table}" for table in tables]
        if service == "sts" and operation == "AssumeRole":
            role_arn = _form(environ, body).get("RoleArn")
            if role_arn:
                return [role_arn]
        if service == "s3":
            path = unquote(environ.get("PATH_INFO", "/")).lstrip("/")
            if path:
                return [f"arn:aws:s3:::{path}"]
        return ["*"]

    def _judge_trust(self, identity, params):
        """The role's trust policy must allow the caller, with the conditions met (external ID, session length).

        Principals: ``*``, the caller's account (``arn:aws:iam::<id>:root`` or the bare ID) or the caller's role.
        Conditions: ``StringEquals`` and ``NumericLessThanEquals`` on ``sts:ExternalId`` and
        ``sts:DurationSeconds`` (what the templates use); any other condition is not met.
        """
        from moto.iam.models import iam_backends

        role_arn = params.get("RoleArn") or ""
        parts = role_arn.split(":")
        if len(parts) < 6:
            return  # STS itself refuses a malformed ARN
        with STATE_LOCK:
            try:
                role = iam_backends[parts[4]]["aws"].get_role_by_arn(role_arn)
            except Exception:
                return  # no such role: STS answers that itself
            document = role.assume_role_policy_document
        if isinstance(document, str):
            document = json.loads(unquote(document))
        caller_account = identity.arn.split(":")[4]
        caller = {"*", caller_account, f"arn:aws:iam::{caller_account}:root", identity.arn}
        if ":assumed-role/" in identity.arn:
            caller.add(f"arn:aws:iam::{caller_account}:role/{identity.arn.split('/')[1]}")
        given = {"sts:ExternalId": params.get("ExternalId"), "sts:DurationSeconds": params.get("DurationSeconds")}
        statements = document.get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action") or []
            principals = (statement.get("Principal") or {})
            principals = principals.get("AWS", []) if isinstance(principals, dict) else principals
            if (statement.get("Effect") == "Allow"
                    and "sts:AssumeRole" in ([actions] if isinstance(actions, str) else actions)
                    and caller & set([principals] if isinstance(principals, str) else principals)
                    and _conditions_met(statement.get("Condition") or {}, given)):
                return
        self._deny(identity, "sts:AssumeRole", role_arn,
                   "(the role's trust policy does not allow it: principal, sts:ExternalId or sts:DurationSeconds)")

    def _judge(self, identity, action, resource):
        from moto.iam.access_control import IAMPolicy
        from moto.iam.access_control import PermissionResult

        allowed = False
        for policy in identity.policies:
            result = IAMPolicy(policy).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                self._deny(identity, action, resource, "with an explicit deny in an identity-based policy")
            allowed = allowed or result == PermissionResult.PERMITTED
        if not allowed:
            self._deny(identity, action, resource, f"because no identity-based policy allows the {action} action")

    def _deny(self, identity, action, resource, why):
        with self._lock:
            self.denials += 1
        raise Denial("AccessDenied", f"User: {identity.arn} is not authorized to perform: {action} on resource: "
                     f"{resource} {why}", action=action, resource=resource, principal=identity.arn)


def _form(environ, body):
    """The parameters of a query-protocol request (form body or query string), first value of each."""
    query = parse_qs((body or b"").decode("utf-8", "replace")) or parse_qs(environ.get("QUERY_STRING", ""))
    return {key: values[0] for key, values in query.items()}


def _conditions_met(conditions, given):
    for operator, checks in conditions.items():
        for key, expected in checks.items():
            value = given.get(key)
            expected = expected if isinstance(expected, list) else [expected]
            if value is None:
                return False
            if operator == "StringEquals" and value not in [str(e) for e in expected]:
                return False
            if operator == "NumericLessThanEquals" and not all(float(value) <= float(e) for e in expected):
                return False
            if operator not in ("StringEquals", "NumericLessThanEquals"):
                return False
    return True


def error_code_for(protocol, denial):
    if denial.code == "InvalidClientTokenId":
        return denial.code, 403
    return DENIAL_CODES.get(protocol, ("AccessDeniedException", 403))
