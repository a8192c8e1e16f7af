# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_resources
short_description: DR-enabled AWS resources, discovered by tag across accounts and regions, as hosts
version_added: 0.1.0
description:
  - Discovers every resource tagged C(dr:enabled) in the configured accounts, in their primary and DR
    regions, with the Resource Groups Tagging API (Auto Scaling groups with Auto Scaling's own API, which
    the tagging API never returns), and turns each into a host with C(ansible_connection=local).
  - AWS Elastic Disaster Recovery (DRS) source servers of the DR region are hosts named after their source
    hostname. Their DR tags come from the server's own tags or from the tags of its source EC2 instance
    (DRS does not copy them); when the two disagree on a DR tag the host is reported as invalid, naming both values.
  - Pre-provisioned launch-into targets (EC2 instances of the DR region tagged
    C(AWSDRS=AllowLaunchingIntoThisInstance)) are matched to servers by Name (without case and surrounding
    whitespace) and attached as the host variable C(dr_target); they are not hosts.
  - Other resources are classified into a C(dr_technology) by their ARN format
    (C(drs), C(aurora), C(rds), C(ecs), C(lambda), C(route53), C(elasticache), C(opensearch),
    C(autoscaling), C(memorydb), C(eventbridge), C(efs), C(fsx)).
  - "Groups (names sanitized to lower case C(a-z0-9_)): C(wave_<n>) and C(priority_<priority>) (valid hosts only),
    C(technology_<technology>), C(customer_<customer>), C(environment_<environment>), C(account_<account id>),
    C(account_<account name>), C(invalid) (hosts with tag problems, listed in C(dr_validation_errors)), and
    C(dr_resources) (every host)."
  - "Host variables: C(dr_technology), C(dr_wave) (int), C(dr_priority), C(dr_priority_rank) (0 = critical),
    C(dr_customer), C(dr_environment), C(dr_account_id), C(dr_account_name), C(dr_primary_region),
    C(dr_dr_region), C(dr_resource_region), C(dr_credentials) (account id and profile or role ARN, never the
    external ID), C(dr_arn), C(dr_resource_id), C(dr_resource_name), C(dr_source_server_id), C(dr_hostname),
    C(dr_source_instance_id), C(dr_replication_state), C(dr_recovery_strategy), C(dr_rto_target),
    C(dr_rpo_target) (minutes), C(dr_health_check_url), C(dr_dependencies) (list), C(dr_dependency_hosts),
    C(dr_tags) (raw), C(dr_target), C(dr_validation_errors), C(dr_inventory_source) (C(live) or C(cache))."
  - "Variables of the C(all) group: C(dr_accounts) (the account access list, shaped like the modules'
    O(accounts) option, external IDs included, for modules to assume roles), C(dr_unreachable_accounts),
    C(dr_discovered_at), C(dr_inventory_problems) (every validation problem)."
  - The inventory file name must end with C(dr_resources.yml) or C(dr_resources.yaml).
  - Tag values are untrusted data, never templates.
notes:
  - Cached results are the raw discovery result (no credentials). With O(cache) on and the cache fresh,
    the inventory makes no AWS call at all.
  - The tag schema for application teams, and what each validation problem means, is in C(docs/tag_schema.md);
    the cross-account role and its least-privilege policies are in C(docs/onboarding_accounts.md).
author:
  - Enterprise DR maintainers (@enterprise_dr)
