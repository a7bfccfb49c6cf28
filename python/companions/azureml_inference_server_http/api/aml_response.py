"""`AMLResponse`, the answer a scoring script builds itself, as Azure's inference server takes it.

AMLResponse(message, status_code, response_headers={}, json_str=False): with json_str the message is
JSON-encoded (application/json); otherwise it is sent as it is (str or bytes, text/html unless the
headers give a Content-Type); None is an empty JSON object. A header value with commas becomes one
header per value. 5xx answers are marked x-ms-run-function-failed. As the server's class is a Flask
Response, `mimetype` and `content_type` can be set afterwards (resp.mimetype = "image/jpeg"), and a
text mimetype gets Flask's "; charset=utf-8".
"""

import json


class AMLResponse:
    def __init__(self, message, status_code, response_headers=None, json_str=False, run_function_failed=False):
        response_headers = response_headers or {}
        self.status_code = int(status_code)
        self.headers = []
        if message is None:
            body, content_type = json.dumps({}), "application/json"
        elif json_str:
            body, content_type = json.dumps(message), "application/json"
        else:
            body, content_type = message, "text/html; charset=utf-8"
            if any(k.lower() == "content-type" for k in response_headers):
                content_type = None
        self._body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        if content_type:
            self.headers.append(("Content-Type", content_type))
        self.headers.append(("x-ms-run-function-failed", str(bool(run_function_failed))))
        for header, value in response_headers.items():
            for part in str(value).split(","):
                self.headers.append((header, part.strip()))

    def _header(self, name):
        return next((v for k, v in self.headers if k.lower() == name), None)

    def _set_header(self, name, value):
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            self.headers.insert(0, (name, value))

    @property
    def content_type(self):
        return self._header("content-type")

    @content_type.setter
    def content_type(self, value):
        self._set_header("Content-Type", value)

    @property
    def mimetype(self):
        value = self.content_type
        return value.split(";")[0].strip().lower() if value else None

    @mimetype.setter
    def mimetype(self, value):
        # Flask (werkzeug's get_content_type): text types and a few others carry the charset.
        text = value.startswith("text/") or value in ("application/xml", "application/javascript") or value.endswith("+xml")
        self._set_header("Content-Type", f"{value}; charset=utf-8" if text else value)

    @property
    def status(self):
        return str(self.status_code)

    def get_data(self, as_text=False):
        return self._body.decode("utf-8", "replace") if as_text else self._body

    @property
    def data(self):
        return self._body

    def __repr__(self):
        return f"<AMLResponse {len(self._body)} bytes [{self.status_code}]>"
