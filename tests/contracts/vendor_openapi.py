"""Cut the operations we call out of a marketplace's published OpenAPI document.

    python tests/contracts/vendor_openapi.py SOURCE.(json|yaml) OUT.json --source URL \
        --taken 2026-12-02 POST:/v1/product/pictures/import ...

OUT keeps the chosen paths and every component they reach through $ref, unchanged, plus
`x-vendored` (where and when it was taken), so a test can validate our bodies and our fakes'
answers against the marketplace's own words and a later refresh is one command.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _put(out: dict, doc: dict, ref: str) -> Any:
    parts = ref[2:].split("/")
    node, target = doc, out
    for part in parts:
        node = node[part]
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = node
    return node


def cut(doc: dict, operations: list[tuple[str, str]]) -> dict:
    """The document reduced to `operations` ((method, path) pairs) and what they reference."""
    out: dict[str, Any] = {k: doc[k] for k in ("openapi", "info", "security") if k in doc}
    schemes = doc.get("components", {}).get("securitySchemes")
    if schemes:  # reached by name from `security`, never by $ref
        out["components"] = {"securitySchemes": schemes}
    out["paths"] = {}
    for method, path in operations:
        out["paths"].setdefault(path, {})[method] = doc["paths"][path][method]
    todo, seen = list(_refs(out["paths"])), set()
    while todo:
        ref = todo.pop()
        if ref not in seen:
            seen.add(ref)
            todo.extend(_refs(_put(out, doc, ref)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("operations", nargs="+", help="METHOD:/path")
    parser.add_argument("--source-url", required=True)
    parser.add_argument("--taken", required=True)
    args = parser.parse_args()
    text = Path(args.source).read_text(encoding="utf-8")
    if args.source.endswith((".yaml", ".yml")):
        import yaml

        doc = yaml.safe_load(text)
    else:
        doc = json.loads(text)
    ops = [(m.lower(), p) for m, p in (o.split(":", 1) for o in args.operations)]
    result = cut(doc, ops)
    result["x-vendored"] = {"from": args.source_url, "taken": args.taken}
    Path(args.out).write_text(
        json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
