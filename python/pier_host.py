"""pier's Python runtime host: the process pier starts for each instance of a Python model.

Standard library only, plus whatever the model itself imports. pier decides what to load and passes it
in environment variables (it has already read MLmodel):

  PIER_MODEL_DIR        the model folder (also AZUREML_MODEL_DIR)
  PIER_LOADER           "sklearn" (a pickled estimator), "pyfunc" (a python_function loader_module) or
                        "score" (an Azure scoring script: AZUREML_ENTRY_SCRIPT under AML_APP_ROOT, run
                        as Azure's inference server runs it: pier_script.py)
  PIER_MODEL_FILE       sklearn: the pickle, relative to the model folder
  PIER_SERIALIZATION    sklearn: pickle | cloudpickle
  PIER_LOADER_MODULE    pyfunc: the module whose _load_pyfunc(data_path) returns the model
  PIER_PYFUNC_DATA      pyfunc: the data path, relative to the model folder
  PIER_CODE_PATH        the python_function flavor's `code` folder (MLflow's code_paths), added to sys.path with the
                        model folder before the model loads, for every flavor
  PIER_COLUMNS          JSON list of the signature's input column names, or empty
  PIER_TENSORS          JSON {"named": bool, "dtypes": {name: numpy dtype}} for a tensor signature, or empty
  PIER_PREDICT_FN       the method to call (MLflow's python_function predict_fn), default "predict"
  PIER_SMOKE_REQUEST    the input example as a request (as the gateway sends one), or empty

Requests are {records} (a DataFrame in signature order), {rows} (a 2-D array) or {tensors: {name:
{shape, data}}} (an ndarray, or a dict of them, cast to the signature's dtypes), with optional params
(passed to a model whose predict takes them) and predict_method (pier's opt-in
x-pier-predict-method header: predict, predict_proba, predict_log_proba or decision_function).

Before READY the host predicts once (on the input example, else on one row of zeros for an estimator
that knows its n_features_in_), so a model that loads but cannot predict, such as a pickle from another
scikit-learn, fails at startup with its exception instead of on the first request.

It reports READY (or the load failure, with the exception and traceback) as one JSON line on fd 3,
then serves GET / (health) and POST /invoke on 127.0.0.1, and, with one worker, pier's invoke
channel on fd 4. It never turns an error into a 200.
"""

import hmac
import json
import os

from pier_script import ScriptScorer, load_scoring_script, unencodable
import struct
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOAD_FAILED_EXIT_CODE = 3
_messages = None


def send(message):
    """One JSON line on fd 3, pier's end of the host protocol (opened on first use, so tests can import this module)."""
    global _messages
    if _messages is None:
        _messages = os.fdopen(3, "w", buffering=1)
    _messages.write(json.dumps(message) + "\n")
    _messages.flush()


def close_messages():
    if _messages is not None:
        _messages.close()


class UnpicklingFailed(Exception):
    """Marks an exception raised while a pickle was read: the class or module it names is not here."""


def log(level, text):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    stream = sys.stderr if level == "E" else sys.stdout
    stream.write(f"{stamp} {level} [{os.getpid()}] pier_host - {text}\n")
    stream.flush()


def load_model():
    model_dir = os.environ["PIER_MODEL_DIR"]
    loader = os.environ.get("PIER_LOADER", "sklearn")
    for path in (model_dir, os.path.join(model_dir, os.environ.get("PIER_CODE_PATH", ""))):
        if path not in sys.path:
            sys.path.insert(0, path)
    if loader == "sklearn":
        path = os.path.join(model_dir, os.environ.get("PIER_MODEL_FILE", "model.pkl"))
        serialization = os.environ.get("PIER_SERIALIZATION", "cloudpickle")
        log("I", f"unpickling {path} ({serialization}); loading a pickle runs the code it contains")
        with open(path, "rb") as handle:
            loader = None
            if serialization == "cloudpickle":
                try:
                    import cloudpickle

                    loader = cloudpickle.load
                except ImportError:
                    log("W", "cloudpickle is not installed; reading the file with pickle")
            if loader is None:
                import pickle

                loader = pickle.load
            try:
                return loader(handle)
            except Exception as error:
                error.__pier_phase__ = "unpickling"
                raise
    if loader == "pyfunc":
        import importlib

        module = importlib.import_module(os.environ["PIER_LOADER_MODULE"])
        data = os.path.join(model_dir, os.environ.get("PIER_PYFUNC_DATA", ""))
        return module._load_pyfunc(data)
    raise ValueError(f"unknown loader {loader!r}")


