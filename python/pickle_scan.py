"""Lists what a pickle would import, without unpickling it, and (with --check) checks each import here.

Usage: python3 pickle_scan.py [--check] FILE
Prints one JSON object:
  imports   [{"module", "name", "status"?, "certain"}]: the globals the pickle loads; with --check,
            status is "ok", "module-missing" (the module cannot be imported here) or "attribute-missing"
            (it has no such name). `certain` is false for a name found by its byte pattern only, which
            is never imported ("unchecked").
  packages  with --check: {top-level module: {"distribution", "version"} or null when nothing provides it}
  markers   versions the pickle records of the libraries that wrote it ({"scikit-learn": ["1.7.1"]},
            from scikit-learn's _sklearn_version; numpy 2 shows as imports of numpy._core)
  complete  false when the pickle could not be read to its end (what came before is listed, and the
            rest searched by byte patterns, which cannot be sure)
  format    pickle, or the compression it was read through (joblib's zlib, gzip, bz2, lzma)

The pickle is walked by pickle's own machine with every global replaced by an inert stand-in, so none
of its code runs and nothing it names is imported. joblib's layout is understood: numpy arrays written
as raw buffers right after their NumpyArrayWrapper (with joblib 1.2's alignment padding), and object
arrays as nested pickles, are stepped over as joblib's own reader steps over them. With --check,
importing the modules it names runs only those libraries' own code, as loading the model would.
"""

import bz2
import gzip
import importlib
import io
import json
import lzma
import pickle
import re
import sys
import zlib

MARKERS = {"_sklearn_version": "scikit-learn"}
JOBLIB_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
NUMPY_DTYPE = ("numpy", "dtype")


def read(path):
    """The pickle bytes, decompressed the way joblib (or a plain compressor) wrote them."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"ZF":  # joblib's old zlib format: "ZF" + hex length + zlib stream
        return zlib.decompress(data[data.index(b"x"):]), "joblib-zlib"
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data), "gzip"
    if data[:3] == b"BZh":
        return bz2.decompress(data), "bz2"
    if data[:6] == b"\xfd7zXZ\x00" or data[:1] == b"\x5d":
        try:
            return lzma.decompress(data), "lzma"
        except lzma.LZMAError:
            pass
    if data[:1] == b"\x78":
        try:
            return zlib.decompress(data), "zlib"
        except zlib.error:
            pass
    return data, "pickle"


class Stub:
    """An inert stand-in for anything a pickle names: it takes any arguments and any state."""

    __pier_name__ = ("builtins", "object")

    def __init__(self, *args, **kwargs):
        self.args = args
        self.state = None

    def __setstate__(self, state):
        self.state = state

    def __call__(self, *args, **kwargs):
        return type(self)(*args, **kwargs)

    # dict/list-like states and extensions some libraries use in __reduce_ex__
    def __setitem__(self, key, value):
        pass

    def append(self, value):
        pass

    def extend(self, values):
        pass


def itemsize(dtype):
    """Bytes per element of a numpy dtype stand-in, from its constructor argument and its state."""
    state = dtype.state if isinstance(dtype, Stub) else None
    if isinstance(state, tuple) and len(state) >= 6 and isinstance(state[5], int) and state[5] > 0:
        return state[5]  # numpy's dtype state: (version, endian, subdescr, names, fields, elsize, …)
    spec = dtype.args[0] if isinstance(dtype, Stub) and dtype.args else ""
    spec = spec.decode() if isinstance(spec, bytes) else str(spec)
    match = re.fullmatch(r"[<>=|]?([a-zA-Z])(\d*)", spec)
    if not match:
        raise ValueError(f"unknown dtype {spec!r}")
    kind, size = match.group(1), int(match.group(2) or 0)
    if kind == "U":
        return 4 * size
    if kind in "?b" and not size:
        return 1
    if kind == "O":
        return 0
    return size


def has_object(dtype):
    spec = dtype.args[0] if isinstance(dtype, Stub) and dtype.args else ""
    spec = spec.decode() if isinstance(spec, bytes) else str(spec)
    return spec.lstrip("<>=|").startswith("O")


class SymbolicUnpickler(pickle._Unpickler):
    """pickle's reference machine, with find_class returning stand-ins (recorded) instead of imports."""

    def __init__(self, file, found, markers):
        super().__init__(file)
        self.file_handle = file
        self.found = found
        self.markers = markers
        self.dispatch = dict(pickle._Unpickler.dispatch)
        self.dispatch[pickle.BUILD[0]] = SymbolicUnpickler.load_build

    def find_class(self, module, name):
        if (module, name) not in self.found:
            self.found.append((module, name))
        return type(name, (Stub,), {"__pier_name__": (module, name)})

    def persistent_load(self, pid):
        return Stub(pid)

    def load_build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        if isinstance(target, Stub):
            target.__setstate__(state)
        elif isinstance(target, dict) and isinstance(state, dict):
            target.update(state)
        if isinstance(state, dict):
            for key, library in MARKERS.items():
                version = state.get(key)
                if isinstance(version, str):
                    self.markers.setdefault(library, [])
                    if version not in self.markers[library]:
                        self.markers[library].append(version)
        if isinstance(target, Stub) and type(target).__pier_name__ == JOBLIB_WRAPPER:
            self.skip_array(state if isinstance(state, dict) else {})

    def skip_array(self, state):
        """Steps over the array data joblib wrote right after its wrapper (NumpyArrayWrapper.read_array)."""
        dtype = state.get("dtype")
        shape = state.get("shape") or ()
        if has_object(dtype):
            # Object arrays are a pickle of their own, in the same file.
            SymbolicUnpickler(self.file_handle, self.found, self.markers).load()
            return
        if state.get("numpy_array_alignment_bytes") is not None:
            padding = self.file_handle.read(1)
            if padding:
                self.file_handle.read(padding[0])
        count = 1
        for dimension in shape:
            count *= int(dimension)
        size = count * itemsize(dtype)
        skipped = self.file_handle.read(size)
        if len(skipped) != size:
            raise EOFError("the array's data ends early")


