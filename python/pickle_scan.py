"""Lists what a pickle would import, without unpickling it, and checks each import here.

Usage: python3 pickle_scan.py FILE
Prints one JSON object: {"imports": [{"module", "name", "status"}]} where status is "ok",
"module-missing" (the module cannot be imported in this interpreter) or "attribute-missing" (the
module has no such name). Reading the opcodes runs none of the pickle's code; importing the modules
it names runs only those libraries' own code, as loading the model would.
"""

import importlib
import json
import pickletools
import sys

STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}


def globals_of(path):
    found = []
    recent = []  # strings pushed lately, for STACK_GLOBAL (module, name)
    memo = {}
    with open(path, "rb") as f:
        data = f.read()
    # joblib files may hold several pickles and raw array data; read the opcodes of the first.
    for op, arg, _pos in pickletools.genops(data):
        name = op.name
        if name == "GLOBAL" or name == "INST":
            module, _, attr = str(arg).partition(" ")
            found.append((module, attr))
        elif name in STRING_OPS:
            recent.append(arg if isinstance(arg, str) else arg.decode("latin-1", "replace"))
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
    return list(dict.fromkeys(found))


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


def main():
    try:
        pairs = globals_of(sys.argv[1])
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return
    print(json.dumps({"imports": [{"module": m, "name": n, "status": check(m, n)} for m, n in pairs]}))


if __name__ == "__main__":
    main()
