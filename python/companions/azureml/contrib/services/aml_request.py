"""The older import spelling of the server's request helpers."""
from azureml_inference_server_http.api.aml_request import AMLRequest, rawhttp  # noqa: F401
