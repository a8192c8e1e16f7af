# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask the operator at the controller's terminal for an explicit answer, with a timeout.

ansible.builtin.pause cannot do this: with a prompt it has no timeout, and without a terminal it
returns an empty answer at once. This action asks the controller process (the only one that owns
the terminal) through Ansible's display, reads one line with a deadline, and says whether the answer
approves, refuses, timed out, or could not be asked at all.
"""

import time

from ansible.errors import AnsibleError
from ansible.errors import AnsiblePromptInterrupt
from ansible.errors import AnsiblePromptNoninteractive
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("prompt", "expected", "timeout"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(
            argument_spec={
                "prompt": {"type": "str", "required": True},
                "expected": {"type": "list", "elements": "str", "required": True},
                "timeout": {"type": "int", "default": 1800},
            }
        )
        expected = {e.strip().lower() for e in args["expected"] if e and e.strip()}
        if not expected:
            raise AnsibleError("approval_prompt needs at least one non-empty expected answer")
        timeout = max(1, args["timeout"])
        result.update(changed=False, interactive=True, timed_out=False, approved=False, answer="")
        started = time.monotonic()
        try:
            answer = display.prompt_until(f"{args['prompt']}: ", private=False, seconds=timeout)
            if isinstance(answer, BaseException):
                raise answer
        except AnsiblePromptNoninteractive:
            result.update(interactive=False,
                          msg="No terminal is attached to ansible-playbook, so nobody can answer this prompt")
            return result
        except AnsiblePromptInterrupt:
            result.update(msg="The operator interrupted the prompt (Ctrl+C): treated as a refusal")
            return result
        elapsed = time.monotonic() - started
        answer = to_text(answer).strip()
        result["answer"] = answer
        if not answer and elapsed >= timeout - 0.5:
            result.update(timed_out=True, msg=f"No answer within {timeout} seconds")
        elif answer.lower() in expected:
            result.update(approved=True, msg="Approved")
        else:
            result.update(msg=f"Answer {answer!r} is not one of the approving answers: refused")
        result["elapsed_seconds"] = round(elapsed, 1)
        return result
