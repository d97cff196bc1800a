"""The `<xml>` wire format: strict parsing of hostile input, and rendering the way WeChat writes it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_wechat import errors, signing
from mock_wechat.pay import v2_xml
from tests.pay_helpers import HMAC, MD5

KEY = "192006250b4c09247ec02edce69f6a2d"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><body>&lol3;</body></xml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><body>&xxe;</body></xml>"""


# -- parse: what is accepted -----------------------------------------------------------------------


def test_parse_reads_cdata_and_bare_values_as_strings() -> None:
    body = b"<xml><appid><![CDATA[wx1]]></appid><total_fee>100</total_fee></xml>"
    assert v2_xml.parse(body) == {"appid": "wx1", "total_fee": "100"}


def test_parse_reads_utf8_chinese_text() -> None:
    assert v2_xml.parse("<xml><body><![CDATA[腾讯充值中心-QQ会员充值]]></body></xml>".encode()) == {
        "body": "腾讯充值中心-QQ会员充值"
    }


def test_parse_accepts_a_utf8_bom() -> None:
    assert v2_xml.parse(b"\xef\xbb\xbf<xml><a>1</a></xml>") == {"a": "1"}


def test_parse_accepts_an_xml_declaration() -> None:
    assert v2_xml.parse(b'<?xml version="1.0" encoding="UTF-8"?><xml><a>1</a></xml>') == {"a": "1"}


def test_parse_ignores_indentation_between_fields() -> None:
    assert v2_xml.parse(b"<xml>\n  <a>1</a>\n  <b><![CDATA[2]]></b>\n</xml>\n") == {"a": "1", "b": "2"}


def test_parse_keeps_spaces_inside_a_value_because_the_sign_covers_them() -> None:
    assert v2_xml.parse(b"<xml><attach><![CDATA[ gift  wrap ]]></attach></xml>") == {"attach": " gift  wrap "}


def test_parse_reads_an_empty_element_as_an_empty_string() -> None:
    assert v2_xml.parse(b"<xml><device_info/><a>1</a></xml>") == {"device_info": "", "a": "1"}


def test_parse_reads_an_empty_root_as_no_fields() -> None:
    assert v2_xml.parse(b"<xml/>") == {}


def test_parse_reads_a_whitespace_only_root_as_no_fields() -> None:
    assert v2_xml.parse(b"<xml>\n</xml>") == {}


def test_parse_ignores_attributes_on_the_root() -> None:
    assert v2_xml.parse(b'<xml version="1"><a>1</a></xml>') == {"a": "1"}


def test_parse_decodes_predefined_entities_and_character_references() -> None:
    assert v2_xml.parse(b"<xml><a>&lt;b&gt;&amp;&#x41;&#66;</a></xml>") == {"a": "<b>&AB"}


def test_parse_joins_split_cdata_sections() -> None:
    assert v2_xml.parse(b"<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>") == {"a": "x]]>y"}


def test_parse_ignores_comments_and_processing_instructions() -> None:
    assert v2_xml.parse(b"<xml><!-- note --><?pi data?><a>1</a></xml>") == {"a": "1"}


# -- parse: what is refused, and as what -----------------------------------------------------------


def test_parse_refuses_an_empty_body_as_post_data_empty() -> None:
    with pytest.raises(errors.PostDataEmpty):
        v2_xml.parse(b"")


def test_parse_refuses_a_whitespace_body_as_post_data_empty() -> None:
    with pytest.raises(errors.PostDataEmpty):
        v2_xml.parse(b" \r\n\t ")


def test_parse_refuses_invalid_utf8_as_not_utf8() -> None:
    with pytest.raises(errors.NotUtf8):
        v2_xml.parse(b"<xml><body>\xff\xfe</body></xml>")


