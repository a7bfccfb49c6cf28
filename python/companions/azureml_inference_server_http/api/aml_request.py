"""`rawhttp` and `AMLRequest`, as Azure's inference server gives them to a scoring script.

`@rawhttp` on run() asks for the HTTP request itself: run(request) then gets an AMLRequest, which
answers the parts of a Flask request that scoring scripts use (method, path, args, headers, data,
get_data, get_json/json, is_json, files and form of a multipart upload).
"""

import email.parser
import email.policy
import io
import json
from urllib.parse import parse_qsl

# Set when a scoring script applies @rawhttp (the server reads it after importing the script).
_rawHttpRequested = False


def rawhttp(func):
    """Marks run() as taking the raw HTTP request."""
    global _rawHttpRequested
    _rawHttpRequested = True
    return func


class MultiDict(dict):
    """A dict of first values that also keeps every value of a repeated key (werkzeug's MultiDict)."""

    def __init__(self, pairs=()):
        super().__init__()
        self._lists = {}
        for key, value in pairs:
            self._lists.setdefault(key, []).append(value)
            if key not in self:
                super().__setitem__(key, value)

    def getlist(self, key, type=None):
        values = self._lists.get(key, [])
        return [type(v) for v in values] if type else list(values)

    def get(self, key, default=None, type=None):
        if key not in self:
            return default
        value = self[key]
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def to_dict(self, flat=True):
        return dict(self) if flat else {k: list(v) for k, v in self._lists.items()}


class Headers:
    """Request headers, looked up without regard to case."""

    def __init__(self, pairs):
        self._pairs = [(k, v) for k, v in pairs]

    def get(self, key, default=None):
        lower = key.lower()
        for k, v in self._pairs:
            if k.lower() == lower:
                return v
        return default

    def __getitem__(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key):
        return self.get(key) is not None

    def items(self):
        return list(self._pairs)

    def keys(self):
        return [k for k, _ in self._pairs]

    def __iter__(self):
        return iter(self._pairs)

    def __len__(self):
        return len(self._pairs)

    def to_wsgi_list(self):
        return list(self._pairs)


class FileStorage:
    """An uploaded file of a multipart request: read it, or hand it to a library as a file object."""

    def __init__(self, data, filename, name, content_type):
        self.stream = io.BytesIO(data)
        self.filename = filename
        self.name = name
        self.content_type = content_type
        self.mimetype = (content_type or "").split(";")[0].strip()

    def save(self, destination):
        data = self.stream.getvalue()
        if hasattr(destination, "write"):
            destination.write(data)
        else:
            with open(destination, "wb") as handle:
                handle.write(data)

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def __repr__(self):
        return f"<FileStorage: {self.filename!r} ({self.content_type!r})>"


def _multipart(body, content_type):
    """form fields and files of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    form, files = [], []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files.append((name, FileStorage(payload, filename, name, part.get_content_type())))
        else:
            form.append((name, payload.decode(part.get_content_charset() or "utf-8", "replace")))
    return MultiDict(form), MultiDict(files)


class AMLRequest:
    """The HTTP request a @rawhttp run() gets."""

    def __init__(self, method="GET", path="/score", query="", headers=(), body=b""):
        self.method = method
        self.path = path
        self.query_string = query.encode("latin-1")
        self.full_path = f"{path}?{query}"
        self.args = MultiDict(parse_qsl(query, keep_blank_values=True))
        self.headers = Headers(headers)
        self._body = body
        self.content_type = self.headers.get("Content-Type")
        self.mimetype = (self.content_type or "").split(";")[0].strip().lower()
        self.url = f"http://127.0.0.1{self.full_path}"
        self.remote_addr = "127.0.0.1"
        self._form = self._files = None

    @property
    def data(self):
        return self._body

    def get_data(self, cache=True, as_text=False, parse_form_data=False):
        return self._body.decode("utf-8", "replace") if as_text else self._body

    @property
    def is_json(self):
        return self.mimetype == "application/json" or (
            self.mimetype.startswith("application/") and self.mimetype.endswith("+json")
        )

    def get_json(self, force=False, silent=False, cache=True):
        if not (force or self.is_json):
            if silent:
                return None
            raise ValueError("Did not attempt to load JSON data because the request Content-Type was not 'application/json'.")
        try:
            return json.loads(self._body)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self):
        return self.get_json()

    def _parse_form(self):
        if self._form is None:
            if self.mimetype == "multipart/form-data":
                self._form, self._files = _multipart(self._body, self.content_type)
            elif self.mimetype == "application/x-www-form-urlencoded":
                self._form = MultiDict(parse_qsl(self._body.decode("utf-8", "replace"), keep_blank_values=True))
                self._files = MultiDict()
            else:
                self._form, self._files = MultiDict(), MultiDict()

    @property
    def form(self):
        self._parse_form()
        return self._form

    @property
    def files(self):
        self._parse_form()
        return self._files

    @property
    def values(self):
        return MultiDict([*self.args.items(), *self.form.items()])

    def __repr__(self):
        return f"<AMLRequest '{self.url}' [{self.method}]>"