extends_documentation_fragment:
  - inventory_cache
  - constructed
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    required: true
    choices: [enterprise_dr.orchestration.dr_resources]
    type: str
  accounts:
    description:
      - The accounts to discover. An account with neither O(accounts[].profile) nor O(accounts[].role_arn)
        is reached with the hub credentials, so it must be the hub's own account (checked with STS
        C(GetCallerIdentity) before discovery); any other account without them is refused.
      - Unknown keys in an entry (a typo such as C(rolearn)) are refused with the nearest valid key, as are
        unknown keys at the top of the file, malformed account IDs and role ARNs, and an C(external_id)
        without C(role_arn).
    type: list
    elements: dict
    required: true
    suboptions:
      account_id:
        description: The 12-digit account ID.
        type: str
        required: true
      name:
        description: A readable name, used in group names, host name disambiguation and messages.
        type: str
      profile:
        description: A named profile of the AWS config files. Mutually exclusive with O(accounts[].role_arn).
        type: str
      role_arn:
        description: The workload role to assume from the hub credentials, in refreshable 900-second sessions.
        type: str
      external_id:
        description: The external ID the role's trust policy requires (C(sts:ExternalId)). May be a template.
        type: str
      session_name:
        description: Role session name shown in CloudTrail.
        type: str
        default: enterprise-dr-orchestration
      primary_region:
        description: Overrides O(primary_region) for this account.
        type: str
      dr_region:
        description: Overrides O(dr_region) for this account.
        type: str
  primary_region:
    description: The region the protected resources run in.
    type: str
    default: us-east-1
  dr_region:
    description: The recovery region (DRS source servers and launch-into targets live here).
    type: str
    default: us-west-2
  regions:
    description: More regions to look for DR-enabled resources in, besides the primary and DR regions.
    type: list
    elements: str
    default: []
  customers:
    description: Only resources whose C(Customer) tag is one of these (compared without case). All when empty.
    type: list
    elements: str
    default: []
  environments:
    description: Only resources whose C(Environment) tag is one of these (compared without case). All when empty.
    type: list
    elements: str
    default: []
  profile:
    description: The hub's credentials profile. Without it, the usual boto3 chain (environment, instance role).
    type: str
    aliases: [aws_profile]
    env:
      - name: AWS_PROFILE
  endpoint_url:
    description: Send every AWS request to this URL (a local AWS sandbox, a VPC endpoint proxy).
    type: str
    aliases: [aws_endpoint_url]
    env:
      - name: AWS_ENDPOINT_URL
  strict:
    description:
      - Fail the inventory when any resource has a tag problem, instead of reporting it (group C(invalid),
        host variable C(dr_validation_errors) and a warning).
      - Also makes errors in O(compose), O(groups) and O(keyed_groups) expressions fatal.
    type: bool
    default: false
  fail_on_unreachable_account:
    description:
      - Fail the inventory when an account cannot be reached (role not assumable, profile missing, access
        denied) or a region does not answer. Otherwise each is reported by account ID with the reason, and
        the inventory holds what answered.
    type: bool
    default: true
  use_stale_cache_on_failure:
    description:
      - Emergency mode. When an account or region does not answer, take its resources from the last cached
        discovery, even past O(cache_timeout), and mark their hosts C(dr_inventory_source=cache).
      - Needs O(cache) to have been on in an earlier run, so that a cached discovery exists.
    type: bool
    default: false
    env:
      - name: ENTERPRISE_DR_USE_STALE_INVENTORY
  max_workers:
    description: How many account/region queries run at once.
    type: int
    default: 8
"""

EXAMPLES = r"""
# inventory/production.dr_resources.yml
plugin: enterprise_dr.orchestration.dr_resources
profile: dr-hub
primary_region: us-east-1
dr_region: us-west-2
accounts:
  - account_id: "210987654321"
    name: workload-a
    role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
    external_id: "{{ lookup('ansible.builtin.env', 'EDR_EXTERNAL_ID_WORKLOAD_A') }}"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/enterprise_dr/inventory
cache_timeout: 3600

---
# Only one customer's production resources
plugin: enterprise_dr.orchestration.dr_resources
customers: [acme]
environments: [production]
accounts:
  - account_id: "210987654321"
    profile: workload-a
keyed_groups:
  - key: dr_tags['CostCenter'] | default('none')
    prefix: cost_center
