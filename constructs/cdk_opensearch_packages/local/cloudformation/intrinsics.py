"""CloudFormation intrinsic functions, conditions, rules and reference analysis.

:class:`Intrinsics` resolves a template fragment against the stack's parameters, pseudo
parameters, mappings, conditions, resources (through a :class:`ResourceLookup`) and the exports
of other stacks. Supported: ``Ref``, ``Fn::GetAtt`` (list and ``"A.B"`` forms), ``Fn::Join``,
``Fn::Sub`` (string and ``[string, variables]`` forms, ``${!literal}``), ``Fn::Select``,
``Fn::Split``, ``Fn::If``/``Fn::Equals``/``Fn::And``/``Fn::Or``/``Fn::Not``/``Condition``,
``Fn::FindInMap``, ``Fn::ImportValue``, ``Fn::GetAZs``, ``Fn::Base64``, ``Fn::Cidr``,
``Fn::Length``, ``Fn::ToJsonString`` and ``AWS::NoValue``; in ``Rules`` also ``Fn::Contains``,
``Fn::EachMemberEquals`` and ``Fn::EachMemberIn``.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from cdk_opensearch_packages.local.aws.constants import ACCOUNT_ID, PARTITION, REGION, URL_SUFFIX

__all__ = [
    "NO_VALUE",
    "Intrinsics",
    "ResourceLookup",
    "TemplateError",
    "pseudo_parameters",
    "references",
    "stringify",
]

_SUB_PATTERN = re.compile(r"\$\{([^}]*)\}")
_AZ_SUFFIXES = ("a", "b", "c", "d", "e", "f")


class TemplateError(Exception):
    """A template cannot be processed (CloudFormation would reject it or fail the operation)."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


#: What ``{"Ref": "AWS::NoValue"}`` resolves to: the enclosing key or list item is removed.
NO_VALUE: Any = _NoValue()


class ResourceLookup(Protocol):
    """How intrinsic functions see the resources and the other stacks."""

    def ref(self, logical_id: str) -> Any:
        """The ``Ref`` value of a resource of this stack."""
        ...

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """An attribute (``Fn::GetAtt``) of a resource of this stack."""
        ...

    def import_value(self, name: str) -> Any:
        """The value exported by another stack under ``name``."""
        ...


