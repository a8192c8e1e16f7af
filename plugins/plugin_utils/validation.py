# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tag validation: every problem names the resource ARN, the tag, what is wrong and how to fix it.

The tag schema is documented for application teams in docs/tag_schema.md; keep both in step.
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import PRIORITIES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DEPENDENCIES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENABLED
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_PRIORITY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_RPO
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_RTO
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_WAVE

REQUIRED_TAGS = (TAG_ENABLED, TAG_WAVE, TAG_CUSTOMER, TAG_ENVIRONMENT)
DEFAULT_PRIORITY = "medium"


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


def parse_enabled(value):
    """True, False, or None when ``value`` is not a boolean word."""
    norm = (value or "").strip().lower()
    if norm == "true":
        return True
    if norm == "false":
        return False
    return None


def parse_wave(value):
    """The wave as an int >= 1, or None."""
    try:
        text = str(value).strip()
        if not text.isdigit():
            return None
        wave = int(text)
    except (TypeError, ValueError):
        return None
    return wave if wave >= 1 else None


def parse_minutes(value):
    """A non-negative number of minutes, or None."""
    text = str(value).strip().lower()
    if text.endswith("m"):
        text = text[:-1].strip()
    if text.endswith("min"):
        text = text[:-3].strip()
    return int(text) if text.isdigit() else None


def parse_dependencies(value):
    """The comma-separated names of dr:dependencies, stripped, empty entries dropped, order kept."""
    if not value:
        return []
    return [name.strip() for name in str(value).split(",") if name.strip()]


def validate_tags(arn, tags, skip=()):
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
        problems.append(problem(arn, TAG_WAVE, wave, "must be a whole number, 1 or more",
                                f"set {TAG_WAVE} to the wave number, for example {TAG_WAVE}=1"))
    priority = tags.get(TAG_PRIORITY)
    if TAG_PRIORITY not in skip and priority is not None and priority.strip().lower() not in PRIORITIES:
        problems.append(problem(arn, TAG_PRIORITY, priority, f"must be one of {', '.join(PRIORITIES)}",
                                f"set {TAG_PRIORITY} to one of {', '.join(PRIORITIES)}, or remove it "
                                f"(the default is {DEFAULT_PRIORITY})"))
    for tag in (TAG_RTO, TAG_RPO):
        value = tags.get(tag)
        if tag not in skip and value is not None and parse_minutes(value) is None:
            problems.append(problem(arn, tag, value, "must be a whole number of minutes",
                                    f"set {tag} to minutes, for example {tag}=30"))
    return problems


_REQUIRED_HINTS = {
    TAG_ENABLED: "true to protect the resource",
    TAG_WAVE: "the wave number, 1 or more",
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