def to_jsonable(value):
    if hasattr(value, "to_dict") and hasattr(value, "columns"):
        return value.to_dict(orient="records")
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


class InputError(ValueError):
    """A request the model cannot take: answered 400, not as the model's failure."""


PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


class Scorer:
    def __init__(self, model, columns, tensors=None, predict_fn="predict"):
        self.model = model
        self.columns = columns
        self.tensors = tensors or {}
        self.predict_fn = predict_fn or "predict"

    def frame(self, body):
        """Records become a DataFrame in signature order; positional rows a 2-D array; tensors ndarrays."""
        if "tensors" in body:
            import numpy

            dtypes = self.tensors.get("dtypes", {})
            arrays = {
                name: numpy.asarray(t["data"], dtype=dtypes.get(name)).reshape(t["shape"])
                for name, t in body["tensors"].items()
            }
            if len(arrays) == 1 and not self.tensors.get("named", True):
                return next(iter(arrays.values()))
            return arrays
        if "rows" in body:
            try:
                import numpy

                return numpy.asarray(body["rows"])
            except ImportError:
                return body["rows"]
        records = body["records"]
        import pandas

        columns = self.columns or list(records[0].keys())
        return pandas.DataFrame.from_records(records, columns=columns)

    def predict(self, body):
        data = self.frame(body)
        method = body.get("predict_method") or self.predict_fn
        if body.get("predict_method") and method not in PREDICT_METHODS:
            raise InputError(f"x-pier-predict-method must be one of {', '.join(PREDICT_METHODS)}, got {method!r}")
        if not hasattr(self.model, method):
            raise InputError(f"this model has no {method}()")
        function = getattr(self.model, method)
        params = body.get("params")
        if params is not None:
            import inspect

            try:
                takes_params = "params" in inspect.signature(function).parameters
            except (TypeError, ValueError):
                takes_params = False
            if takes_params:
                return to_jsonable(function(data, params=params))
        return to_jsonable(function(data))


def swagger_of(scorer):
    """A scoring script's schemas and swagger files, for the READY message (the gateway serves swagger.json)."""
    if not isinstance(scorer, ScriptScorer):
        return {}
    try:
        return {"swagger": scorer.swagger()}
    except Exception as error:  # the swagger must never stop a script that runs
        log("W", f"no swagger: {type(error).__name__}: {error}")
        return {}


def smoke_test(scorer):
    if isinstance(scorer, ScriptScorer):
        return "skipped (a scoring script's init() is its startup check)"
    body = json.loads(os.environ.get("PIER_SMOKE_REQUEST") or "null")
    if not body:
        width = getattr(scorer.model, "n_features_in_", None)
        if not isinstance(width, int) or hasattr(scorer.model, "feature_names_in_"):
            return "skipped (no input example)"
        body = {"rows": [[0.0] * width]}
    scorer.predict(body)
    if "tensors" in body:
        return "passed on the input example"
    return f"passed on {len(body.get('records') or body.get('rows'))} row(s)"


def answer(scorer, raw):
    """One request's answer as (status, JSON-able body): predictions, a 400 for bad input, or the
    model's own failure as a 500. Never swallows an error into a 200. A scoring script answers an HTTP
    response of its own (pier_script.py), which pier's gateway passes on."""
    if isinstance(scorer, ScriptScorer):
        try:
            request = json.loads(raw)
        except ValueError as error:
            return 400, {"error": {"code": "BadRequest", "message": f"not a request envelope: {error}", "kind": "input"}}
        return 200, scorer.invoke(request)
    try:
        body = json.loads(raw)
    except ValueError as error:
        return 400, {"error": {"code": "InvalidJson", "message": str(error), "kind": "input"}}
    try:
        return 200, scorer.predict(body)
    except InputError as error:
        return 400, {"error": {"code": "BadRequest", "message": str(error), "kind": "input"}}
    except Exception as error:  # the model's failure is reported, never swallowed
        trace = traceback.format_exc()
        log("E", f"predict failed: {type(error).__name__}: {error}\n{trace}")
        return 500, {
            "error": {"code": "ModelError", "exception": type(error).__name__, "message": str(error), "kind": "model", "trace": trace}
        }


def unencodable_answer(payload, error):
    """The model's answer holds a value JSON cannot: its failure, with the value's type and the remedy."""
    kind, hint = unencodable(payload) or ("value", "return lists, dicts, strings and numbers")
    log("E", f"the model answered a {kind} that JSON cannot encode ({error}): {hint}")
    return {"error": {"code": "UnserializableOutput", "message": str(error), "kind": "model", "type": kind, "hint": hint}}


