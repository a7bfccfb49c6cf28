"""pier's stand-in for the parts of azureml-inference-server-http a scoring script imports."""
