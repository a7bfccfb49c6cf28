"""A parameter that is a plain Python value (a number, a string, a list or dict, possibly holding other
parameter types, which are parsed in turn)."""

import base64
import datetime

from .abstract_parameter_type import AbstractParameterType


def swagger_for(sample):
    """The swagger fragment (with its example) of a plain Python sample."""
    if isinstance(sample, AbstractParameterType):
        return sample.input_to_swagger()
    kind = type(sample)
    if kind is bool:
        return {"type": "boolean", "example": sample}
    if kind is int:
        return {"type": "integer", "format": "int64", "example": sample}
    if kind is float:
        return {"type": "number", "format": "double", "example": sample}
    if kind is str:
        return {"type": "string", "example": sample}
    if kind in (bytes, bytearray):
        return {"type": "string", "format": "byte", "example": base64.b64encode(sample).decode("utf-8")}
    if kind is datetime.datetime:
        moment = sample if sample.tzinfo else sample.replace(tzinfo=datetime.timezone.utc)
        return {"type": "string", "format": "date-time", "example": moment.strftime("%Y-%m-%dT%H:%M:%S.%f%z")}
    if kind is datetime.date:
        return {"type": "string", "format": "date", "example": sample.strftime("%Y-%m-%d")}
    if kind is datetime.time:
        moment = sample if sample.tzinfo else sample.replace(tzinfo=datetime.timezone.utc)
        return {"type": "string", "format": "time", "example": moment.strftime("%H:%M:%S.%f%z")}
    if kind in (list, tuple, range):
        items, example = {"type": "object"}, []
        for value in sample:
            if type(value) is not type(sample[0]):
                raise Exception("Error, OpenAPI 2.x does not support mixed type in array.")
            items = dict(swagger_for(value))
            example.append(items.pop("example"))
        return {"type": "array", "items": items, "example": example}
    if kind is dict:
        properties, example = {}, {}
        for key, value in sample.items():
            item = dict(swagger_for(value))
            example[key] = item.pop("example")
            properties[key] = item
        return {"type": "object", "required": list(sample), "properties": properties, "example": example}
    return {"type": "object", "example": sample}


class StandardPythonParameterType(AbstractParameterType):
    def __init__(self, sample_input):
        super().__init__(sample_input)
        self.sample_data_type_map = {}
        self.sample_data_type_list = []
        if isinstance(sample_input, dict):
            self.sample_data_type_map = {k: v for k, v in sample_input.items() if isinstance(v, AbstractParameterType)}
        elif isinstance(sample_input, (list, tuple)):
            self.sample_data_type_list = [v for v in sample_input if isinstance(v, AbstractParameterType)]

    def deserialize_input(self, input_data):
        kind = self.sample_data_type
        if kind is datetime.date:
            input_data = datetime.datetime.strptime(input_data, "%Y-%m-%d").date()
        elif kind is datetime.datetime:
            input_data = datetime.datetime.fromisoformat(str(input_data).replace("Z", "+00:00"))
        elif kind is datetime.time:
            input_data = datetime.time.fromisoformat(str(input_data))
        elif kind in (bytes, bytearray):
            input_data = kind(base64.b64decode(input_data.encode("utf-8")))
        if kind is float and type(input_data) is int:
            return input_data  # an int where a float is expected is accepted, as inference-schema does
        if not isinstance(input_data, kind):
            raise ValueError(f"Invalid input data type to parse. Expected: {kind} but got {type(input_data)}")
        return input_data

    def input_to_swagger(self):
        if self.sample_input is None:
            raise ValueError("Sample input cannot be None")
        return swagger_for(self.sample_input)
