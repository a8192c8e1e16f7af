# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse an operator's bad variables before anything changes (the operator_vars module's action).

Every extra variable (-e name=value, -e '{...}', -e @file, an AWX survey) is operator input. A name the
playbook does not take is refused with the nearest valid name, ``environment`` is refused naming ``env``
(Ansible hands the play ``[]`` for it), and each value is checked for its type, accepted values and range.
Extra variables are read from the command line the way Ansible reads them, because the play itself cannot
tell an extra variable from any other, and sees ``environment`` as the reserved keyword.
"""

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import load_extra_vars

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import operator_specs
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.controller import controller_facts

_MISSING = object()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(("playbook",))

    def _extra_vars(self):
        try:
            return dict(load_extra_vars(self._loader))
        except AnsibleError as e:
            raise AnsibleError(f"operator_vars could not read the extra variables: {e}") from e

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(
            argument_spec={"playbook": {"type": "str", "required": True,
                                        "choices": sorted(operator_specs.PLAYBOOK_SPECS)}},
        )
        playbook = args["playbook"]
        spec = operator_specs.PLAYBOOK_SPECS[playbook]
        extra = self._extra_vars()
        errors = operator_specs.unknown_name_errors(f"{playbook}.yml", spec, extra)
        values = {}
        for name in spec:
            raw = task_vars.get(name, _MISSING)
            if raw is _MISSING:
                continue
            try:
                values[name] = self._templar.template(raw)
            except AnsibleError as e:
                errors.append(f"{name}: its value could not be read ({e}); fix: pass a plain value")
        value_errors, normalized = operator_specs.validate_values(spec, values)
        errors.extend(value_errors)
        result.update(
            changed=False,
            playbook=playbook,
            given=sorted(str(n) for n in extra if not operator_specs.is_internal(n)),
            operator_vars=normalized,
            controller=controller_facts(),
            errors=errors,
        )
        if errors:
            result["failed"] = True
            numbered = " | ".join(f"{i}) {e}" for i, e in enumerate(errors, start=1))
            result["msg"] = (f"Refused before any change: {len(errors)} problem(s) with the variables of "
                             f"{playbook}.yml (docs/operations.md lists them): {numbered}")
        return result
