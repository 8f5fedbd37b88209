"""The two formats of GeoReport v2 and its one error shape.

A view builds plain values (dicts, lists, strings, numbers, None) in the order the spec
lists the fields; :func:`answer` writes them as JSON, or as XML with the spec's element
names: a list is a wrapper element whose items take the singular name (``<services>`` of
``<service>``, ``<service_requests>`` of ``<request>``, ``<errors>`` of ``<error>``), None
is an empty element, booleans are ``true``/``false``. XML is built with
:mod:`xml.etree.ElementTree` (escaping is its job), after the XML declaration the spec
asks for, and characters XML 1.0 cannot carry are dropped.
"""
from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, request

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
#: the extensions the endpoints answer, and the content type of each
FORMATS = {"json": JSON_TYPE, "xml": XML_TYPE}
#: what discovery announces (the spec's MIME names)
FORMAT_NAMES = ["text/xml", "application/json"]
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

#: the element of a list's items, by the list's own element name
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}

# XML 1.0 allows tab, newline, carriage return and these ranges, nothing else.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """An error answered in the spec's shape with the same HTTP status."""

    def __init__(self, code: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.headers = headers or {}


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return xml_text(str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, (list, tuple)):
        name = ITEM_NAMES[element.tag]
        for item in value:
            _fill(ET.SubElement(element, name), item)
    else:
        element.text = _scalar(value)


def to_xml(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode")).encode("utf-8")


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def answer(fmt: str, root: str, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``data`` as ``fmt`` (``json`` or ``xml``); ``root`` names the XML root element."""
    if fmt == "json":
        body, content_type = to_json(data), JSON_TYPE
    else:
        body, content_type = to_xml(root, data), XML_TYPE
    response = Response(body, status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_format(fmt: str | None = None) -> str:
    """The format of an error: the endpoint's when it is one of ours; otherwise what the
    client accepts (XML, the spec's required format, unless JSON is preferred)."""
    if fmt in FORMATS:
        return fmt
    best = request.accept_mimetypes.best_match(["text/xml", "application/xml", "application/json"],
                                               default="text/xml")
    return "json" if best == "application/json" else "xml"


def error_answer(error: Open311Error, fmt: str | None = None) -> Response:
    """``[{"code": 400, "description": "..."}]`` / ``<errors><error>…</error></errors>``."""
    data = [{"code": error.code, "description": error.description}]
    return answer(error_format(fmt), "errors", data, status=error.code, headers=error.headers)