def test_parse_refuses_a_gbk_body_as_not_utf8_even_when_declared() -> None:
    body = '<?xml version="1.0" encoding="GBK"?><xml><body>中文</body></xml>'.encode("gbk")
    with pytest.raises(errors.NotUtf8):
        v2_xml.parse(body)


def test_parse_refuses_a_truncated_utf8_sequence_as_not_utf8() -> None:
    with pytest.raises(errors.NotUtf8):
        v2_xml.parse(b"<xml><body>\xe4\xb8</body></xml>")


def test_parse_refuses_xxe_as_xml_format_error() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(XXE)


def test_parse_refuses_billion_laughs_as_xml_format_error() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(BILLION_LAUGHS)


def test_parse_refuses_a_lowercase_doctype() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<!doctype xml><xml><a>1</a></xml>")


def test_parse_refuses_an_internal_subset_without_entities() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<!DOCTYPE xml [<!ELEMENT xml ANY>]><xml><a>1</a></xml>")


def test_parse_refuses_an_undefined_entity() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<xml><a>&xxe;</a></xml>")


def test_parse_refuses_malformed_xml() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<xml><a>1</a>")


def test_parse_refuses_plain_text() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"appid=wx1&mch_id=1")


def test_parse_refuses_json() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b'{"appid": "wx1"}')


def test_parse_refuses_a_root_other_than_xml() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<root><a>1</a></root>")


def test_parse_refuses_a_namespaced_xml_root() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b'<x:xml xmlns:x="urn:x"><a>1</a></x:xml>')


def test_parse_refuses_a_second_root() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<xml><a>1</a></xml><xml><a>2</a></xml>")


def test_parse_refuses_nested_elements() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<xml><detail><goods>1</goods></detail></xml>")


def test_parse_refuses_a_duplicate_field() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<xml><total_fee>1</total_fee><total_fee>100</total_fee></xml>")


def test_parse_refuses_attributes_on_a_field() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b'<xml><total_fee unit="fen">1</total_fee></xml>')


def test_parse_refuses_text_directly_inside_the_root() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<xml>stray<a>1</a></xml>")


def test_parse_refuses_a_nul_character() -> None:
    with pytest.raises(errors.XmlFormatError):
        v2_xml.parse(b"<xml><a>1\x00</a></xml>")


def test_every_parse_refusal_is_protocol_level() -> None:
    for error in (errors.PostDataEmpty, errors.NotUtf8, errors.XmlFormatError):
        assert error.protocol


# -- render -------------------------------------------------------------------------------------------


def test_render_puts_strings_in_cdata_and_integers_bare() -> None:
    assert v2_xml.render({"return_code": "SUCCESS", "total_fee": 100}) == (
        "<xml><return_code><![CDATA[SUCCESS]]></return_code><total_fee>100</total_fee></xml>"
    )


def test_render_keeps_the_field_order() -> None:
    assert v2_xml.render({"b": "2", "a": "1"}) == "<xml><b><![CDATA[2]]></b><a><![CDATA[1]]></a></xml>"


def test_render_puts_a_numeric_string_in_cdata() -> None:
    assert v2_xml.render({"mch_id": "1900000109"}) == "<xml><mch_id><![CDATA[1900000109]]></mch_id></xml>"


def test_render_of_no_fields_is_an_empty_root() -> None:
    assert v2_xml.render({}) == "<xml></xml>"


def test_render_splits_a_cdata_terminator_inside_a_value() -> None:
    assert v2_xml.render({"a": "x]]>y"}) == "<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>"


def test_cdata_terminator_round_trips_through_render_and_parse() -> None:
    value = "]]>start ]]> middle ]]]]> end]]>"
    assert v2_xml.parse(v2_xml.render({"attach": value}).encode()) == {"attach": value}


def test_markup_characters_round_trip_through_render_and_parse() -> None:
    value = "<b>&amp;</b> \"quoted\" 'single' 中文 😀"
    assert v2_xml.parse(v2_xml.render({"body": value}).encode()) == {"body": value}