def pseudo_parameters(stack_name: str, stack_id: str) -> dict[str, Any]:
    """The pseudo parameters of a stack in the local account and Region."""
    return {
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Region": REGION,
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": URL_SUFFIX,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


def references(value: Any) -> set[str]:
    """The names a fragment references through ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub``.

    Parameters and pseudo parameters are included; the caller keeps the resource names.
    """
    found: set[str] = set()
    _collect_references(value, found)
    return found


def _collect_references(value: Any, found: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_references(item, found)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
            return
        if key == "Fn::GetAtt":
            if isinstance(argument, str):
                found.add(argument.split(".", 1)[0])
            elif isinstance(argument, list) and argument and isinstance(argument[0], str):
                found.add(argument[0])
            return
        if key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            variables = argument[1] if isinstance(argument, list) and len(argument) > 1 else {}
            if isinstance(text, str):
                for name in _SUB_PATTERN.findall(text):
                    if not name.startswith("!") and name.split(".", 1)[0] not in variables:
                        found.add(name.split(".", 1)[0])
            _collect_references(variables, found)
            return
    for item in value.values():
        _collect_references(item, found)


def stringify(value: Any) -> Any:
    """Turn every scalar of a resolved fragment into a string, as CloudFormation does for the
    properties it sends to a custom resource (``true`` -> ``"true"``, ``3`` -> ``"3"``)."""
    if isinstance(value, dict):
        return {key: stringify(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringify(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_string(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TemplateError(f"{where}: expected a string, got {json.dumps(value, default=str)}")


def _as_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise TemplateError(f"{where}: expected a list, got {json.dumps(value, default=str)}")
    return value


class Intrinsics:
    """Resolves template fragments of one stack.

    :param parameters: resolved parameter values by name (lists for list types).
    :param pseudo: pseudo parameter values (see :func:`pseudo_parameters`).
    :param resources: the resource lookup (``Ref``/``GetAtt`` of resources, imports).
    :param resource_names: logical ids of the template's resources.
    :param conditions: the template's ``Conditions`` section.
    :param mappings: the template's ``Mappings`` section.
    """

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        resources: ResourceLookup,
        resource_names: set[str] | frozenset[str],
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self._parameters = dict(parameters)
        self._pseudo = dict(pseudo)
        self._resources = resources
        self._resource_names = frozenset(resource_names)
        self._condition_definitions = dict(conditions or {})
        self._mappings = dict(mappings or {})
        self._condition_values: dict[str, bool] = {}
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": lambda argument: self._evaluate_condition_function(
                "Fn::Equals", argument
            ),
            "Fn::And": lambda argument: self._evaluate_condition_function("Fn::And", argument),
            "Fn::Or": lambda argument: self._evaluate_condition_function("Fn::Or", argument),
            "Fn::Not": lambda argument: self._evaluate_condition_function("Fn::Not", argument),
            "Fn::FindInMap": self._find_in_map,
            "Fn::ImportValue": self._import_value,
            "Fn::GetAZs": self._get_azs,
            "Fn::Base64": self._base64,
            "Fn::Cidr": self._cidr,
            "Fn::Length": self._length,
            "Fn::ToJsonString": self._to_json_string,
        }

    # -- public ------------------------------------------------------------------------------

    @property
    def pseudo_names(self) -> frozenset[str]:
        """The names of the pseudo parameters."""
        return frozenset(self._pseudo)

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in ``value``; ``AWS::NoValue`` entries are dropped.

        :raises TemplateError: on a malformed function or an unknown name.
        """
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                function = self._functions.get(key)
                if function is not None:
                    return function(argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        return value

    def condition(self, name: str) -> bool:
        """The value of a named condition (evaluated once)."""
        if name not in self._condition_values:
            if name not in self._condition_definitions:
                raise TemplateError(f"Unresolved condition dependency {name} in Fn::If/Condition")
            self._condition_values[name] = self._evaluate_condition(
                self._condition_definitions[name]
            )
        return self._condition_values[name]

    def check_rules(self, rules: Mapping[str, Any]) -> None:
        """Evaluate the template's ``Rules`` like CloudFormation before any change.

        :raises TemplateError: with the assertion's description when an assertion fails.
        """
        for name, rule in rules.items():
            applies = True
            if "RuleCondition" in rule:
                applies = self._evaluate_rule_expression(rule["RuleCondition"])
            if not applies:
                continue
            for assertion in rule.get("Assertions", []):
                if not self._evaluate_rule_expression(assertion["Assert"]):
                    description = assertion.get("AssertDescription", "assertion failed")
                    raise TemplateError(f"Rule {name}: {description}")

    # -- conditions --------------------------------------------------------------------------

    def _evaluate_condition(self, expression: Any) -> bool:
        if isinstance(expression, bool):
            return expression
        if isinstance(expression, str) and expression.lower() in ("true", "false"):
            return expression.lower() == "true"
        if isinstance(expression, dict) and len(expression) == 1:
            ((key, argument),) = expression.items()
            if key == "Condition":
                return self.condition(_as_string(argument, "Condition"))
            return self._evaluate_condition_function(key, argument)
        raise TemplateError(f"Invalid condition: {json.dumps(expression, default=str)}")

    def _evaluate_condition_function(self, key: str, argument: Any) -> bool:
        if key == "Fn::Equals":
            left, right = _as_list(argument, key)
            return bool(_comparable(self.resolve(left)) == _comparable(self.resolve(right)))
        if key == "Fn::And":
            return all(self._evaluate_condition(item) for item in _as_list(argument, key))
        if key == "Fn::Or":
            return any(self._evaluate_condition(item) for item in _as_list(argument, key))
        if key == "Fn::Not":
            (inner,) = _as_list(argument, key)
            return not self._evaluate_condition(inner)
        raise TemplateError(f"Invalid condition function {key}")

    def _evaluate_rule_expression(self, expression: Any) -> bool:
        if isinstance(expression, dict) and len(expression) == 1:
            ((key, argument),) = expression.items()
            if key == "Fn::Contains":
                haystack, needle = _as_list(argument, key)
                values = [_comparable(item) for item in _as_list(self.resolve(haystack), key)]
                return _comparable(self.resolve(needle)) in values
            if key == "Fn::EachMemberEquals":
                members, expected = _as_list(argument, key)
                return all(
                    _comparable(item) == _comparable(self.resolve(expected))
                    for item in _as_list(self.resolve(members), key)
                )
            if key == "Fn::EachMemberIn":
                members, allowed = _as_list(argument, key)
                allowed_values = [
                    _comparable(item) for item in _as_list(self.resolve(allowed), key)
                ]
                return all(
                    _comparable(item) in allowed_values
                    for item in _as_list(self.resolve(members), key)
                )
            if key in ("Fn::And", "Fn::Or"):
                results = [self._evaluate_rule_expression(item) for item in _as_list(argument, key)]
                return all(results) if key == "Fn::And" else any(results)
            if key == "Fn::Not":
                (inner,) = _as_list(argument, key)
                return not self._evaluate_rule_expression(inner)
        return self._evaluate_condition(expression)

    # -- functions ---------------------------------------------------------------------------

    def _ref(self, argument: Any) -> Any:
        name = _as_string(argument, "Ref")
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._resource_names:
            return self._resources.ref(name)
        raise TemplateError(f"Template format error: Unresolved resource dependencies [{name}]")

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            items = _as_list(argument, "Fn::GetAtt")
            if len(items) != 2:
                raise TemplateError("Fn::GetAtt takes [LogicalId, Attribute]")
            logical_id = _as_string(items[0], "Fn::GetAtt")
            attribute = _as_string(self.resolve(items[1]), "Fn::GetAtt")
        if logical_id not in self._resource_names:
            raise TemplateError(
                f"Template error: instance of Fn::GetAtt references undefined resource {logical_id}"
            )
        return self._resources.get_att(logical_id, attribute)

    def _join(self, argument: Any) -> str:
        delimiter, items = _as_list(argument, "Fn::Join")
        values = _as_list(self.resolve(items), "Fn::Join")
        return _as_string(delimiter, "Fn::Join").join(
            _as_string(item, "Fn::Join") for item in values if item is not NO_VALUE
        )

    def _sub(self, argument: Any) -> str:
        variables: dict[str, Any] = {}
        if isinstance(argument, str):
            text = argument
        else:
            items = _as_list(argument, "Fn::Sub")
            text = _as_string(items[0], "Fn::Sub")
            variables = self.resolve(items[1]) if len(items) > 1 else {}
            if not isinstance(variables, dict):
                raise TemplateError("Fn::Sub variables must be a map")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_string(variables[name], "Fn::Sub")
            if "." in name and name.split(".", 1)[0] in self._resource_names:
                logical_id, attribute = name.split(".", 1)
                return _as_string(self._resources.get_att(logical_id, attribute), "Fn::Sub")
            value = self._ref(name)
            if isinstance(value, list):
                return ",".join(_as_string(item, "Fn::Sub") for item in value)
            return _as_string(value, "Fn::Sub")

        return _SUB_PATTERN.sub(replace, text)

    def _select(self, argument: Any) -> Any:
        index, items = _as_list(argument, "Fn::Select")
        position = int(_as_string(self.resolve(index), "Fn::Select"))
        values = _as_list(self.resolve(items), "Fn::Select")
        if not 0 <= position < len(values):
            raise TemplateError(f"Fn::Select: index {position} out of bounds ({len(values)} items)")
        return values[position]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = _as_list(argument, "Fn::Split")
        return _as_string(self.resolve(text), "Fn::Split").split(_as_string(delimiter, "Fn::Split"))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = _as_list(argument, "Fn::If")
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, argument: Any) -> Any:
        items = _as_list(argument, "Fn::FindInMap")
        if len(items) not in (3, 4):
            raise TemplateError("Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]")
        name, top, second = (_as_string(self.resolve(item), "Fn::FindInMap") for item in items[:3])
        try:
            return self._mappings[name][top][second]
        except KeyError:
            if len(items) == 4 and isinstance(items[3], dict) and "DefaultValue" in items[3]:
                return self.resolve(items[3]["DefaultValue"])
            raise TemplateError(
                f"Fn::FindInMap: no value for [{name}, {top}, {second}] in Mappings"
            ) from None

    def _import_value(self, argument: Any) -> Any:
        return self._resources.import_value(_as_string(self.resolve(argument), "Fn::ImportValue"))

    def _get_azs(self, argument: Any) -> list[str]:
        region = self.resolve(argument) or REGION
        return [f"{region}{suffix}" for suffix in _AZ_SUFFIXES[:3]]

    def _base64(self, argument: Any) -> str:
        text = _as_string(self.resolve(argument), "Fn::Base64")
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def _cidr(self, argument: Any) -> list[str]:
        block, count, bits = (self.resolve(item) for item in _as_list(argument, "Fn::Cidr"))
        network = ipaddress.ip_network(_as_string(block, "Fn::Cidr"), strict=False)
        prefix = network.max_prefixlen - int(_as_string(bits, "Fn::Cidr"))
        subnets = network.subnets(new_prefix=prefix)
        return [str(next(subnets)) for _ in range(int(_as_string(count, "Fn::Cidr")))]

    def _length(self, argument: Any) -> int:
        return len(_as_list(self.resolve(argument), "Fn::Length"))

    def _to_json_string(self, argument: Any) -> str:
        return json.dumps(self.resolve(argument), separators=(",", ":"))


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value