def serve(scorer, concurrency):
    slots = threading.BoundedSemaphore(concurrency)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are written separately: without TCP_NODELAY, Nagle's algorithm and the
        # peer's delayed ACK hold the body back ~40 ms on every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def allowed(self):
            """Only pier calls this port: the process's secret (PIER_INSTANCE_TOKEN) must come with every request."""
            token = os.environ.get("PIER_INSTANCE_TOKEN", "")
            if token and not hmac.compare_digest(self.headers.get("x-pier-instance-token", ""), token):
                self.close_connection = True
                self.send_response(403)
                self.send_header("content-length", "0")
                self.send_header("connection", "close")
                self.end_headers()
                return False
            return True

        def reply(self, status, payload):
            try:
                text = json.dumps(payload).encode("utf-8")
            except (TypeError, ValueError) as error:  # an answer JSON cannot hold is the model's failure
                status, text = 500, json.dumps(unencodable_answer(payload, error)).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def do_GET(self):
            if not self.allowed():
                return
            if self.path in ("/", "/health"):
                body = b"Healthy"
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.reply(404, {"error": {"code": "NotFound", "message": self.path, "kind": "model"}})

        def do_POST(self):
            if not self.allowed():
                return
            if self.path != "/invoke":
                self.reply(404, {"error": {"code": "NotFound", "message": self.path, "kind": "model"}})
                return
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            with slots:
                status, payload = answer(scorer, raw)
            self.reply(status, payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


FRAME_HEADER = struct.Struct(">IIH")  # payload length, request id, status (0 in a request)


def serve_channel(scorer, concurrency, on_gone):
    """pier's invoke channel on fd 4 (see src/runtime/invoke-channel.ts): length-prefixed frames
    multiplexed by id, answered by `concurrency` threads. End of file means pier is gone."""
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="invoke")
    write_lock = threading.Lock()

    def respond(request_id, raw):
        status, payload = answer(scorer, raw)
        try:
            data = json.dumps(payload).encode("utf-8")
        except (TypeError, ValueError) as error:  # an answer JSON cannot hold is the model's failure
            data = json.dumps(unencodable_answer(payload, error)).encode("utf-8")
            status = 500
        frame = FRAME_HEADER.pack(len(data), request_id, status) + data
        with write_lock:
            view = memoryview(frame)
            try:
                while view:
                    view = view[os.write(4, view):]
            except OSError:
                pass  # pier is gone; the reader sees end of file and ends the process

    def read():
        pending = bytearray()
        while True:
            try:
                chunk = os.read(4, 1 << 16)
            except OSError:
                return  # started without pier's channel (by hand): HTTP only
            if not chunk:
                on_gone()
                return
            pending += chunk
            while len(pending) >= FRAME_HEADER.size:
                length, request_id, _status = FRAME_HEADER.unpack_from(pending)
                end = FRAME_HEADER.size + length
                if len(pending) < end:
                    break
                pool.submit(respond, request_id, bytes(pending[FRAME_HEADER.size:end]))
                del pending[:end]

    threading.Thread(target=read, daemon=True, name="invoke-channel").start()
    return pool


# What a compiled package built for another numpy major version raises when it is imported (numpy's
# own messages: numpy/core/_multiarray_umath, the C-API version check, and the dtype size check).
NUMPY_ABI_MESSAGES = (
    "numpy.dtype size changed",
    "compiled using NumPy 1.x cannot be run in",
    "_ARRAY_API not found",
    "numpy.core.multiarray failed to import",
)


