"""A parameter that is a numpy array: the request's nested lists become an array of the sample's
dtype, whose shape (beyond the first dimension) must match the sample's."""

import numpy as np

from .abstract_parameter_type import AbstractParameterType

_DTYPES = {
    "int8": {"type": "integer", "format": "int8"},
    "int16": {"type": "integer", "format": "int16"},
    "int32": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "uint8": {"type": "integer", "format": "uint8"},
    "uint16": {"type": "integer", "format": "uint16"},
    "uint32": {"type": "integer", "format": "uint32"},
    "uint64": {"type": "integer", "format": "uint64"},
    "bool": {"type": "boolean"},
    "float16": {"type": "number", "format": "float"},
    "float32": {"type": "number", "format": "float"},
    "float64": {"type": "number", "format": "double"},
    "object": {"type": "object"},
}


def dtype_swagger(dtype):
    name = dtype.name.lower()
    if dtype.names:
        return {"type": "object", "properties": {n: dtype_swagger(dtype[n]) for n in dtype.names}}
    if name in _DTYPES:
        return dict(_DTYPES[name])
    if name.startswith("datetime"):
        return {"type": "string", "format": "date-time"}
    if name.startswith("timedelta"):
        return {"type": "string", "format": "timedelta"}
    if name.startswith("str"):
        return {"type": "string"}
    if name.startswith("bytes") or name.startswith("void"):
        return {"type": "string", "format": "binary"}
    raise TypeError(f"We currently do not support extracting schema from data of type {name}")


class NumpyParameterType(AbstractParameterType):
    def __init__(self, sample_input, enforce_column_type=True, enforce_shape=True):
        if not isinstance(sample_input, np.ndarray):
            raise Exception("Invalid sample input provided, must provide a sample Numpy array.")
        super().__init__(sample_input)
        self.enforce_column_type = enforce_column_type
        self.enforce_shape = enforce_shape

    def deserialize_input(self, input_data):
        if isinstance(input_data, np.ndarray):
            return input_data
        if not isinstance(input_data, list):
            raise ValueError("Invalid input format: expected an array of items.")
        dtype = self.sample_input.dtype
        if self.enforce_column_type:
            if dtype.names:
                input_data = [
                    tuple(row[n] if isinstance(row, dict) else row[i] for i, n in enumerate(dtype.names))
                    for row in input_data
                ]
            array = np.array(input_data, dtype=dtype)
        else:
            array = np.array(input_data)
        if self.enforce_shape:
            expected = self.sample_input.shape
            if array.ndim != len(expected):
                raise ValueError(
                    f"Invalid input array: an array with {len(expected)} dimensions is expected; "
                    f"input has {array.ndim} [shape {array.shape}]"
                )
            for dim in range(1, len(expected)):
                if array.shape[dim] != expected[dim]:
                    raise ValueError(
                        f"Invalid input array: array has size {array.shape[dim]} on dimension #{dim}, "
                        f"while expected value is {expected[dim]}"
                    )
        return array

    def input_to_swagger(self):
        schema = dtype_swagger(self.sample_input.dtype)
        for _ in range(max(1, self.sample_input.ndim)):
            schema = {"type": "array", "items": schema}
        sample = self.sample_input
        example = [
            dict(zip(sample.dtype.names, row.tolist())) for row in sample
        ] if sample.dtype.names else sample.tolist()
        schema["example"] = example
        schema["format"] = "numpy.ndarray"
        return schema
