"""The `<xml>` wire format of WeChat Pay API v2: strict parsing of hostile input, rendering like WeChat."""

from __future__ import annotations

import re
from collections.abc import Mapping
from xml.parsers import expat
from xml.parsers.expat import ExpatError

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
    return _fields(text.lstrip("\ufeff"))


class _Reader:
    """One `<xml>` document read by expat as it streams: the fields, and the first thing wrong with them."""

    def __init__(self) -> None:
        self.depth = 0
        self.root = ""
        self.root_attributes = False
        self.text: list[str] = []
        self.fields: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.nested: str = ""
        self.current = ""

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            self.root = name
            self.root_attributes = bool(attributes)
        elif self.depth == 2:
            self.current = name
            self.counts[name] = self.counts.get(name, 0) + 1
            self.fields.setdefault(name, [])
            if attributes and not self.nested:
                self.nested = name  # xmltodict read a field with attributes as a dict: nested, like an element
        elif not self.nested:
            self.nested = self.current

    def end(self, name: str) -> None:
        self.depth -= 1

    def data(self, chunk: str) -> None:
        if self.depth == 1:
            self.text.append(chunk)
        elif self.depth == 2:
            self.fields[self.current].append(chunk)


def _fields(text: str) -> dict[str, str]:
    """The fields of a flat `<xml>`, with xmltodict's view of what is not flat (its errors, word for word)."""
    reader = _Reader()
    parser = expat.ParserCreate("utf-8")  # the body was decoded as UTF-8: a declaration cannot say otherwise
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.buffer_text = True
    parser.ordered_attributes = False
    # Entities never expand (declarations are refused before this; an undeclared one is an expat error).
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(text.encode("utf-8"), True)
    except (ExpatError, ValueError) as exc:
        raise errors.XmlFormatError(f"the body is not well-formed XML: {exc}") from None
    if reader.root != "xml":
        raise errors.XmlFormatError(f"the root element must be <xml>, got <{reader.root or '?'}>")
    outside = "".join(reader.text).strip()
    if not reader.fields and not reader.root_attributes:  # xmltodict read such an <xml> as its text alone
        if outside:
            raise errors.XmlFormatError("<xml> must contain one element per field")
        return {}
    fields: dict[str, str] = {}
    for name, chunks in reader.fields.items():  # the fields' errors first, in document order, as xmltodict had them
        if reader.counts[name] > 1:
            raise errors.XmlFormatError(f"field <{name}> appears {reader.counts[name]} times")
        if name == reader.nested:
            raise errors.XmlFormatError(f"field <{name}> contains nested elements; v2 fields are flat text")
        fields[name] = "".join(chunks)
    if outside:
        raise errors.XmlFormatError(f"text {outside[:20]!r} outside any field of <xml>")
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
