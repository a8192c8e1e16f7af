# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One boto3 client per service, account and region, for modules that work across accounts.

Accounts are reached with a named credentials profile, or by assuming a role with an external ID
in sessions of 900 seconds that botocore refreshes by itself during long waits. Every client is
wrapped in the collection's jittered backoff on throttling. The factory is thread-safe, so batch
modules can work on several account/region groups concurrently.
"""

import functools
import threading

try:
    import boto3
    import botocore.session
    from botocore.credentials import AssumeRoleCredentialFetcher
    from botocore.credentials import DeferredRefreshableCredentials
except ImportError:
    DeferredRefreshableCredentials = object  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

ROLE_SESSION_SECONDS = 900
DEFAULT_SESSION_NAME = "enterprise-dr-orchestration"

# Throttling answers of DRS and the other services, plus the transient 5xx answers.
RETRY_CODES = ["ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
               "InternalServerException", "ServiceUnavailable"]


def retry_decorator():
    """The collection's one retry policy: jittered exponential backoff on throttling."""
    return AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=30, catch_extra_error_codes=RETRY_CODES)


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
    """A boto3 session whose credentials come from AssumeRole (external ID on every call) and refresh late."""
    extra_args = {"RoleSessionName": session_name or DEFAULT_SESSION_NAME, "DurationSeconds": ROLE_SESSION_SECONDS}
    if external_id:
        extra_args["ExternalId"] = external_id
    source = base_session._session  # pylint: disable=protected-access
    client_creator = functools.partial(source.create_client, endpoint_url=endpoint_url, config=config,
                                       region_name=region)
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=client_creator,
        source_credentials=base_session.get_credentials(),
        role_arn=role_arn,
        extra_args=extra_args,
        expiry_window_seconds=REFRESH_WINDOW_SECONDS,
    )
    core = botocore.session.Session()
    core._credentials = ShortSessionCredentials(  # pylint: disable=protected-access
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return boto3.session.Session(botocore_session=core, region_name=region)


class ClientFactory:
    """Caches one session per account and one client per (service, account, region).

    ``accounts`` is a list of dicts with ``account_id`` and optionally ``profile``, or ``role_arn``
    with ``external_id`` and ``session_name``. An account that is not listed uses the module's own
    credentials (``account_id=None`` always does).
    """

    def __init__(self, module, accounts=None):
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

    def _botocore_config(self):
        # Reuse amazon.aws's user agent (it names this collection) and merge the user's aws_config.
        from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string

        config = botocore.config.Config(user_agent=_get_user_agent_string())
        if self._config is not None:
            config = config.merge(self._config)
        return config

    def _base_session(self):
        params = dict(self._base_params)
        profile = params.pop("profile_name", None)
        return boto3.session.Session(profile_name=profile, **{k: v for k, v in params.items() if v is not None})

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
                    session = boto3.session.Session(profile_name=spec["profile"])
                else:
                    session = self._base_session()
            except Exception as e:  # botocore raises several unrelated types here
                raise AccountAccessError(account_id, str(e)) from e
            self._sessions[key] = session
            return session

    def client(self, service, account_id=None, region=None, retries=True):
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
        if retries:
            conn = RetryingBotoClientWrapper(conn, retry_decorator())
        with self._lock:
            self._clients.setdefault(key, conn)
            return self._clients[key]
