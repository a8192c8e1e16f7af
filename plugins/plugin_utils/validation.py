# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tag validation: every problem names the resource ARN, the tag, what is wrong and how to fix it.

The tag schema is documented for application teams in docs/tag_schema.md; keep both in step.
"""

import difflib
import re
from urllib.parse import urlsplit

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import PRIORITIES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DEPENDENCIES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENABLED
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_HEALTH_URL
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_PRIORITY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_RPO
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_RTO
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_STRATEGY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_WAVE

REQUIRED_TAGS = (TAG_ENABLED, TAG_WAVE, TAG_CUSTOMER, TAG_ENVIRONMENT)
DEFAULT_PRIORITY = "medium"
# More waves than this is a typo (an ID or a date), not a plan.
MAX_WAVE = 1000
# Minutes of RTO/RPO targets: a year at most.
MAX_MINUTES = 525600
# Only ASCII digits: str.isdigit() also accepts superscripts and other scripts' digits.
_WHOLE = re.compile(r"[0-9]+")
# The strategies of the technologies with an adapter; other technologies' strategies are checked by their adapter.
STRATEGIES = {"drs": ("launch-into-instance", "new-instance")}
# Tags the collection itself sets on resources (never an application team's typo).
_OWN_TAGS = ("dr:failback-target", "dr:failback-execution-id", "dr:execution-id", "dr:drill", "dr:role")
SCHEMA_TAGS = (TAG_ENABLED, TAG_WAVE, TAG_PRIORITY, TAG_STRATEGY, TAG_RTO, TAG_RPO, TAG_HEALTH_URL, TAG_DEPENDENCIES,
               TAG_CUSTOMER, TAG_ENVIRONMENT)


def problem(arn, tag, value, what, fix):
    """One validation problem, as a dict that reads well in JSON and in a log line."""
    shown = "(missing)" if value is None else repr(value)
    return {
        "arn": arn,
        "tag": tag,
        "value": value,
        "problem": what,
        "fix": fix,
        "message": f"{arn}: tag {tag}={shown}: {what}; fix: {fix}",
    }


def _text(value):
    return "" if value is None else str(value).strip()


def parse_enabled(value):
    """True, False, or None when ``value`` is not a boolean word."""
    norm = _text(value).lower()
    if norm == "true":
        return True
    if norm == "false":
        return False
    return None


def parse_wave(value):
    """The wave as an int from 1 to MAX_WAVE, or None."""
    if isinstance(value, bool):
        return None
    text = _text(value)
    if not _WHOLE.fullmatch(text):
        return None
    wave = int(text)
    return wave if 1 <= wave <= MAX_WAVE else None


def parse_minutes(value):
    """A non-negative number of minutes, or None."""
    text = _text(value).lower()
    for suffix in ("min", "m"):
        if text.endswith(suffix):
            text = text[:-len(suffix)].strip()
            break
    if not _WHOLE.fullmatch(text):
        return None
    minutes = int(text)
    return minutes if minutes <= MAX_MINUTES else None


def parse_dependencies(value):
    """The comma-separated names of dr:dependencies, stripped, empty entries dropped, order kept."""
    if not value:
        return []
    names = []
    for name in str(value).split(","):
        name = name.strip()
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def health_url_problem(value):
    """Why a dr:health-check-url is unusable, or None when it is an http(s) URL or tcp://host:port."""
    text = _text(value)
    if not text:
        return "is empty"
    if any(c.isspace() for c in text):
        return "contains whitespace"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        return f"is not a URL ({e})"
    if parts.scheme not in ("http", "https", "tcp"):
        return "must start with https://, http:// or tcp://"
    if not parts.hostname:
        return "has no host name"
    if parts.scheme == "tcp" and port is None:
        return "needs a port (tcp://host:port)"
    return None


def _near_schema_tag(key):
    """The schema tag a tag key was probably meant to be (a wrong case or a typo of a dr: tag), or None."""
    if key in SCHEMA_TAGS or key in _OWN_TAGS:
        return None
    lowered = key.strip().lower()
    for tag in SCHEMA_TAGS:
        if lowered == tag.lower():
            return tag
    if lowered.startswith("dr:"):
        close = difflib.get_close_matches(lowered, [t for t in SCHEMA_TAGS if t.startswith("dr:")], n=1, cutoff=0.75)
        return close[0] if close else None
    return None


