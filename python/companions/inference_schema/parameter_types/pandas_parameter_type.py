"""A parameter that is a pandas DataFrame, read from the request in the given orient (records by
default), with the sample's column types and width enforced."""

import io
import json

import pandas as pd

from .abstract_parameter_type import AbstractParameterType
from .standard_py_parameter_type import swagger_for

ORIENTS = ("split", "records", "index", "columns", "values", "table")


class PandasParameterType(AbstractParameterType):
    def __init__(self, sample_input, enforce_column_type=True, enforce_shape=True, apply_column_names=False,
                 orient="records"):
        if not isinstance(sample_input, pd.DataFrame):
            raise Exception("Invalid sample input provided, must provide a sample Pandas Dataframe.")
        if orient not in ORIENTS:
            raise Exception(
                "Invalid orient provided, must be one of ('split', 'records', 'index', 'columns', 'values', or 'table')"
            )
        super().__init__(sample_input)
        self.enforce_column_type = enforce_column_type
        self.enforce_shape = enforce_shape
        self.apply_column_names = apply_column_names
        self.orient = orient

    def deserialize_input(self, input_data):
        if isinstance(input_data, pd.DataFrame):
            return input_data
        if not isinstance(input_data, (list, dict)):
            raise Exception(f"Error, unable to convert input of type {type(input_data)} into Pandas Dataframe")
        frame = pd.read_json(io.StringIO(json.dumps(input_data)), orient=self.orient)
        if self.apply_column_names:
            frame.columns = self.sample_input.columns.copy()
        if self.enforce_column_type:
            types = self.sample_input.dtypes.to_dict()
            wanted = {c: types.get(c, object) for c in frame.columns}
            for column, kind in wanted.items():
                if str(kind).startswith("timedelta"):
                    frame[column] = pd.to_timedelta(frame[column])
            frame = frame.astype(dtype=wanted)
        if self.enforce_shape:
            expected = self.sample_input.shape
            for dim in range(1, len(expected)):
                if frame.shape[dim] != expected[dim]:
                    raise ValueError(
                        f"Invalid input data frame: data frame has size {frame.shape[dim]} on dimension #{dim}, "
                        f"while expected value is {expected[dim]}"
                    )
        return frame

    def input_to_swagger(self):
        sample = json.loads(self.sample_input.to_json(orient=self.orient, date_format="iso"))
        schema = swagger_for(sample)
        if self.orient == "records" and schema.get("items", {}).get("properties"):
            for column in self.sample_input.columns:
                kind = str(self.sample_input.dtypes[column])
                if kind.startswith("datetime"):
                    schema["items"]["properties"][str(column)]["format"] = "date-time"
                elif kind.startswith("timedelta"):
                    schema["items"]["properties"][str(column)]["format"] = "timedelta"
        schema["format"] = f"pandas.DataFrame:{self.orient}"
        return schema
