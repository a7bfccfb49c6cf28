"""Azure scoring scripts (score.py with init() and run()), run as Azure's inference server runs them.

The references are azureml-inference-server-http's server modules (user_script.py for loading and
analysing run(), input_parsers.py for what run() receives, routes.py and api/aml_response.py for what
the client gets back) and the server's page in the Azure docs. In short:
- the script is imported, init() and run() must exist, and run() may not take *args, **kwargs or
  positional-only parameters; it may take request_headers beside its input;
- an undecorated run(data) gets the body as a UTF-8 string (a GET gets its query as a JSON string);
  an @input_schema run gets the JSON object's keys as parameters; a @rawhttp run gets the request;
- what run() returns is JSON-encoded (so a str is encoded twice, None is {}), and what json.dumps
  cannot encode (a numpy array) is the server's own 500; an AMLResponse passes through as it is;
- errors are {"message": …}; a run() that raises is a 500 with a generic message, the details in
  the log; x-ms-run-function-failed and x-ms-run-fn-exec-ms go with every answer.

pier's gateway sends a request as {method, query, headers, body (base64)} and gets back {status,
headers, body (base64)}; the gateway then answers as the managed endpoint does (a 5xx is a 424).
"""

import base64
import importlib
import importlib.util
import inspect
import json
import os
import sys
import time
import traceback
from urllib.parse import parse_qsl

COMPANIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "companions")

RUN_FAILED = "An unexpected error occurred in scoring script. Check the logs for more info."
INTERNAL_ERROR = "An unexpected internal error occurred. Check the logs for more info."


class UserScriptError(Exception):
    """A scoring-script failure under Azure's name (its class name is the code pier reports)."""


class UserScriptImportError(UserScriptError):
    pass


class UserScriptFunctionNotFound(UserScriptError):
    pass


class UserScriptInitFailed(UserScriptError):
    pass


class UserScriptRunInvalid(UserScriptError):
    """run() is declared in a way Azure's server refuses to load."""


