"""What the server asks of a decorated run(): whether it is decorated, and its schemas."""

from ._registry import ATTR, base_function


def _record(func):
    return getattr(base_function(func), ATTR, None) or {}


def is_schema_decorated(func):
    record = _record(func)
    return "input" in record or "output" in record


def get_input_schema(func):
    return _record(func).get("input", {})


def get_output_schema(func):
    return _record(func).get("output", {})


def get_supported_versions(func):
    return sorted(_record(func).get("versions", {"2.0", "3.0", "3.1"}))