def validate_tags(arn, tags, skip=(), technology=None):
    """Problems with the DR tags of one resource (not those that need other resources to judge).

    ``skip`` names tags already reported otherwise (for example a DRS tag conflict), so that one
    cause is not reported twice.
    """
    problems = []
    tags = tags or {}
    for tag in REQUIRED_TAGS:
        if tag in skip:
            continue
        value = tags.get(tag)
        if value is None or not str(value).strip():
            problems.append(problem(arn, tag, value, "required tag is missing or empty",
                                    f"add the tag {tag} ({_REQUIRED_HINTS[tag]})"))
    enabled = tags.get(TAG_ENABLED)
    if TAG_ENABLED not in skip and enabled is not None and str(enabled).strip() and parse_enabled(enabled) is None:
        problems.append(problem(arn, TAG_ENABLED, enabled, "must be true or false",
                                f"set {TAG_ENABLED}=true to protect the resource, or false to leave it out"))
    wave = tags.get(TAG_WAVE)
    if TAG_WAVE not in skip and wave is not None and str(wave).strip() and parse_wave(wave) is None:
        problems.append(problem(arn, TAG_WAVE, wave, f"is not an integer from 1 to {MAX_WAVE}",
                                f"set {TAG_WAVE} to the wave number, for example {TAG_WAVE}=1"))
    priority = tags.get(TAG_PRIORITY)
    if TAG_PRIORITY not in skip and priority is not None and _text(priority).lower() not in PRIORITIES:
        problems.append(problem(arn, TAG_PRIORITY, priority, f"must be one of {', '.join(PRIORITIES)}",
                                f"set {TAG_PRIORITY} to one of {', '.join(PRIORITIES)}, or remove it "
                                f"(the default is {DEFAULT_PRIORITY})"))
    for tag in (TAG_RTO, TAG_RPO):
        value = tags.get(tag)
        if tag not in skip and value is not None and parse_minutes(value) is None:
            problems.append(problem(arn, tag, value, f"must be a whole number of minutes, 0 to {MAX_MINUTES}",
                                    f"set {tag} to minutes, for example {tag}=30"))
    url = tags.get(TAG_HEALTH_URL)
    if TAG_HEALTH_URL not in skip and url is not None:
        why = health_url_problem(url)
        if why:
            problems.append(problem(arn, TAG_HEALTH_URL, url, why,
                                    f"set {TAG_HEALTH_URL} to an https://, http:// or tcp://host:port address, "
                                    "for example https://app.example.com/health, or remove it"))
    strategy = tags.get(TAG_STRATEGY)
    accepted = STRATEGIES.get(technology)
    if TAG_STRATEGY not in skip and strategy is not None and accepted and _text(strategy).lower() not in accepted:
        problems.append(problem(arn, TAG_STRATEGY, strategy, f"must be one of {', '.join(accepted)} for {technology}",
                                f"set {TAG_STRATEGY} to one of {', '.join(accepted)}, or remove it "
                                f"(the default is {accepted[0]})"))
    for key in sorted(tags):
        meant = _near_schema_tag(str(key))
        if meant and meant not in tags:
            problems.append(problem(arn, key, tags[key], f"is not a tag of the DR schema; {meant!r} was probably meant "
                                    "(tag keys are case-sensitive)",
                                    f"rename the tag {key!r} to {meant!r}"))
    return problems


_REQUIRED_HINTS = {
    TAG_ENABLED: "true to protect the resource",
    TAG_WAVE: f"the wave number, 1 to {MAX_WAVE}",
    TAG_CUSTOMER: "the customer identifier, for example acme",
    TAG_ENVIRONMENT: "for example production",
}


def conflict_problem(arn, tag, server_value, instance_value, instance_id):
    """A DRS source server and its source EC2 instance disagree on a DR tag: report, never guess."""
    return problem(
        arn, tag, server_value,
        f"the DRS source server says {tag}={server_value!r} but its source EC2 instance {instance_id} "
        f"says {tag}={instance_value!r}",
        f"make the two agree: set {tag} to the same value on the source server and on {instance_id}, "
        f"or remove it from one of them",
    )


def dependency_problems(arn, wave, dependencies, resolve):
    """Problems with dr:dependencies: unknown names and dependencies that recover in a later wave.

    ``resolve(name)`` returns the ``(host_name, wave)`` pairs of the resources ``name`` designates
    (empty when it designates none).
    """
    problems = []
    raw = ", ".join(dependencies)
    for name in dependencies:
        found = resolve(name)
        if not found:
            problems.append(problem(
                arn, TAG_DEPENDENCIES, raw, f"names {name!r}, which is not a DR-enabled resource of this customer",
                f"use the name of a DR-enabled resource (its inventory host name, Name tag or ARN), or remove {name!r}",
            ))
            continue
        for host, dep_wave in found:
            if dep_wave is None or wave is None or dep_wave <= wave:
                continue
            problems.append(problem(
                arn, TAG_DEPENDENCIES, raw,
                f"depends on {host}, which recovers in wave {dep_wave}, after this resource's wave {wave}",
                f"move {host} to wave {wave} or earlier ({TAG_WAVE}), "
                f"or move this resource to wave {dep_wave} or later",
            ))
    return problems
