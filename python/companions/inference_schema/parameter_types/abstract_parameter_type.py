"""The base of every parameter type: a sample of what the parameter holds."""


class AbstractParameterType:
    def __init__(self, sample_input):
        self.sample_input = sample_input
        self.sample_data_type = type(sample_input)

    def supported_versions(self):
        """The swagger versions this type can be written in."""
        return ["2.0", "3.0", "3.1"]

    def deserialize_input(self, input_data):  # pragma: no cover - every type defines it
        raise NotImplementedError

    def input_to_swagger(self):  # pragma: no cover - every type defines it
        raise NotImplementedError