def _chain(error):
    """The exception and the ones it was raised from or during."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def classify(error, model=None):
    """What the host can tell of a load failure, as data pier's doctor reads: "numpy-abi" (a compiled
    package built for another numpy), "unpickling" (the pickle names a class or module this
    interpreter does not have), "stale-object" (the unpickled model lacks an attribute its own
    library's code now reads: made by another version of it), or None."""
    if any(any(m in " ".join(str(e).split()) for m in NUMPY_ABI_MESSAGES) for e in _chain(error)):
        return "numpy-abi"
    if getattr(error, "__pier_phase__", None) == "unpickling" and isinstance(error, (ImportError, AttributeError)):
        return "unpickling"
    holder = getattr(error, "obj", None) if isinstance(error, AttributeError) else None
    if model is not None and holder is not None and not isinstance(model, ScriptScorer):
        library = type(model).__module__.split(".")[0]
        if library not in ("builtins", "__main__") and type(holder).__module__.split(".")[0] == library:
            return "stale-object"
    return None


def load_error(error, message, tb, model=None):
    """The load-failed report: the exception, the module an import could not find (if that was it),
    and what kind of failure it is (classify; `model` when it loaded and its first prediction failed)."""
    report = {"type": type(error).__name__, "message": message, "traceback": tb.splitlines()}
    cause = error
    while cause is not None and not isinstance(cause, ImportError):
        cause = cause.__cause__
    if isinstance(cause, ImportError) and cause.name:
        report["module"] = cause.name
    kind = classify(error, model)
    if kind:
        report["cause"] = kind
    return report


def main():
    started = time.perf_counter()
    try:
        model = load_scoring_script(log) if os.environ.get("PIER_LOADER") == "score" else load_model()
    except BaseException as error:  # includes SystemExit from user code
        tb = traceback.format_exc()
        log("E", f"model load failed: {type(error).__name__}: {error}\n{tb}")
        send({"type": "load-failed", "error": load_error(error, str(error), tb)})
        close_messages()
        os._exit(LOAD_FAILED_EXIT_CODE)
    columns = json.loads(os.environ.get("PIER_COLUMNS") or "null")
    tensors = json.loads(os.environ.get("PIER_TENSORS") or "null")
    scorer = (
        model
        if isinstance(model, ScriptScorer)
        else Scorer(model, columns, tensors, os.environ.get("PIER_PREDICT_FN") or "predict")
    )
    try:
        smoke = smoke_test(scorer)
    except BaseException as error:
        tb = traceback.format_exc()
        log("E", f"the model loaded but cannot predict: {type(error).__name__}: {error}\n{tb}")
        message = f"the model loaded but its startup prediction failed: {error}"
        send({"type": "load-failed", "error": load_error(error, message, tb, model)})
        close_messages()
        os._exit(LOAD_FAILED_EXIT_CODE)
    load_ms = (time.perf_counter() - started) * 1000
    log("I", f"startup prediction {smoke}")
    # WORKER_COUNT worker processes, as Azure's server runs gunicorn workers; each takes its share of
    # max_concurrent_requests_per_instance with threads. Processes sidestep the GIL, which
    # single-row scikit-learn predictions hold most of the time.
    workers = max(1, int(os.environ.get("WORKER_COUNT", "1")))
    concurrency = int(os.environ.get("PIER_MAX_CONCURRENT", "1"))
    server = serve(scorer, max(1, -(-concurrency // workers)))
    port = server.server_address[1]
    name = getattr(model, "__name__", type(model).__module__ + "." + type(model).__name__)
    log("I", f"loaded in {load_ms:.1f} ms ({name}); listening on 127.0.0.1:{port} with {workers} worker(s)")
    import signal

    if workers == 1:
        # Requests come over the invoke channel; HTTP serves the probes (and /invoke, by hand).
        pool = serve_channel(scorer, max(1, concurrency), lambda: os._exit(0))
        send({"type": "ready", "port": port, "loadMs": load_ms, "runtime": "python", "channel": True, **swagger_of(scorer)})
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        server.serve_forever()
        pool.shutdown(wait=True)  # a graceful stop answers what was already sent
        return
    supervise_workers(server, workers, lambda: send({"type": "ready", "port": port, "loadMs": load_ms, "runtime": "python", **swagger_of(scorer)}))


def exit_with_pier(on_gone):
    """pier holds the other end of fd 4: end of file there means pier is gone, and so is the instance."""

    def watch():
        try:
            while os.read(4, 4096):
                pass
        except OSError:
            return  # started without pier's channel (by hand): nothing to watch
        on_gone()

    threading.Thread(target=watch, daemon=True).start()


def supervise_workers(server, workers, ready):
    """Forks workers that share the listening socket; the parent only watches them.

    A worker that dies takes the instance down (exit 1), so pier records the crash and restarts the
    whole instance; a worker whose parent is gone exits too.
    """
    import signal

    parent = os.getpid()
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            def orphan_watch():
                while os.getppid() == parent:
                    time.sleep(0.5)
                os._exit(0)

            threading.Thread(target=orphan_watch, daemon=True).start()
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            server.serve_forever()
            os._exit(0)
        children.append(pid)
    log("I", f"workers {children} ready for serving traffic")
    ready()

    def stop(*_):
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    exit_with_pier(stop)
    pid, status = os.wait()
    log("E", f"worker {pid} ended ({'signal ' + str(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else 'exit ' + str(os.WEXITSTATUS(status))}); stopping the instance")
    for child in children:
        if child != pid:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os._exit(1)

if __name__ == "__main__":
    main()
