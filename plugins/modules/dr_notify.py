#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dr_notify
short_description: Publish DR run notifications (started, gate waiting, wave completed, failed, completed) to SNS
version_added: 0.1.0
description:
  - Publishes one JSON message per run event to an SNS topic in the hub account, with message attributes
    C(event), C(customer), C(execution_id) (and C(environment), C(operation) when known), so subscribers
    can filter with SNS subscription filter policies.
  - The topic is O(topic_arn), or the topic named by O(topic_name). The default C(enterprise-dr-{customer}) gives
    one topic per customer; set O(topic_name=enterprise-dr-notifications) for one shared topic.
    C(playbooks/setup_hub.yml) creates the topics.
  - A C(gate_waiting) message tells the approver how to decide (the C(playbooks/approve.yml) command lines);
    a C(failed) message says what failed and what to do.
  - Check mode builds and returns the message without publishing it.
options:
  event:
    description: The run event.
    type: str
    required: true
    choices: [started, resumed, gate_waiting, gate_decided, wave_completed, phase_completed, failed, completed,
              cancelled]
  execution_id:
    description: The run's execution ID.
    type: str
    required: true
  customer:
    description: The customer of the run.
    type: str
    required: true
  environment:
    description: The environment of the run.
    type: str
    aliases: [env]
  operation:
    description: The operation of the run.
    type: str
    choices: [failover, drill, failback]
  topic_arn:
    description: The SNS topic to publish to. Mutually exclusive with O(topic_name).
    type: str
  topic_name:
    description:
      - The topic's name in the module's account and region; C({customer}) is replaced by O(customer).
    type: str
    default: enterprise-dr-{customer}
  phase:
    description: The phase the event belongs to.
    type: str
  wave:
    description: The wave the event belongs to.
    type: int
  gate:
    description: The approval gate (C(gate_waiting), C(gate_decided)).
    type: str
  timeout_minutes:
    description: How long the gate waits before it times out (C(gate_waiting)).
    type: int
  text:
    description: A human-readable summary; a default one is built from the event.
    type: str
  failed_resources:
    description: What failed (C(failed)), each a dict with at least C(resource) and C(error).
    type: list
    elements: dict
  remediation:
    description: What to do about a failure.
    type: str
  details:
    description: More structured facts for subscribers (counts, durations, RTO).
    type: dict
  approve_playbook:
    description: How operators call the approval playbook, used in C(gate_waiting) messages.
    type: str
    default: ansible-playbook playbooks/approve.yml
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Tell the approvers that the run waits at a gate
  enterprise_dr.orchestration.dr_notify:
    event: gate_waiting
    execution_id: "{{ dr_execution_id }}"
    customer: "{{ customer }}"
    environment: "{{ env | default(omit) }}"
    operation: failover
    gate: before-activate
    timeout_minutes: 30

- name: Report a failed wave on the shared topic
  enterprise_dr.orchestration.dr_notify:
    event: failed
    execution_id: "{{ dr_execution_id }}"
    customer: acme
    topic_name: enterprise-dr-notifications
    wave: 2
    failed_resources:
      - resource: s-1234567890abcdef0
        error: "Launch into i-0abc failed: the target is running"
    remediation: Stop the target instance and run the failover playbook again; it resumes the same execution.
"""

RETURN = r"""
message_id:
  description: The SNS message ID (not returned in check mode).
  returned: when published
  type: str
topic_arn:
  description: The topic the message was (or would be) published to.
  returned: always
  type: str
message:
  description: The JSON message body.
  returned: always
  type: dict
  contains:
    event:
      description: The event.
      type: str
    text:
      description: The human-readable summary.
      type: str
    how_to_decide:
      description: For C(gate_waiting), the approve and cancel command lines.
      type: dict
message_attributes:
  description: The SNS message attributes set for filtering.
  returned: always
  type: dict
