"""The `<xml>` wire format of WeChat Pay API v2: strict parsing of hostile input, rendering like WeChat."""

from __future__ import annotations

import re
from collections.abc import Mapping
from xml.parsers.expat import ExpatError

import xmltodict

from mock_wechat import errors, signing

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_CDATA_END = "]]>"


def parse(body: bytes) -> dict[str, str]:
    """A flat `<xml>` document as a dict of strings; anything else is a protocol-level error."""
    if not body.strip():
        raise errors.PostDataEmpty("the request body is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.NotUtf8(f"the body is not UTF-8 (byte {exc.start}: {body[exc.start : exc.start + 4]!r})") from None
    if _DECLARATION.search(body):
        raise errors.XmlFormatError("DOCTYPE/ENTITY declarations are refused (XXE and entity-expansion attacks)")
    try:
        # Whitespace is kept: a value's spaces are part of what the merchant signed.
        doc = xmltodict.parse(text.lstrip("\ufeff"), disable_entities=True, strip_whitespace=False)
    except (ExpatError, ValueError) as exc:
        raise errors.XmlFormatError(f"the body is not well-formed XML: {exc}") from None
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or list(doc) != ["xml"]:
        raise errors.XmlFormatError(f"the root element must be <xml>, got <{next(iter(doc or {'?': 0}))}>")
    if root is None or (isinstance(root, str) and not root.strip()):
        return {}
    if not isinstance(root, dict):
        raise errors.XmlFormatError("<xml> must contain one element per field")
    fields: dict[str, str] = {}
    for name, value in root.items():
        if name.startswith("@"):
            continue  # attributes on <xml> are ignored, as WeChat ignores them
        if name == "#text":
            if str(value).strip():
                raise errors.XmlFormatError(f"text {str(value).strip()[:20]!r} outside any field of <xml>")
            continue  # indentation between fields
        if isinstance(value, list):
            raise errors.XmlFormatError(f"field <{name}> appears {len(value)} times")
        if isinstance(value, dict):
            raise errors.XmlFormatError(f"field <{name}> contains nested elements; v2 fields are flat text")
        fields[name] = "" if value is None else str(value)
    return fields


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace(_CDATA_END, "]]]]><![CDATA[>") + "]]>"


def render(fields: Mapping[str, str | int]) -> str:
    """`<xml>` with strings in CDATA and integers bare, as WeChat writes them."""
    parts = ["<xml>"]
    for name, value in fields.items():
        text = str(value) if isinstance(value, int) else _cdata(value)
        parts.append(f"<{name}>{text}</{name}>")
    parts.append("</xml>")
    return "".join(parts)


def sign_fields(fields: Mapping[str, str | int], key: str, sign_type: str) -> dict[str, str | int]:
    """The fields and their `sign` (over every non-empty field), computed as the receiver will check it."""
    as_text = {k: str(v) for k, v in fields.items()}
    return {**fields, "sign": signing.v2_sign(as_text, key, sign_type)}


def render_signed(fields: Mapping[str, str | int], key: str, sign_type: str) -> str:
    return render(sign_fields(fields, key, sign_type))
