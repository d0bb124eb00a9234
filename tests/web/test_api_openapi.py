"""The OpenAPI description at /api/v1/openapi.json matches the app's routes, both ways."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

PREFIX = "/api/v1"


def _routes(app: Flask) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(PREFIX) :])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((path, method.lower()))
    return out


def test_every_route_is_documented_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    answer = client.get(f"{PREFIX}/openapi.json")  # no token needed
    assert answer.status_code == 200
    doc = answer.get_json()
    assert doc["openapi"].startswith("3.") and doc["servers"] == [{"url": PREFIX}]
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routes = _routes(app)
    assert len(routes) >= 17
    assert documented == routes


def test_each_path_parameter_is_declared(client: FlaskClient) -> None:
    doc = client.get(f"{PREFIX}/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        wanted = set(re.findall(r"\{(\w+)\}", path))
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == wanted, (path, method)
            assert op["responses"], (path, method)