"""

import datetime
import json

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import module_client
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule

EVENTS = ["started", "resumed", "gate_waiting", "gate_decided", "wave_completed", "phase_completed", "failed",
          "completed", "cancelled"]


def default_text(p, scope, how_to_decide):
    run = f"{p['operation'] or 'DR run'} {p['execution_id']} for {scope}"
    where = " ".join(x for x in (f"phase {p['phase']}" if p["phase"] else "",
                                 f"wave {p['wave']}" if p["wave"] is not None else "") if x)
    event = p["event"]
    if event == "started":
        return f"Started {run}."
    if event == "resumed":
        return f"Resumed {run}."
    if event == "gate_waiting":
        timeout = f" It times out in {p['timeout_minutes']} minutes." if p["timeout_minutes"] else ""
        return (f"{run} waits for approval at gate {p['gate']}{' (' + where + ')' if where else ''}.{timeout} "
                f"Approve: {how_to_decide['approve']}  Cancel: {how_to_decide['cancel']}")
    if event == "gate_decided":
        return f"Gate {p['gate']} of {run} was decided."
    if event in ("wave_completed", "phase_completed"):
        return f"{run}: {where or 'step'} completed."
    if event == "failed":
        names = ", ".join(str(r.get("name") or r.get("resource")) for r in p["failed_resources"] or [])
        what = f" Failed: {names}." if names else ""
        todo = f" What to do: {p['remediation']}" if p["remediation"] else ""
        return f"{run} failed{' in ' + where if where else ''}.{what}{todo}"
    if event == "cancelled":
        return f"{run} was cancelled."
    return f"{run} completed."


def build_message(p):
    scope = p["customer"] + (f"/{p['environment']}" if p["environment"] else "")
    how_to_decide = None
    if p["event"] == "gate_waiting":
        base = f"{p['approve_playbook']} -e execution_id={p['execution_id']}"
        how_to_decide = {"approve": f"{base} -e decision=approve", "cancel": f"{base} -e decision=cancel"}
    message = {
        "event": p["event"],
        "at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution_id": p["execution_id"],
        "customer": p["customer"],
        "environment": p["environment"],
        "operation": p["operation"],
        "phase": p["phase"],
        "wave": p["wave"],
        "gate": p["gate"],
        "text": p["text"] or default_text(p, scope, how_to_decide),
    }
    if how_to_decide:
        message["how_to_decide"] = how_to_decide
        message["timeout_minutes"] = p["timeout_minutes"]
    if p["failed_resources"]:
        message["failed_resources"] = p["failed_resources"]
    if p["remediation"]:
        message["remediation"] = p["remediation"]
    if p["details"]:
        message["details"] = p["details"]
    return {k: v for k, v in message.items() if v is not None}


def attributes(p):
    attrs = {"event": p["event"], "customer": p["customer"], "execution_id": p["execution_id"]}
    if p["environment"]:
        attrs["environment"] = p["environment"]
    if p["operation"]:
        attrs["operation"] = p["operation"]
    return attrs


def find_topic(client, name):
    paginator = client.get_paginator("list_topics")
    for page in paginator.paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
    return None


def main():
    argument_spec = dict(
        event=dict(type="str", required=True, choices=EVENTS),
        execution_id=dict(type="str", required=True),
        customer=dict(type="str", required=True),
        environment=dict(type="str", aliases=["env"]),
        operation=dict(type="str", choices=["failover", "drill", "failback"]),
        topic_arn=dict(type="str"),
        topic_name=dict(type="str", default="enterprise-dr-{customer}"),
        phase=dict(type="str"),
        wave=dict(type="int"),
        gate=dict(type="str"),
        timeout_minutes=dict(type="int"),
        text=dict(type="str"),
        failed_resources=dict(type="list", elements="dict"),
        remediation=dict(type="str"),
        details=dict(type="dict"),
        approve_playbook=dict(type="str", default="ansible-playbook playbooks/approve.yml"),
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True,
                      required_if=[("event", "gate_waiting", ["gate"])])
    p = module.params
    message = build_message(p)
    attrs = attributes(p)
    client = module_client(module, "sns")
    topic_arn = p["topic_arn"]
    try:
        if not topic_arn:
            name = p["topic_name"].replace("{customer}", p["customer"])
            topic_arn = find_topic(client, name)
            if not topic_arn:
                module.fail_json(msg=f"SNS topic {name} does not exist in {module.region}; create it with "
                                     "playbooks/setup_hub.yml or pass topic_arn", message=message)
        result = {"changed": True, "topic_arn": topic_arn, "message": message, "message_attributes": attrs}
        if module.check_mode:
            module.exit_json(**result)
        subject = f"[EnterpriseDR] {p['customer']} {p['event'].replace('_', ' ')}: {p['execution_id']}"[:99]
        response = client.publish(
            TopicArn=topic_arn, Subject=subject, Message=json.dumps(message, sort_keys=True),
            MessageAttributes={k: {"DataType": "String", "StringValue": str(v)} for k, v in attrs.items()},
        )
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"could not publish the {p['event']} notification of {p['execution_id']} "
                                    f"to {topic_arn or p['topic_name']}")
    result["message_id"] = response["MessageId"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
