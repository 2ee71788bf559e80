"""Helpers of the provider stack tests: the synthesized stack, and an evaluator of the few
intrinsic functions its policies and conditions use (as CloudFormation evaluates them)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk
from aws_cdk import assertions

from cdk_opensearch_packages.provider_stack import OpenSearchPackageProviderStack

REPOSITORY = Path(__file__).resolve().parents[3]
EXAMPLES = REPOSITORY / "examples" / "cloudformation"


@dataclass
class ProviderTemplate:
    """A synthesized provider stack and its template."""

    stack: OpenSearchPackageProviderStack
    template: assertions.Template

    @property
    def json(self) -> dict[str, Any]:
        """The template as a dict."""
        rendered: dict[str, Any] = self.template.to_json()
        return rendered

    def logical_id(self, element: Any) -> str:
        """The logical id of a construct's primary resource (or of a CfnElement)."""
        while not isinstance(element, aws_cdk.CfnElement):
            element = element.node.default_child
        return str(self.stack.resolve(self.stack.get_logical_id(element)))

    def resource(self, element: Any) -> dict[str, Any]:
        """The template entry of a construct's primary resource."""
        return dict(self.json["Resources"][self.logical_id(element)])


def build_provider_template(**kwargs: Any) -> ProviderTemplate:
    """Synthesize an :class:`OpenSearchPackageProviderStack` in a fresh app."""
    app = aws_cdk.App()
    stack = OpenSearchPackageProviderStack(app, "OpenSearchPackageProvider", **kwargs)
    return ProviderTemplate(stack, assertions.Template.from_stack(stack))


def load_provider_app() -> ModuleType:
    """Import the repository's ``provider_app.py`` (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("provider_app", REPOSITORY / "provider_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def list_parameter(value: str) -> list[str]:
    """A ``CommaDelimitedList`` value as CloudFormation gives it to ``Ref`` (``""`` -> ``[""]``)."""
    return [item.strip() for item in value.split(",")]


def evaluate(expression: Any, parameters: dict[str, Any], conditions: dict[str, Any]) -> Any:
    """Evaluate ``Ref`` (parameters), ``Fn::Join``, ``Fn::Split``, ``Fn::Equals``, ``Fn::Not``
    and ``Condition`` the way CloudFormation does; anything else is an error here."""
    if isinstance(expression, list):
        return [evaluate(item, parameters, conditions) for item in expression]
    if not isinstance(expression, dict):
        return expression
    if len(expression) != 1:
        return {key: evaluate(value, parameters, conditions) for key, value in expression.items()}
    ((function, argument),) = expression.items()
    if function == "Ref":
        return parameters[argument]
    if function == "Condition":
        return evaluate(conditions[argument], parameters, conditions)
    if function == "Fn::Join":
        delimiter, items = argument
        assert isinstance(delimiter, str), "Fn::Join takes a literal delimiter"
        return delimiter.join(evaluate(items, parameters, conditions))
    if function == "Fn::Split":
        delimiter, text = argument
        assert isinstance(delimiter, str), "Fn::Split takes a literal delimiter"
        return str(evaluate(text, parameters, conditions)).split(delimiter)
    if function == "Fn::Equals":
        left, right = evaluate(argument, parameters, conditions)
        return left == right
    if function == "Fn::Not":
        (inner,) = evaluate(argument, parameters, conditions)
        return not inner
    if function.startswith("Fn::"):
        raise AssertionError(f"unexpected intrinsic {function} in {expression}")
    return {key: evaluate(value, parameters, conditions) for key, value in expression.items()}