"""

import difflib
import json
import os
import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.plugins.inventory import Cacheable
from ansible.plugins.inventory import Constructable
from ansible.utils.unsafe_proxy import wrap_var as make_unsafe

try:
    import boto3  # noqa: F401  pylint: disable=unused-import
    HAS_BOTO3 = True
except ImportError:
    HAS_BOTO3 = False

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import DEFAULT_SESSION_NAME
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import THROTTLING_BUDGET_SECONDS
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import THROTTLING_CODES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import retrying_session
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import discovery
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import grouping
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.resources import build_inventory

_ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
_ACCOUNT_KEYS = ("account_id", "name", "profile", "role_arn", "external_id", "session_name", "primary_region",
                 "dr_region")
_WARN_EXAMPLES = 10
# Every value comes from AWS, where anyone who may tag a resource writes it: it must never be templated on the
# controller. ansible-core 2.19 and later trust no string an inventory plugin sets (trusted_by_default false), so the
# values go in as they are; before 2.19 they are marked unsafe one by one (at 1,000 hosts that walk is a third of a
# parse from the cache).
_MARK_UNSAFE = getattr(BaseInventoryPlugin, "trusted_by_default", None) is not False


def _did_you_mean(key, known):
    close = difflib.get_close_matches(str(key).lower(), known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}? fix: rename it to {close[0]}" if close else \
        f"fix: remove it (accepted: {', '.join(sorted(known))})"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "enterprise_dr.orchestration.dr_resources"
    INVENTORY_FILE_SUFFIXES = ("dr_resources.yml", "dr_resources.yaml")

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(self.INVENTORY_FILE_SUFFIXES)

    # -- configuration -------------------------------------------------------------------------
    def _template(self, value):
        if isinstance(value, str) and self.templar.is_template(value):
            return self.templar.template(value)
        return value

    def _where(self):
        path = getattr(self, "_config_path", None)
        return f"{path}: " if path else ""

    def _check_top_level_keys(self, config):
        """Refuse keys of the inventory file this plugin does not take (a typo is never ignored)."""
        known = sorted(getattr(self, "_options", None) or {})
        if not known or not isinstance(config, dict):
            return
        unknown = [k for k in config if k not in known]
        if unknown:
            raise AnsibleParserError(self._where() + "; ".join(
                f"unknown key {key!r}; {_did_you_mean(key, known)}" for key in sorted(map(str, unknown))))

    def _account_specs(self):
        specs, seen, where = [], set(), self._where()
        for index, entry in enumerate(self.get_option("accounts") or []):
            if not isinstance(entry, dict) or entry.get("account_id") in (None, ""):
                raise AnsibleParserError(f"{where}accounts[{index}] needs an account_id (the 12-digit account ID); "
                                         "fix: add account_id: \"<12 digits>\"")
            unknown = sorted(str(k) for k in entry if k not in _ACCOUNT_KEYS)
            if unknown:
                raise AnsibleParserError(where + "; ".join(
                    f"accounts[{index}] (account_id {entry['account_id']}): unknown key {key!r}; "
                    f"{_did_you_mean(key, _ACCOUNT_KEYS)}" for key in unknown))
            raw_id = entry["account_id"]
            account_id = f"{raw_id:012d}" if isinstance(raw_id, int) and not isinstance(raw_id, bool) \
                else str(raw_id).strip()
            if not _ACCOUNT_ID_RE.match(account_id):
                raise AnsibleParserError(f"{where}accounts[{index}].account_id {raw_id!r} is not a 12-digit AWS "
                                         "account ID; fix: write the 12 digits, quoted in YAML to keep leading zeros "
                                         "(account_id: \"012345678901\")")
            if account_id in seen:
                raise AnsibleParserError(f"{where}account {account_id} is listed twice in accounts; "
                                         "fix: keep one entry per account")
            seen.add(account_id)
            spec = {key: self._template(entry.get(key)) for key in
                    ("name", "profile", "role_arn", "external_id", "session_name", "primary_region", "dr_region")}
            spec["account_id"] = account_id
            for key, value in spec.items():
                if value is not None and not isinstance(value, str):
                    raise AnsibleParserError(f"{where}accounts[{index}] (account {account_id}): {key} must be a "
                                             f"string, not {value!r}; fix: quote it")
            if spec["profile"] and spec["role_arn"]:
                raise AnsibleParserError(f"{where}account {account_id}: give either profile or role_arn, not both; "
                                         "fix: remove one of them")
            if spec["role_arn"] and not _ROLE_ARN_RE.match(spec["role_arn"].strip()):
                raise AnsibleParserError(f"{where}account {account_id}: role_arn {spec['role_arn']!r} is not an IAM "
                                         f"role ARN; fix: role_arn: arn:aws:iam::{account_id}:role/<name>")
            if spec["role_arn"] and f":{account_id}:" not in spec["role_arn"]:
                raise AnsibleParserError(f"{where}account {account_id}: role_arn {spec['role_arn']} is in another "
                                         f"account; fix: use arn:aws:iam::{account_id}:role/<name>")
            if spec["external_id"] and not spec["role_arn"]:
                raise AnsibleParserError(f"{where}account {account_id}: external_id is given without role_arn, so "
                                         "it would never be used; fix: add role_arn: "
                                         f"arn:aws:iam::{account_id}:role/<name> (or remove external_id)")
            spec["session_name"] = spec["session_name"] or DEFAULT_SESSION_NAME
            spec["primary_region"] = spec["primary_region"] or self.get_option("primary_region")
            spec["dr_region"] = spec["dr_region"] or self.get_option("dr_region")
            specs.append(spec)
        if not specs:
            raise AnsibleParserError("accounts is empty: list at least one account to discover")
        return specs

    @staticmethod
    def _access_list(specs):
        """The dr_accounts group variable: the modules' accounts option, as configured."""
        keys = ("account_id", "name", "profile", "role_arn", "external_id", "session_name")
        return [{k: spec[k] for k in keys if spec.get(k)} for spec in specs]

    # -- discovery and caching -----------------------------------------------------------------
    def _check_hub_only_accounts(self, base, specs):
        """An account with neither profile nor role_arn is read with the hub credentials: only the hub's own."""
        bare = [s["account_id"] for s in specs if not s.get("profile") and not s.get("role_arn")]
        if not bare:
            return
        try:
            sts = base.client("sts", endpoint_url=self.get_option("endpoint_url") or None,
                              config=discovery.default_botocore_config())
            hub = sts.get_caller_identity()["Account"]
        except Exception:  # no answer here: discovery reports the account with its reason
            return
        others = [a for a in bare if a != hub]
        if others:
            raise AnsibleParserError(
                f"{self._where()}account(s) {', '.join(others)} have neither profile nor role_arn, so they would be "
                f"read with the hub credentials, which belong to account {hub}; fix: add role_arn: "
                f"arn:aws:iam::{others[0]}:role/<name> (with external_id) or profile: <name> to each "
                "(docs/onboarding_accounts.md)")

    def _discover(self, specs):
        profile = self.get_option("profile")
        try:
            base = retrying_session(profile_name=profile, region_name=self.get_option("primary_region"))
        except Exception as e:  # ProfileNotFound and friends
            raise AnsibleParserError(f"hub credentials: {discovery.error_reason(e)}") from e
        self._check_hub_only_accounts(base, specs)
        sessions = discovery.AccountSessions(
            base, endpoint_url=self.get_option("endpoint_url") or None,
            botocore_config=discovery.default_botocore_config(),
        )
        return discovery.discover(
            sessions, specs, customers=self.get_option("customers"), max_workers=self.get_option("max_workers"),
            extra_regions=self.get_option("regions"),
        )

    def _stale_path(self, path):
        """Where the last complete discovery is kept for emergency runs (beside the inventory cache)."""
        directory = self.get_option("cache_connection") or os.path.join("~", ".ansible", "tmp", "enterprise_dr")
        directory = os.path.expanduser(os.path.expandvars(directory))
        return os.path.join(directory, f"{self.get_cache_key(path)}.last_discovery.json")

    def _read_stale(self, path):
        try:
            with open(self._stale_path(path), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def _write_stale(self, path, raw):
        target = self._stale_path(path)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            temp = f"{target}.{os.getpid()}.tmp"
            with open(temp, "w", encoding="utf-8") as handle:
                json.dump(raw, handle)
            os.chmod(temp, 0o600)
            os.replace(temp, target)
        except OSError as e:
            self.display.warning(f"dr_resources: could not keep the last discovery for emergency runs at {target}: {e}")

    @staticmethod
    def _failures(raw):
        failures = []
        for account in raw.get("accounts", []):
            if account.get("error"):
                failures.append((account["account_id"], None))
                continue
            failures.extend((account["account_id"], region)
                            for region, block in (account.get("regions") or {}).items() if block.get("error"))
        return failures

    def _load(self, path, cache, specs):
        """The raw discovery result: from the cache when fresh, else from AWS (with the emergency fallback)."""
        cache_key = self.get_cache_key(path)
        use_cache = bool(self.get_option("cache"))
        if use_cache and cache:
            try:
                return self._cache[cache_key], False
            except KeyError:
                pass
        raw = self._discover(specs)
        complete = not self._failures(raw)
        if not complete and self.get_option("use_stale_cache_on_failure"):
            raw, substituted = discovery.fill_from_cache(raw, self._read_stale(path))
            for account_id, region in substituted:
                where = f"account {account_id}" + (f" region {region}" if region else "")
                self.display.warning(f"dr_resources: {where} did not answer; using its resources from the last "
                                     "discovery (hosts marked dr_inventory_source=cache)")
        if use_cache and complete:
            self._cache[cache_key] = raw
            self._write_stale(path, raw)
        return raw, True

    # -- inventory -----------------------------------------------------------------------------
    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        if not HAS_BOTO3:
            raise AnsibleParserError("the dr_resources inventory needs boto3 and botocore")
        self._config_path = path
        config = self._read_config_data(path)
        self._check_top_level_keys(config)
        specs = self._account_specs()
        raw, _fresh = self._load(path, cache, specs)
        built = build_inventory(raw, customers=self.get_option("customers"),
                                environments=self.get_option("environments"))
        self._report(built)
        self._populate(built, specs, raw)

    def _report(self, built):
        unreachable = built["unreachable"]
        for item in unreachable:
            where = f"account {item['account_id']}" + (f" ({item['name']})" if item.get("name") else "")
            if item.get("region"):
                where += f" region {item['region']}"
            self.display.warning(f"dr_resources: {where} could not be reached: {item['reason']}")
        if unreachable and self.get_option("fail_on_unreachable_account"):
            names = "; ".join(f"{i['account_id']}{'/' + i['region'] if i.get('region') else ''}: {i['reason']}"
                              for i in unreachable)
            if all(str(i["reason"]).split(" ", 1)[0] in THROTTLING_CODES for i in unreachable):
                # Throttled, not refused: the role and its trust are fine, AWS asked the controller to slow down.
                raise AnsibleParserError(
                    f"dr_resources: cannot reach {names}: AWS kept throttling the calls for "
                    f"{THROTTLING_BUDGET_SECONDS / 60:g} minutes of retries with backoff. Nothing was changed: "
                    "wait a minute and run the same command again "
                    "(other runs against these accounts add to the throttling), or use_stale_cache_on_failure: true "
                    "in an emergency")
            raise AnsibleParserError(
                f"dr_resources: cannot reach {names}. Fix the account's role, trust policy or profile "
                "(docs/onboarding_accounts.md), or set fail_on_unreachable_account: false to continue without it, "
                "or use_stale_cache_on_failure: true in an emergency")
        problems = built["problems"]
        if problems:
            shown = "\n".join(f"  - {p['message']}" for p in problems[:_WARN_EXAMPLES])
            more = f"\n  ... and {len(problems) - _WARN_EXAMPLES} more" if len(problems) > _WARN_EXAMPLES else ""
            hosts = len(built["groups"].get(grouping.INVALID_GROUP, []))
            summary = (f"dr_resources: {len(problems)} tag problem(s) on {hosts} DR resource(s), in group "
                       f"'{grouping.INVALID_GROUP}' (see dr_validation_errors and docs/tag_schema.md):\n{shown}{more}")
            if self.get_option("strict"):
                raise AnsibleParserError(summary)
            self.display.warning(summary)

    def _populate(self, built, specs, raw):
        strict = self.get_option("strict")
        for group in sorted(built["groups"]):
            self.inventory.add_group(group)
        for name, hostvars in built["hosts"].items():
            self.inventory.add_host(name, group=grouping.ALL_GROUP)
            for group in grouping.group_names(hostvars):
                self.inventory.add_child(group, name)
            safe = make_unsafe(hostvars) if _MARK_UNSAFE else hostvars
            for key, value in safe.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), safe, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), safe, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), safe, name, strict=strict)
        self.inventory.set_variable("all", "dr_accounts", self._access_list(specs))
        self.inventory.set_variable("all", "dr_unreachable_accounts", make_unsafe(built["unreachable"]))
        self.inventory.set_variable("all", "dr_inventory_problems", make_unsafe(built["problems"]))
        self.inventory.set_variable("all", "dr_discovered_at", raw.get("discovered_at"))