class BadInput(Exception):
    """A request run() cannot be given (the server's 400/415/405)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def model_dir_tree(root, limit=200):
    lines = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            lines.append(os.path.relpath(os.path.join(folder, name), root))
            if len(lines) >= limit:
                return lines
    return lines


def _rawhttp_requested():
    """Whether the script applied @rawhttp, from whichever module spelling (pier's or a real package) it used."""
    for name in ("azureml_inference_server_http.api.aml_request", "azureml.contrib.services.aml_request"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "_rawHttpRequested", False):
            return True
    return False


def _schema_util():
    """inference_schema's schema_util when the script uses inference_schema (pier's, or an installed one)."""
    if "inference_schema" not in sys.modules:
        return None
    try:
        return importlib.import_module("inference_schema.schema_util")
    except ImportError:
        return None


def _is_decorated(run):
    util = _schema_util()
    return bool(util and util.is_schema_decorated(run))


def _parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _query_parameters(query):
    """/score?a=1&b=[1,2]&c=x → {"a": 1, "b": [1, 2], "c": "x"}; a repeated key is a list (input_parsers.py)."""
    values = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(key, []).append(_parse_value(value))
    return {key: found[0] if len(found) == 1 else found for key, found in values.items()}


class ScriptScorer:
    """One loaded scoring script: how its run() takes input, and calling it."""

    def __init__(self, module, log):
        self.module = module
        self.log = log
        driver = getattr(module, "driver_module", None)
        # Some Azure SDKs generate a driver module that forwards to the real script; its run() is called.
        self.run = driver.run if inspect.ismodule(driver) and hasattr(driver, "run") else module.run
        self._analyse()

    def _analyse(self):
        parameters = list(inspect.signature(self.run).parameters.values())
        if any(p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters):
            raise UserScriptRunInvalid("run() cannot accept positional-only arguments, *args, or **kwargs.")
        self.takes_headers = any(p.name == "request_headers" for p in parameters)
        self.parameters = [p for p in parameters if p.name != "request_headers"]
        if not self.parameters:
            raise UserScriptRunInvalid(
                'run() needs to accept an argument other than "request_headers".'
                if self.takes_headers
                else "run() needs to accept an argument for input data."
            )
        raw, decorated = _rawhttp_requested(), _is_decorated(self.run)
        if raw and decorated:
            raise UserScriptRunInvalid("run() cannot be decorated with both @rawhttp and @input_schema")
        self.mode = "raw" if raw else "object" if decorated else "string"
        names = ", ".join(p.name for p in self.parameters)
        self.log(
            "I",
            {
                "raw": "run() is decorated with @rawhttp. Server will invoke it with the flask request object.",
                "object": f"run() is decorated with @input_schema. Server will invoke it with the following arguments: {names}.",
                "string": "run() is not decorated. Server will invoke it with the input in JSON string.",
            }[self.mode],
        )

    def _arguments(self, method, query, headers, body):
        first = self.parameters[0].name
        if self.mode == "raw":
            from azureml_inference_server_http.api.aml_request import AMLRequest

            return {first: AMLRequest(method, "/score", query, headers, body)}
        if method == "GET":
            values = _query_parameters(query)
            return {first: json.dumps(values)} if self.mode == "string" else self._named(values)
        if method != "POST":
            raise BadInput(405, "Method not allowed")
        if self.mode == "string":
            try:
                return {first: str(body, "utf-8")}
            except UnicodeDecodeError as error:
                raise BadInput(400, f"Input cannot be decoded as UTF-8: {error}") from None
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        mime = content_type.split(";")[0].strip().lower()
        if not (mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))):
            raise BadInput(415, "Expects Content-Type to be application/json")
        try:
            value = json.loads(body)
        except ValueError as error:
            raise BadInput(
                400, f"POST body could not be decoded as JSON: {error}" if body else "POST body is empty. Expecting a JSON dictionary."
            ) from None
        if not isinstance(value, dict):
            raise BadInput(400, "POST body should be a JSON dictionary.")
        return self._named(value)

    def _named(self, values):
        arguments = {}
        for parameter in self.parameters:
            value = values.get(parameter.name, parameter.default)
            if value is inspect.Parameter.empty:
                raise BadInput(400, f"A value is not provided for the {parameter.name!r} parameter.")
            arguments[parameter.name] = value
        return arguments

    def invoke(self, request):
        """One request envelope → {status, headers, body}, as the server would answer it."""
        method = request.get("method", "POST").upper()
        query = request.get("query", "")
        headers = [(k, v) for k, v in request.get("headers", [])]
        body = base64.b64decode(request.get("body", ""))
        if method == "OPTIONS":
            return _answer(200, b"", [("Content-Type", "text/html; charset=utf-8"), ("x-ms-run-function-failed", "False")])
        if method not in ("GET", "POST"):
            return _message(405, "Method not allowed")
        try:
            arguments = self._arguments(method, query, headers, body)
        except BadInput as error:
            return _message(error.status, str(error))
        started = time.perf_counter()
        try:
            if self.takes_headers:
                arguments["request_headers"] = dict(headers)
            output = self.run(**arguments)
        except Exception as error:
            self.log("E", f"run() failed: {type(error).__name__}: {error}\n{traceback.format_exc()}")
            failure = {"code": "ModelError", "exception": type(error).__name__}
            return _message(500, RUN_FAILED, failed=True, elapsed=started, failure=failure)
        return self._output(output, started)

    def _output(self, output, started):
        if hasattr(output, "status_code") and (hasattr(output, "get_data") or hasattr(output, "data")):
            status = int(output.status_code)
            raw_headers = output.headers.items() if hasattr(output.headers, "items") else output.headers
            headers = [(str(k), str(v)) for k, v in raw_headers if str(k).lower() != "x-ms-run-function-failed"]
            headers.append(("x-ms-run-function-failed", str(status >= 500)))
            data = output.get_data() if hasattr(output, "get_data") else output.data
            self.log("I", "run() output is HTTP Response")
            return _answer(status, data if isinstance(data, bytes) else str(data).encode("utf-8"), headers, started)
        try:
            text = json.dumps({} if output is None else output)
        except (TypeError, ValueError) as error:
            kind, hint = unencodable(output) or (f"{type(output).__module__}.{type(output).__name__}", "return lists, dicts, strings and numbers")
            self.log(
                "E",
                f"run() returned a {kind} that JSON cannot encode ({error}); Azure's inference server answers "
                f"500 {INTERNAL_ERROR!r} for it: {hint}\n{traceback.format_exc()}",
            )
            failure = {"code": "UnserializableOutput", "type": kind, "hint": hint}
            return _message(500, INTERNAL_ERROR, elapsed=started, failure=failure)
        return _answer(200, text.encode("utf-8"), [("Content-Type", "application/json"), ("x-ms-run-function-failed", "False")], started)

    def swagger(self):
        """What the gateway needs to serve swagger.json: the schemas of a decorated run(), the swagger
        versions they can be written in, and any swagger file the script's folder holds."""
        util = _schema_util()
        decorated = _is_decorated(self.run)
        folders = [os.environ.get("AML_APP_ROOT", ""), os.path.dirname(self.module.__file__)]
        files = {}
        for version, names in (("2", ("swagger.json", "swagger2.json")), ("3", ("swagger3.json",)), ("3.1", ("swagger3.1.json",))):
            for folder in folders:
                found = next((os.path.join(folder, n) for n in names if folder and os.path.isfile(os.path.join(folder, n))), None)
                if found:
                    try:
                        with open(found, encoding="utf-8") as handle:
                            files[version] = json.load(handle)
                    except (OSError, ValueError) as error:
                        self.log("W", f"{found} is not a JSON swagger file: {error}")
                    break
        return {
            "input": util.get_input_schema(self.run) if decorated else {"type": "object", "example": {}},
            "output": util.get_output_schema(self.run) if decorated else {"type": "object", "example": {}},
            "versions": [v.split(".")[0] if v.endswith(".0") else v for v in util.get_supported_versions(self.run)] if decorated else ["2", "3", "3.1"],
            "files": files,
        }


