"""Check bodies against a marketplace's vendored API document (plugins/*/tests/contracts/).

Test support, like testing.py: it imports jsonschema (the `test` extra), so nothing at run time
imports this module. One Contract per document: the request body of an operation, its answer for a status and its
required header parameters are validated with jsonschema; `$ref`s resolve inside the document.
OpenAPI 3.0's `nullable: true` is the one dialect difference that matters here and is turned
into JSON Schema's `type: [..., "null"]` on load. Used by the fake marketplace server
(tests/fakes: every request it receives and every answer it sends) and by the plugin tests.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

URI = "urn:vitrina:contract"


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    def __init__(self, doc: dict):
        self.doc = _nullable(copy.deepcopy(doc))
        self.source = doc.get("x-vendored", {})
        resource = Resource(contents=self.doc, specification=DRAFT4)
        self.registry = Registry().with_resource(URI, resource)
        self._validators: dict[str, Draft4Validator] = {}

    # ---- lookups ----------------------------------------------------------------------------
    def operation(self, method: str, path: str) -> dict | None:
        return (self.doc["paths"].get(path) or {}).get(method.lower())

    def _deref(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.registry.resolver(URI).lookup(URI + node["$ref"]).contents
        return node

    def _validator(self, pointer: str) -> Draft4Validator:
        if pointer not in self._validators:
            schema = {"$ref": f"{URI}#/{pointer}"}
            self._validators[pointer] = Draft4Validator(schema, registry=self.registry)
        return self._validators[pointer]

    def _content_pointer(self, base: list[str], node: dict) -> str | None:
        content = node.get("content") or {}
        for ctype in ("application/json", *content):
            if "schema" in content.get(ctype, {}):
                return _pointer(*base, "content", ctype, "schema")
        return None

    # ---- checks (each answers a list of readable errors; empty = conforms) --------------------
    def request_errors(self, method: str, path: str, body: Any) -> list[str]:
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path} is not in the published API"]
        body_node = op.get("requestBody")
        if body_node is None:
            return []
        pointer = self._content_pointer(["paths", path, method.lower(), "requestBody"], body_node)
        return self._errors(pointer, body, f"{method} {path} request")

    def response_errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path} is not in the published API"]
        responses = op.get("responses") or {}
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            return [f"{method} {path}: status {status} is not a documented answer"]
        base = ["paths", path, method.lower(), "responses", key]
        node = responses[key]
        if "$ref" in node:
            if "schemas" in node["$ref"]:  # Ozon's swagger puts a schema straight there
                return self._errors(_pointer(*base), body, f"{method} {path} answer {status}")
            base, node = node["$ref"][2:].split("/"), self._deref(node)
        pointer = self._content_pointer(base, node)
        return self._errors(pointer, body, f"{method} {path} answer {status}")

    def errors_at(self, pointer: str, instance: Any) -> list[str]:
        """Check `instance` against the schema at a JSON pointer of the document
        (e.g. "components/schemas/ProductsImport/items/properties/images")."""
        return self._errors(pointer, instance, pointer)

    def header_errors(self, method: str, path: str, headers: dict[str, str]) -> list[str]:
        op = self.operation(method, path) or {}
        seen = {k.lower() for k in headers}
        missing = []
        for param in op.get("parameters") or []:
            param = self._deref(param)
            required = param.get("in") == "header" and param.get("required")
            if required and param["name"].lower() not in seen:
                missing.append(param["name"])
        for scheme in self._security_headers(op):
            if scheme.lower() not in seen:
                missing.append(scheme)
        return [f"{method} {path}: missing header {name}" for name in missing]

    def _security_headers(self, op: dict) -> list[str]:
        schemes = self.doc.get("components", {}).get("securitySchemes", {})
        names = []
        for requirement in op.get("security", self.doc.get("security", [])):
            for name in requirement:
                scheme = schemes.get(name, {})
                if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                    names.append(scheme["name"])
        return names

    def _errors(self, pointer: str | None, body: Any, what: str) -> list[str]:
        if pointer is None:
            return []
        return [
            f"{what}: {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in self._validator(pointer).iter_errors(body)
        ]


@cache
def load_contract(path: Path) -> Contract:
    return Contract(json.loads(Path(path).read_text(encoding="utf-8")))
