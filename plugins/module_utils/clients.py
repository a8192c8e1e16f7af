# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One boto3 client per service, account and region, and the collection's one retry policy.

Accounts are reached with a named credentials profile, or by assuming a role with an external ID
in sessions of 900 seconds that botocore refreshes by itself during long waits. The factory is
thread-safe, so batch modules can work on several account/region groups concurrently.

Retries (docs/reliability.md): ``RetryPolicy`` is installed on every botocore session the collection
creates (modules, inventory, callback, record store), so it applies to every request of every client
of that session - plain calls, paginators, waiters and the STS calls behind role credentials - with no
``aws_retry=True`` to forget. It retries throttling, 5xx and connection failures with full-jitter
exponential backoff. A call that has no client token and starts work (``NOT_IDEMPOTENT``) is retried
only after an answer that proves nothing was done (throttling); after a 5xx or a timeout the caller
decides, by looking at what exists first (drs_jobs.RecoveryGroup._submit).
"""

import functools
import os
import random
import re
import threading
import time

try:
    import boto3
    import botocore.config
    import botocore.loaders
    import botocore.session
    from botocore.credentials import AssumeRoleCredentialFetcher
    from botocore.credentials import DeferredRefreshableCredentials
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ConnectTimeoutError
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import EndpointConnectionError
    from botocore.exceptions import HTTPClientError
except ImportError:
    DeferredRefreshableCredentials = object  # Handled by AnsibleAWSModule
    BotoConnectionError = BotoCoreError = ConnectTimeoutError = EndpointConnectionError = HTTPClientError = Exception

ROLE_SESSION_SECONDS = 900
DEFAULT_SESSION_NAME = "enterprise-dr-orchestration"

# -- the retry policy --------------------------------------------------------------------------------------

# Throttling refuses a request before anything is done, and it passes: a throttled call is retried until it has been
# refused for this long (counted from its first attempt), however many attempts that takes. A burst that throttles
# every caller at once ends; a count of attempts would give up on the caller that happened to ask most often.
THROTTLING_BUDGET_SECONDS = 300.0
# Other retryable answers (5xx, lost connections) are counted in attempts.
MAX_ATTEMPTS = 20
# An endpoint that cannot be connected to at all (a region or network down) is given a few attempts, not twenty:
# an emergency run must learn within seconds that the primary region does not answer.
UNREACHABLE_ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 20.0

# Answers that mean "refused before anything was done, come back later".
THROTTLING_CODES = frozenset((
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "RequestThrottled", "SlowDown", "EC2ThrottledException", "BandwidthLimitExceeded",
))
# Answers after which the request may or may not have been applied.
TRANSIENT_CODES = frozenset((
    "InternalServerException", "InternalServerError", "InternalError", "InternalFailure", "ServiceUnavailable",
    "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "TransactionInProgressException",
))
TRANSIENT_STATUS_CODES = frozenset((500, 502, 503, 504))
# Calls with no client token that start work: a resent 5xx or timeout could start it twice.
NOT_IDEMPOTENT = frozenset((
    ("drs", "StartRecovery"),
    ("drs", "StartFailbackLaunch"),
    ("drs", "TerminateRecoveryInstances"),
))


def error_code(error):
    """The AWS error code of a ClientError ('' for anything else)."""
    return ((getattr(error, "response", None) or {}).get("Error") or {}).get("Code", "")


# Answers that mean the identity's policies do not allow the call.
ACCESS_DENIED_CODES = frozenset((
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException",
))
_NOT_AUTHORIZED = re.compile(
    r"not authorized to perform:? (?P<action>[\w-]+:[\w*]+)(?: on resource:? (?P<resource>\S+))?")


def error_message(error):
    """The AWS error message of a ClientError (``str(error)`` for anything else)."""
    response = getattr(error, "response", None) or {}
    return (response.get("Error") or {}).get("Message") or response.get("message") or str(error)


def access_denied_advice(error):
    """For an AccessDenied answer, ``AccessDenied: <action> on <resource>; add it to <policy>``; else ''.

    The policy is the published one that grants the action (iam/policies, rendered into cloudformation/*.yml):
    a role deployed from an older or edited template lacks it.
    """
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.iam_policies import ACTION_POLICIES
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.iam_policies import POLICY_NAMES

    if error_code(error) not in ACCESS_DENIED_CODES:
        return ""
    match = _NOT_AUTHORIZED.search(error_message(error))
    if not match:
        return ("AccessDenied; the role lacks a permission the collection needs: redeploy cloudformation/"
                "workload-account.yml (or hub.yml for the hub) from this release (docs/onboarding_accounts.md)")
    action, resource = match.group("action"), (match.group("resource") or "*").rstrip(".,;")
    policies = ACTION_POLICIES.get(action)
    if not policies:
        return (f"AccessDenied: {action} on {resource}; no published policy grants it (iam/policies): "
                "grant it to the role and report it to the collection's maintainers")
    where = " or ".join(f"{POLICY_NAMES[name]} (iam/policies/{name}.json)" for name in policies)
    template = "cloudformation/hub.yml" if policies == ("hub",) else "cloudformation/workload-account.yml"
    return (f"AccessDenied: {action} on {resource}; add it to {where}: redeploy {template} from this release "
            "(docs/onboarding_accounts.md)")


def describe_error(error):
    """An AWS error as ``Code: message``, with the policy to fix when the answer was AccessDenied; a botocore
    error without an answer (no connection, no credentials) as ``ErrorClass: message``."""
    code = error_code(error)
    if code:
        text = f"{code}: {error_message(error)}"
    elif isinstance(error, BotoCoreError):
        text = f"{type(error).__name__}: {error}"
    else:
        text = str(error)
    advice = access_denied_advice(error)
    return f"{text}. {advice}" if advice else text


def is_throttling(error):
    return error_code(error) in THROTTLING_CODES


class RetryPolicy:
    """Full-jitter exponential backoff, as a botocore ``needs-retry`` handler (see the module docstring).

    Throttling is retried for ``throttling_budget`` seconds from the call's first attempt; a 5xx or a lost answer
    up to ``max_attempts`` attempts; an endpoint that cannot be connected to ``UNREACHABLE_ATTEMPTS``.
    ``counts`` holds the retries decided, per (service, operation), for reports and tests."""

    # Where a call's first attempt is remembered: botocore passes the same request_dict to every attempt.
    _STARTED = "enterprise_dr_retry_started"

    def __init__(self, max_attempts=MAX_ATTEMPTS, base_delay=BASE_DELAY_SECONDS, max_delay=MAX_DELAY_SECONDS,
                 rand=random.random, throttling_budget=THROTTLING_BUDGET_SECONDS, clock=time.monotonic):
        self.max_attempts = max_attempts
        self.throttling_budget = throttling_budget
        self._clock = clock
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._rand = rand
        self.counts = {}
        self._lock = threading.Lock()

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before attempt ``attempt + 1``: full jitter under an exponential ceiling capped at
        ``max_delay``; a server's Retry-After raises the ceiling (callers spread out instead of waking together)."""
        ceiling = self.base_delay * (2 ** min(32, max(0, attempt - 1)))
        if retry_after:
            ceiling = max(ceiling, float(retry_after))
        return self._rand() * min(self.max_delay, ceiling)

    def sleep(self, attempt, sleep=time.sleep):
        """Wait as a retry would (for callers that retry a whole step themselves)."""
        sleep(self.delay(attempt))

    def retryable(self, service, operation, response=None, caught_exception=None):
        """'throttling', 'transient' or None for one attempt's outcome."""
        if caught_exception is not None:
            if isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError)):
                return "unreachable"  # no connection, so nothing was sent: safe to resend, but only a few times
            if isinstance(caught_exception, (BotoConnectionError, HTTPClientError)):
                return None if (service, operation) in NOT_IDEMPOTENT else "transient"
            return None
        if not response:
            return None
        http, parsed = response
        code = ((parsed or {}).get("Error") or {}).get("Code", "")
        status = getattr(http, "status_code", None)
        if code in THROTTLING_CODES or (status == 429 and code not in TRANSIENT_CODES):
            return "throttling"
        if code in TRANSIENT_CODES or status in TRANSIENT_STATUS_CODES:
            return None if (service, operation) in NOT_IDEMPOTENT else "transient"
        return None

    def needs_retry(self, response=None, attempts=1, operation=None, caught_exception=None, request_dict=None,
                    **_kwargs):
        """The botocore ``needs-retry`` handler: seconds to sleep before the next attempt, or None."""
        if operation is None:
            return None
        service = operation.service_model.service_id.hyphenize()
        kind = self.retryable(service, operation.name, response, caught_exception)
        if kind is None:
            return None
        now = self._clock()
        context = (request_dict or {}).get("context")
        if context is None:  # called without botocore's request (tests): the budget runs from this attempt
            context = {}
        started = context.setdefault(self._STARTED, now)
        if kind == "throttling":
            if now - started >= self.throttling_budget:
                return None
        elif attempts >= (UNREACHABLE_ATTEMPTS if kind == "unreachable" else self.max_attempts):
            return None
        retry_after = None
        if response and response[0] is not None:
            retry_after = (getattr(response[0], "headers", None) or {}).get("Retry-After")
            try:
                retry_after = float(retry_after) if retry_after else None
            except ValueError:
                retry_after = None
        with self._lock:
            key = (service, operation.name)
            self.counts[key] = self.counts.get(key, 0) + 1
        wait = self.delay(attempts, retry_after)
        if kind == "throttling":  # the last wait ends at the budget, not after it
            wait = max(0.0, min(wait, started + self.throttling_budget - now))
        return wait

    def total(self):
        with self._lock:
            return sum(self.counts.values())


# One policy per process: every session shares it, so its counts cover the whole module or plugin run.
POLICY = RetryPolicy()
_HANDLER_ID = "enterprise-dr-retry-policy"


def botocore_retry_settings():
    """The ``retries`` of every botocore Config the collection builds: botocore's own handler stands aside
    (one attempt) so that only RetryPolicy decides, with no retry quota to run dry under sustained throttling."""
    return {"mode": "standard", "total_max_attempts": 1}


def install_retry_policy(session, policy=None):
    """Install the policy on a boto3 or botocore session; clients created from it afterwards inherit it."""
    core = getattr(session, "_session", session)
    core.register("needs-retry", (policy or POLICY).needs_retry, unique_id=_HANDLER_ID)
    return session


def retrying_config(config=None, **settings):
    """A botocore Config with the collection's retry settings (they win), merged over ``config`` and ``settings``."""
    overrides = botocore.config.Config(retries=botocore_retry_settings(), **settings)
    return config.merge(overrides) if config is not None else overrides


# -- sessions -----------------------------------------------------------------------------------------------

# botocore gives every session its own loader, which reads and parses each service's model again: 0.2-0.4 s for EC2
# on a 2-core controller, once per account in a batch module. The collection's sessions share one loader, so a model is
# parsed once per process, whatever the number of accounts, and a process forked from one that already parsed it
# (Ansible's worker, when the module runs in the worker) parses nothing. The models are read-only data.
_SHARED_LOADER = None
_LOADER_LOCK = threading.Lock()


class _SearchPaths(list):
    """boto3 adds its data directory to the loader's search paths for every session: once is enough."""

    def append(self, path):  # pylint: disable=arguments-renamed
        if path not in self:
            super().append(path)


def shared_loader():
    """The one botocore loader of this process (it honours AWS_DATA_PATH, as botocore's own does)."""
    global _SHARED_LOADER  # pylint: disable=global-statement
    with _LOADER_LOCK:
        if _SHARED_LOADER is None:
            loader = botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH"))
            loader._search_paths = _SearchPaths(loader.search_paths)  # pylint: disable=protected-access
            _SHARED_LOADER = loader
        return _SHARED_LOADER


def botocore_session():
    """A new botocore session that uses the shared loader."""
    core = botocore.session.Session()
    core.register_component("data_loader", shared_loader())
    return core


def retrying_session(**kwargs):
    """A boto3 session whose every client follows the retry policy (controller-side code uses this).

    ``kwargs`` are boto3.session.Session's (profile_name, region_name, keys)."""
    return install_retry_policy(boto3.session.Session(botocore_session=botocore_session(), **kwargs))


class AccountAccessError(Exception):
    """An account could not be reached (role not assumable, profile missing, access denied)."""

    def __init__(self, account_id, reason):
        super().__init__(f"account {account_id}: {reason}")
        self.account_id = account_id
        self.reason = reason


REFRESH_WINDOW_SECONDS = 5 * 60


class ShortSessionCredentials(DeferredRefreshableCredentials):
    """Role credentials for 900-second sessions, refreshed in their last minutes.

    botocore's defaults (advisory refresh 15 minutes before expiry) would call AssumeRole before
    almost every request of a 15-minute session.
    """

    _advisory_refresh_timeout = REFRESH_WINDOW_SECONDS
    _mandatory_refresh_timeout = 2 * 60


def assumed_role_session(base_session, role_arn, external_id=None, session_name=None,
                         region=None, endpoint_url=None, config=None):
    """A boto3 session whose credentials come from AssumeRole (external ID on every call) and refresh late.

    Both the STS client that assumes the role and the returned session follow the retry policy."""
    extra_args = {"RoleSessionName": session_name or DEFAULT_SESSION_NAME, "DurationSeconds": ROLE_SESSION_SECONDS}
    if external_id:
        extra_args["ExternalId"] = external_id
    source = install_retry_policy(base_session)._session  # pylint: disable=protected-access
    client_creator = functools.partial(source.create_client, endpoint_url=endpoint_url,
                                       config=retrying_config(config), region_name=region)
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=client_creator,
        source_credentials=base_session.get_credentials(),
        role_arn=role_arn,
        extra_args=extra_args,
        expiry_window_seconds=REFRESH_WINDOW_SECONDS,
    )
    core = botocore_session()
    core._credentials = ShortSessionCredentials(  # pylint: disable=protected-access
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return install_retry_policy(boto3.session.Session(botocore_session=core, region_name=region))


class ClientFactory:
    """Caches one session per account and one client per (service, account, region).

    ``accounts`` is a list of dicts with ``account_id`` and optionally ``profile``, or ``role_arn``
    with ``external_id`` and ``session_name``. An account that is not listed uses the module's own
    credentials (``account_id=None`` always does). Every client follows the retry policy.
    """

    def __init__(self, module, accounts=None):
        from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info

        self.module = module
        region, endpoint_url, params = get_aws_connection_info(module)
        self.default_region = region
        self.endpoint_url = endpoint_url
        self._config = params.pop("aws_config", None)
        self._verify = params.pop("verify", None)
        self._base_params = params
        self._accounts = {str(a["account_id"]): a for a in (accounts or []) if a.get("account_id")}
        self._sessions = {}
        self._clients = {}
        self._lock = threading.Lock()
        self.retry_policy = POLICY

    def _botocore_config(self):
        # Reuse amazon.aws's user agent (it names this collection) and merge the user's aws_config; the
        # retry settings always win, so an aws_config cannot bring botocore's own retries back on top.
        from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string

        config = botocore.config.Config(user_agent=_get_user_agent_string())
        if self._config is not None:
            config = config.merge(botocore.config.Config(**self._config) if isinstance(self._config, dict)
                                  else self._config)
        return retrying_config(config)

    def _base_session(self):
        params = dict(self._base_params)
        profile = params.pop("profile_name", None)
        return retrying_session(profile_name=profile, **{k: v for k, v in params.items() if v is not None})

    def session(self, account_id=None):
        key = str(account_id) if account_id else None
        with self._lock:
            if key in self._sessions:
                return self._sessions[key]
            spec = self._accounts.get(key) if key else None
            try:
                if spec and spec.get("role_arn"):
                    session = assumed_role_session(
                        self._base_session(), spec["role_arn"], spec.get("external_id"), spec.get("session_name"),
                        region=self.default_region, endpoint_url=self.endpoint_url, config=self._botocore_config(),
                    )
                elif spec and spec.get("profile"):
                    session = retrying_session(profile_name=spec["profile"])
                else:
                    session = self._base_session()
            except Exception as e:  # botocore raises several unrelated types here
                raise AccountAccessError(account_id, str(e)) from e
            self._sessions[key] = session
            return session

    def client(self, service, account_id=None, region=None):
        region = region or self.default_region
        key = (service, str(account_id) if account_id else None, region)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        session = self.session(account_id)
        kwargs = {"region_name": region, "config": self._botocore_config()}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self._verify is not None:
            kwargs["verify"] = self._verify
        conn = session.client(service, **kwargs)
        with self._lock:
            self._clients.setdefault(key, conn)
            return self._clients[key]


def module_client(module, service, region=None):
    """One client with the module's own credentials and the retry policy (modules that need no accounts)."""
    return ClientFactory(module).client(service, region=region)
