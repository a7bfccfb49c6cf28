"""Where the decorators keep each function's schemas: on the undecorated function itself."""

ATTR = "__pier_inference_schema__"


def base_function(func):
    """The function under every decorator (each wrapper keeps it as __wrapped__)."""
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    return func


def schemas(func):
    base = base_function(func)
    if not hasattr(base, ATTR):
        setattr(base, ATTR, {})
    return getattr(base, ATTR)
