"""The older import spelling of the server's response helper."""
from azureml_inference_server_http.api.aml_response import AMLResponse  # noqa: F401