IDENT = rb"[A-Za-z_][A-Za-z0-9_]*"
DOTTED = IDENT + rb"(?:\." + IDENT + rb")*"
# Protocol 4+: SHORT_BINUNICODE module [MEMOIZE] SHORT_BINUNICODE name [MEMOIZE] STACK_GLOBAL. The
# length byte must match the name's length, or it is not an opcode.
STACK_GLOBAL = re.compile(rb"\x8c(.)(" + DOTTED + rb")\x94?\x8c(.)(" + DOTTED + rb")\x94?\x93", re.S)
# Protocols 0-3: GLOBAL "module\nname\n".
GLOBAL = re.compile(rb"c(" + DOTTED + rb")\n(" + DOTTED + rb")\n")
MARKER = re.compile(rb"\x8c\x10_sklearn_version\x94?(?:\x8c.|X....)([0-9][0-9A-Za-z.+-]*)", re.S)


def search(data):
    """Globals and markers found by their byte patterns: for what the machine could not reach."""
    found = []
    for match in STACK_GLOBAL.finditer(data):
        module, name = match.group(2), match.group(4)
        if match.group(1)[0] == len(module) and match.group(3)[0] == len(name):
            found.append((module.decode(), name.decode()))
    for match in GLOBAL.finditer(data):
        found.append((match.group(1).decode(), match.group(2).decode()))
    versions = [m.group(1).decode() for m in MARKER.finditer(data)]
    return found, ({"scikit-learn": list(dict.fromkeys(versions))} if versions else {})


def scan(data):
    """(module, name, certain) of every global, the version markers, and whether it was read to the end."""
    found, markers = [], {}
    stream = io.BytesIO(data)
    try:
        SymbolicUnpickler(stream, found, markers).load()
        return [(m, n, True) for m, n in found], markers, True
    except Exception:
        # What the machine could not read is searched by byte pattern: names found there are a guess.
        more, more_markers = search(data[stream.tell():])
        for library, versions in more_markers.items():
            markers.setdefault(library, [])
            markers[library].extend(v for v in versions if v not in markers[library])
        certain = [(m, n, True) for m, n in found]
        guessed = [(m, n, False) for m, n in dict.fromkeys(more) if (m, n) not in found]
        return certain + guessed, markers, False


def check(module, attr):
    try:
        loaded = importlib.import_module(module)
    except Exception:
        return "module-missing"
    target = loaded
    for part in attr.split("."):
        if not hasattr(target, part):
            return "attribute-missing"
        target = getattr(target, part)
    return "ok"


def provider(top):
    """The installed distribution that provides a top-level module, and its version; None if none does."""
    import importlib.metadata
    import importlib.util

    try:
        if importlib.util.find_spec(top) is None:
            return None
    except Exception:
        return None
    names = importlib.metadata.packages_distributions().get(top, [])
    for name in names:
        try:
            return {"distribution": name, "version": importlib.metadata.version(name)}
        except Exception:
            continue
    return {"distribution": None, "version": None}


def main():
    args = sys.argv[1:]
    checking = "--check" in args
    path = [a for a in args if a != "--check"][0]
    try:
        data, form = read(path)
        pairs, markers, complete = scan(data)
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return
    result = {"format": form, "complete": complete, "markers": markers}
    if checking:
        # A name guessed from bytes is never imported: it could be anything, and importing runs code.
        result["imports"] = [
            {"module": m, "name": n, "status": check(m, n) if certain else "unchecked", "certain": certain}
            for m, n, certain in pairs
        ]
        tops = sorted({m.split(".")[0] for m, _, certain in pairs if certain})
        result["packages"] = {top: provider(top) for top in tops}
    else:
        result["imports"] = [{"module": m, "name": n, "certain": certain} for m, n, certain in pairs]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