FAILURE_HEADER = "x-pier-failure"


def unencodable(value):
    """The first value inside `value` that json cannot encode, as (its Python type, what makes it
    encodable); None when json can encode all of it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            for key in item:
                if key is not None and not isinstance(key, (str, int, float, bool)):
                    return f"dict key of type {type(key).__module__}.{type(key).__name__}", "use strings as the keys"
            stack.extend(reversed(list(item.values())))
        elif item is None or isinstance(item, (str, int, float, bool)):
            continue
        else:
            hint = (
                "call .tolist() on it"
                if hasattr(item, "tolist")
                else "return .to_dict(orient='records') or .tolist()"
                if hasattr(item, "to_dict")
                else "return lists, dicts, strings and numbers"
            )
            return f"{type(item).__module__}.{type(item).__name__}", hint
    return None


def _answer(status, body, headers, started=None):
    if started is not None:
        headers = [*headers, ("x-ms-run-fn-exec-ms", f"{(time.perf_counter() - started) * 1000:.3f}")]
    return {"status": status, "headers": headers, "body": base64.b64encode(body).decode("ascii")}


def _message(status, message, failed=False, elapsed=None, failure=None):
    """Azure's server's {"message"} answer; `failure` is what pier's doctor reads of it (FAILURE_HEADER,
    which the gateway keeps from the client)."""
    headers = [("Content-Type", "application/json"), ("x-ms-run-function-failed", str(failed))]
    if failure:
        headers.append((FAILURE_HEADER, json.dumps(failure)))
    return _answer(status, json.dumps({"message": message}).encode("utf-8"), headers, elapsed)


def load_scoring_script(log):
    """Imports the entry script (AML_APP_ROOT/AZUREML_ENTRY_SCRIPT), checks run(), calls init()."""
    app_root = os.environ["AML_APP_ROOT"]
    entry = os.environ["AZUREML_ENTRY_SCRIPT"]
    script = os.path.join(app_root, entry)
    for path in (os.path.dirname(script), app_root):
        if path not in sys.path:
            sys.path.insert(0, path)
    # What the server brings, after everything the environment installs (which wins).
    sys.path.append(COMPANIONS)
    try:
        spec = importlib.util.spec_from_file_location("entry_module", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException as error:
        raise UserScriptImportError(f"importing {entry} failed: {type(error).__name__}: {error}") from error
    missing = [name for name in ("init", "run") if not callable(getattr(module, name, None))]
    if missing:
        raise UserScriptFunctionNotFound(f"{entry} does not define {' and '.join(f'{m}()' for m in missing)}")
    scorer = ScriptScorer(module, log)
    try:
        module.init()
    except BaseException as error:
        log("E", "User's init function failed")
        log("E", "AZUREML_MODEL_DIR holds:\n  " + "\n  ".join(model_dir_tree(os.environ["AZUREML_MODEL_DIR"])))
        raise UserScriptInitFailed(f"init() raised {type(error).__name__}: {error}") from error
    log("I", "Users's init has completed successfully")
    return scorer
