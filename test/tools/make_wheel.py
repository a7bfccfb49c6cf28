"""Writes a minimal pure-Python wheel that pip installs: make_wheel.py DIR NAME VERSION SOURCE.

The package is one module, NAME with dashes as underscores, whose __init__.py is SOURCE. For tests
and the benchmark, which build environments from a local wheel folder (no package index here).
"""

import base64
import hashlib
import os
import sys
import zipfile

out, name, version, source = sys.argv[1:5]
module = name.replace("-", "_")
info = f"{module}-{version}.dist-info"
files = {
    f"{module}/__init__.py": source,
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: pier-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}


def digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


files[f"{info}/RECORD"] = "".join(
    f"{path},{digest(text.encode())},{len(text.encode())}\n" for path, text in files.items()
) + f"{info}/RECORD,,\n"
with zipfile.ZipFile(os.path.join(out, f"{module}-{version}-py3-none-any.whl"), "w") as archive:
    for path, text in files.items():
        archive.writestr(path, text)
