"""pier's stand-in for the inference-schema package (see ../README.md)."""
