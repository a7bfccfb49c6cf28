"""Lists what a pickle would import, without unpickling it, and (with --check) checks each import here.

Usage: python3 pickle_scan.py [--check] FILE
Prints one JSON object:
  imports   [{"module", "name", "status"?}]: the globals the pickle loads; with --check, status is "ok",
            "module-missing" (the module cannot be imported here) or "attribute-missing" (it has no such name)
  packages  with --check: {top-level module: {"distribution", "version"} or null when nothing provides it}
  markers   versions the pickle records of the libraries that wrote it ({"scikit-learn": ["1.7.1"]},
            from scikit-learn's _sklearn_version; numpy 2 shows as imports of numpy._core)
  complete  false when the opcodes could not be read to the end (joblib's raw array data stops the
            reader; what came before is listed)
  format    pickle, or the compression it was read through (joblib's zlib, gzip, bz2, lzma)
Reading the opcodes runs none of the pickle's code; with --check, importing the modules it names runs
only those libraries' own code, as loading the model would.
"""

import bz2
import gzip
import importlib
import json
import lzma
import pickletools
import re
import sys
import zlib

STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
MARKERS = {"_sklearn_version": "scikit-learn"}


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


def scan(data):
    found = []
    markers = {}
    recent = []  # strings pushed lately, for STACK_GLOBAL (module, name) and version markers
    memo = {}
    complete = True
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            if name == "GLOBAL" or name == "INST":
                module, _, attr = str(arg).partition(" ")
                found.append((module, attr))
            elif name in STRING_OPS:
                text = arg if isinstance(arg, str) else arg.decode("latin-1", "replace")
                if recent and recent[-1] in MARKERS:
                    markers.setdefault(MARKERS[recent[-1]], [])
                    if text not in markers[MARKERS[recent[-1]]]:
                        markers[MARKERS[recent[-1]]].append(text)
                recent.append(text)
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                if recent:
                    memo[arg] = recent[-1]
            elif name == "MEMOIZE":
                if recent:
                    memo[len(memo)] = recent[-1]
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                if arg in memo:
                    recent.append(memo[arg])
            elif name == "STACK_GLOBAL" and len(recent) >= 2:
                found.append((recent[-2], recent[-1]))
            if name == "STOP":
                break
    except Exception:
        # joblib writes numpy arrays' raw bytes between opcodes, which stops the opcode reader; the
        # rest is searched for the byte patterns of globals and version markers instead.
        complete = False
        more, more_markers = search(data)
        found.extend(more)
        for library, versions in more_markers.items():
            markers.setdefault(library, [])
            markers[library].extend(v for v in versions if v not in markers[library])
    return list(dict.fromkeys(found)), markers, complete


IDENT = rb"[A-Za-z_][A-Za-z0-9_]*"
DOTTED = IDENT + rb"(?:\." + IDENT + rb")*"
# Protocol 4+: SHORT_BINUNICODE module [MEMOIZE] SHORT_BINUNICODE name [MEMOIZE] STACK_GLOBAL.
STACK_GLOBAL = re.compile(rb"\x8c.(" + DOTTED + rb")\x94?\x8c.(" + DOTTED + rb")\x94?\x93", re.S)
# Protocols 0-3: GLOBAL "module\nname\n".
GLOBAL = re.compile(rb"c(" + DOTTED + rb")\n(" + DOTTED + rb")\n")
MARKER = re.compile(rb"\x8c\x10_sklearn_version\x94?(?:\x8c.|X....)([0-9][0-9A-Za-z.+-]*)", re.S)


def search(data):
    """Globals and markers found by their byte patterns: for what the opcode reader could not reach."""
    found = []
    for pattern in (STACK_GLOBAL, GLOBAL):
        for match in pattern.finditer(data):
            found.append((match.group(1).decode(), match.group(2).decode()))
    versions = [m.group(1).decode() for m in MARKER.finditer(data)]
    return found, ({"scikit-learn": list(dict.fromkeys(versions))} if versions else {})


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
        result["imports"] = [{"module": m, "name": n, "status": check(m, n)} for m, n in pairs]
        tops = sorted({m.split(".")[0] for m, _ in pairs})
        result["packages"] = {top: provider(top) for top in tops}
    else:
        result["imports"] = [{"module": m, "name": n} for m, n in pairs]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