def test_integers_round_trip_as_their_decimal_text() -> None:
    assert v2_xml.parse(v2_xml.render({"total_fee": 100, "coupon_fee": 0}).encode()) == {
        "total_fee": "100",
        "coupon_fee": "0",
    }


@pytest.mark.parametrize("sign_type", [MD5, HMAC])
def test_render_signed_adds_a_sign_that_verifies(sign_type: str) -> None:
    fields = v2_xml.parse(v2_xml.render_signed({"appid": "wx1", "total_fee": 1}, KEY, sign_type).encode())
    assert signing.v2_verify(fields, KEY, sign_type)


def test_render_signed_puts_the_sign_last() -> None:
    rendered = v2_xml.render_signed({"b": "2", "a": "1"}, KEY, MD5)
    assert list(v2_xml.parse(rendered.encode())) == ["b", "a", "sign"]


def test_render_signed_matches_the_official_vector() -> None:
    fields = {
        "appid": "wxd930ea5d5a258f4f",
        "mch_id": "10000100",
        "device_info": "1000",
        "body": "test",
        "nonce_str": "ibuaiVcKdpRxkhJA",
    }
    assert v2_xml.parse(v2_xml.render_signed(fields, KEY, MD5).encode())["sign"] == "9A0A8659F005D6984697E2CA0A9CF3B7"


def test_render_signed_leaves_empty_values_out_of_the_sign() -> None:
    rendered = v2_xml.parse(v2_xml.render_signed({"a": "1", "empty": ""}, KEY, MD5).encode())
    assert rendered["sign"] == signing.v2_sign({"a": "1"}, KEY, MD5)


# -- the reader agrees with xmltodict's view, which it replaced (for speed) ------------------------------------

PARTS = ("<a>1</a>", "<b> x </b>", "<a>2</a>", "<c><d>1</d></c>", '<e k="v">3</e>', "text", "  ", "\n",
         "<![CDATA[z]]>", "<f/>", "<g></g>", "&amp;", "<!-- c -->", "<h><![CDATA[<i>]]></h>", "<j>&lt;</j>", "&x;",
         "<k>中文</k>")  # fmt: skip


def xmltodict_reading(body: bytes) -> tuple[str, object]:
    """What parse() answered when it was built on xmltodict (the same checks, in the same order)."""
    from xml.parsers.expat import ExpatError

    import xmltodict

    try:
        doc = xmltodict.parse(body.decode(), disable_entities=True, strip_whitespace=False)
    except (ExpatError, ValueError) as exc:
        return "error", f"the body is not well-formed XML: {exc}"
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or list(doc) != ["xml"]:
        return "error", f"the root element must be <xml>, got <{next(iter(doc or {'?': 0}))}>"
    if root is None or (isinstance(root, str) and not root.strip()):
        return "fields", {}
    if not isinstance(root, dict):
        return "error", "<xml> must contain one element per field"
    fields = {}
    for name, value in root.items():
        if name.startswith("@"):
            continue
        if name == "#text":
            if str(value).strip():
                return "error", f"text {str(value).strip()[:20]!r} outside any field of <xml>"
            continue
        if isinstance(value, list):
            return "error", f"field <{name}> appears {len(value)} times"
        if isinstance(value, dict):
            return "error", f"field <{name}> contains nested elements; v2 fields are flat text"
        fields[name] = "" if value is None else str(value)
    return "fields", fields


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PARTS), max_size=7), st.booleans())
def test_the_reader_agrees_with_xmltodict(parts: list[str], attribute: bool) -> None:
    opening = '<xml id="1">' if attribute else "<xml>"
    body = (opening + "".join(parts) + "</xml>").encode()
    try:
        reading: tuple[str, object] = ("fields", v2_xml.parse(body))
    except errors.WeChatError as exc:
        reading = ("error", exc.diagnostic)
    assert reading == xmltodict_reading(body)
