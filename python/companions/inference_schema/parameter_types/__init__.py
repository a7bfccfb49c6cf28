from .abstract_parameter_type import AbstractParameterType  # noqa: F401
from .numpy_parameter_type import NumpyParameterType  # noqa: F401
from .pandas_parameter_type import PandasParameterType  # noqa: F401
from .standard_py_parameter_type import StandardPythonParameterType  # noqa: F401
