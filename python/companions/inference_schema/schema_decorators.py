"""`@input_schema` and `@output_schema`: each records a swagger fragment for the function, and
input_schema turns the JSON value a parameter receives into its type (numpy array, DataFrame, nested
values) before the function runs. An input that does not fit raises, inside run()."""

import copy
import functools
import inspect

from ._registry import base_function, schemas
from .parameter_types.abstract_parameter_type import AbstractParameterType


def _deserialize(value, param_type):
    kind = param_type.sample_data_type
    if kind is dict and hasattr(param_type, "sample_data_type_map"):
        if not isinstance(value, dict):
            raise ValueError(f"Invalid input data type to parse. Expected: {kind} but got {type(value)}")
        for key, inner in param_type.sample_data_type_map.items():
            if key in value:
                value[key] = _deserialize(value[key], inner)
        return value
    if kind in (list, tuple) and hasattr(param_type, "sample_data_type_list"):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"Invalid input data type to parse. Expected: {kind} but got {type(value)}")
        inner = param_type.sample_data_type_list
        return [_deserialize(v, inner[0]) for v in value] if inner else value
    return value if isinstance(value, kind) else param_type.deserialize_input(value)


def input_schema(param_name, param_type, convert_to_provided_type=True, optional=False):
    if not isinstance(param_type, AbstractParameterType):
        raise Exception("Error, provided param_type must be a subclass of the AbstractParameterType.")
    fragment = param_type.input_to_swagger()

    def decorate(func):
        base = base_function(func)
        arg_names = list(inspect.signature(base).parameters)
        if param_name not in arg_names:
            raise Exception(f'Error, provided param_name "{param_name}" is not in the decorated function.')
        record = schemas(func)
        versions = record.setdefault("versions", set(param_type.supported_versions()))
        versions &= set(param_type.supported_versions())
        schema = record.setdefault(
            "input", {"type": "object", "properties": {n: {} for n in arg_names}, "example": {n: "" for n in arg_names}}
        )
        item = copy.deepcopy(fragment)
        schema["example"][param_name] = item.pop("example", None)
        schema["properties"][param_name] = item

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if convert_to_provided_type:
                if param_name in kwargs:
                    if not (optional and not kwargs[param_name]):
                        kwargs[param_name] = _deserialize(kwargs[param_name], param_type)
                elif not optional:
                    args = list(args)
                    position = arg_names.index(param_name)
                    args[position] = _deserialize(args[position], param_type)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def output_schema(output_type):
    if not isinstance(output_type, AbstractParameterType):
        raise Exception("Error, provided param_type must be a subclass of the AbstractParameterType.")
    fragment = output_type.input_to_swagger()

    def decorate(func):
        record = schemas(func)
        if "output" in record:
            raise Exception(f"Error, output schema already defined for function: {base_function(func).__qualname__}.")
        record["output"] = fragment
        versions = record.setdefault("versions", set(output_type.supported_versions()))
        versions &= set(output_type.supported_versions())

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)

        return wrapper

    return decorate
