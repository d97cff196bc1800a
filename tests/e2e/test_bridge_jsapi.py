"""JS-SDK APIs other than payment, through the official jweixin and through our jweixin-sandbox.js.

Each page logs `[event, res]` pairs from its callbacks in `window.log`; both SDKs must log the same.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.shop import Sandbox, Shop, WeChatPage, page_html

WX_SDKS = ("official", "sandbox")
CALLBACKS = (
    "{success: function (r) { log.push(['success', r]); },"
    " cancel: function (r) { log.push(['cancel', r]); },"
    " fail: function (r) { log.push(['fail', r]); }}"
)
"""JS: jweixin callbacks that log `[event, res]`."""
SHARE_TITLE = "春季上新 Spring sale"


@pytest.fixture(params=WX_SDKS)
def sdk(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_in_ready(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str, call: str, jsapis: list[str]
) -> Page:
    """Open a shop page that configures wx for `jsapis` and runs `call` (JS, may use CALLBACKS) in wx.ready."""
    wechat = Sandbox(sandbox_server.url)
    path = f"/jsapi/{sdk}"
    script = wechat.wx_config(shop.url + path, jsapis=jsapis) + (
        "wx.error(function (r) { log.push(['error', r]); });"
        "wx.ready(function () { log.push(['ready']); " + call + " });"
    )
    shop.pages[path] = page_html(sandbox_server.url, sdk, script)
    phone.page.goto(shop.url + path)
    return phone.page


def logged(page: Page, count: int) -> list[Any]:
    page.wait_for_function("n => window.log.length >= n", arg=count)
    entries = page.evaluate("window.log")
    assert isinstance(entries, list)
    return entries


def test_get_network_type_is_wifi(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str) -> None:
    call = f"wx.getNetworkType({CALLBACKS});"
    page = run_in_ready(sandbox_server, shop, phone, sdk, call, ["getNetworkType"])
    assert logged(page, 2) == [["ready"], ["success", {"errMsg": "getNetworkType:ok", "networkType": "wifi"}]]


def test_update_app_message_share_data_shows_a_toast_and_is_journaled(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    card = {"title": SHARE_TITLE, "desc": "全场八折", "link": f"{shop.url}/jsapi/{sdk}", "imgUrl": f"{shop.url}/a.png"}
    call = f"wx.updateAppMessageShareData(Object.assign({json.dumps(card)}, {CALLBACKS}));"
    page = run_in_ready(sandbox_server, shop, phone, sdk, call, ["updateAppMessageShareData"])
    assert logged(page, 2) == [["ready"], ["success", {"errMsg": "updateAppMessageShareData:ok"}]]
    expect(page.get_by_test_id("wechat-toast")).to_contain_text(SHARE_TITLE)
    entries = requests.get(f"{sandbox_server.url}/_sandbox/api/journal", timeout=5).json()["entries"]
    shares = [
        e for e in entries if e["path"] == "/_sandbox/bridge/invoke" and any(SHARE_TITLE in n for n in e["notes"])
    ]
    assert len(shares) == 1
    assert any("updateAppMessageShareData" in note for note in shares[0]["notes"])


def test_check_js_api_answers_per_api(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str) -> None:
    call = f"wx.checkJsApi(Object.assign({{jsApiList: ['chooseWXPay', 'foo']}}, {CALLBACKS}));"
    page = run_in_ready(sandbox_server, shop, phone, sdk, call, ["chooseWXPay"])
    result = {"errMsg": "checkJsApi:ok", "checkResult": {"chooseWXPay": True, "foo": False}}
    assert logged(page, 2) == [["ready"], ["success", result]]


def test_the_bridge_answers_check_js_api_with_a_json_string_on_android(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    """What jweixin parses on Android: the client's checkResult is a JSON string, keyed by bridge names."""
    script = (
        "WeixinJSBridge.invoke('checkJsApi', {jsApiList: ['getBrandWCPayRequest', 'foo']},"
        " function (res) { log.push(res); });"
    )
    shop.pages["/jsapi/raw"] = page_html(sandbox_server.url, "raw", script)
    phone.page.goto(f"{shop.url}/jsapi/raw")
    [answer] = logged(phone.page, 1)
    assert answer["err_msg"] == "checkJsApi:ok"
    assert isinstance(answer["checkResult"], str)
    assert json.loads(answer["checkResult"]) == {"getBrandWCPayRequest": True, "foo": False}


def test_close_window_succeeds_and_says_so(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str) -> None:
    page = run_in_ready(sandbox_server, shop, phone, sdk, f"wx.closeWindow({CALLBACKS});", ["closeWindow"])
    assert logged(page, 2) == [["ready"], ["success", {"errMsg": "closeWindow:ok"}]]
    expect(page.get_by_test_id("wechat-alert-text")).to_contain_text("closeWindow")
    page.get_by_test_id("wechat-alert-ok").click()
    expect(page.get_by_test_id("wechat-alert")).to_have_count(0)


def test_an_api_without_special_handling_answers_ok(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    call = f"wx.hideOptionMenu({CALLBACKS});"
    page = run_in_ready(sandbox_server, shop, phone, sdk, call, ["chooseWXPay", "hideOptionMenu"])
    assert logged(page, 2) == [["ready"], ["success", {"errMsg": "hideOptionMenu:ok"}]]


def test_a_legacy_menu_share_answers_when_the_user_shares(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    """onMenuShareTimeline in jsApiList also allows the shareTimeline call jweixin makes when the user shares."""
    card = {"title": SHARE_TITLE, "link": f"{shop.url}/jsapi/{sdk}", "imgUrl": f"{shop.url}/a.png"}
    call = (
        f"wx.onMenuShareTimeline(Object.assign({json.dumps(card)}, {CALLBACKS}));"
        "WeixinJSBridge.__wechatSandbox.trigger('menu:share:timeline');"
    )
    page = run_in_ready(sandbox_server, shop, phone, sdk, call, ["onMenuShareTimeline"])
    assert logged(page, 2) == [["ready"], ["success", {"errMsg": "shareTimeline:ok"}]]
    expect(page.get_by_test_id("wechat-toast")).to_contain_text(SHARE_TITLE)


def test_config_without_check_is_ready_without_pre_verify(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    spy = (
        "window.invoked = []; var realInvoke = WeixinJSBridge.invoke;"
        "WeixinJSBridge.invoke = function (name) { invoked.push(name); return realInvoke.apply(this, arguments); };"
    )
    config = {"check": False, "debug": False, "appId": "wx-not-checked", "jsApiList": ["chooseWXPay"]}
    script = spy + (
        f"wx.config({json.dumps(config)});"
        "wx.error(function (r) { log.push(['error', r]); });"
        "wx.ready(function () { log.push(['ready', invoked.slice()]); });"
    )
    shop.pages["/jsapi/unchecked"] = page_html(sandbox_server.url, sdk, script)
    page = phone.page
    page.goto(f"{shop.url}/jsapi/unchecked")
    assert logged(page, 1) == [["ready", []]]
    entries = requests.get(f"{sandbox_server.url}/_sandbox/api/journal", timeout=5).json()["entries"]
    assert not [e for e in entries if any("preVerifyJSAPI" in note for note in e["notes"])]
    assert page.evaluate("window.invoked") == []


def test_the_report_beacon_answers_204(sandbox_server: LiveServer) -> None:
    answer = requests.get(f"{sandbox_server.url}/sdk/report", params={"v": "1", "o": "0", "s": "2"}, timeout=5)
    assert answer.status_code == 204
    assert answer.content == b""


def test_jweixin_is_served_as_javascript_at_the_res_wx_qq_com_path(sandbox_server: LiveServer) -> None:
    answer = requests.get(f"{sandbox_server.url}/open/js/jweixin-1.6.0.js", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0].strip() in ("application/javascript", "text/javascript")
    assert "getBrandWCPayRequest" in answer.text


# -- the same bridge calls and results from both SDKs ---------------------------------------------------

SPY = """
window.invoked = []; window.answered = 0; window.listening = [];
var realInvoke = WeixinJSBridge.invoke, realOn = WeixinJSBridge.on;
WeixinJSBridge.invoke = function (name, args, callback) {
  invoked.push([name, JSON.parse(JSON.stringify(args))]);
  return realInvoke.call(this, name, args, function (res) {
    try { if (callback) callback(Object.assign(res, clientAnswers[name] || {})); } finally { answered += 1; }
  });
};
WeixinJSBridge.on = function (name, callback) { listening.push(name); return realOn.call(this, name, callback); };
function cb(label) {
  var record = function (event) { return function (r) { log.push([label, event, r]); }; };
  return {success: record('success'), fail: record('fail'), cancel: record('cancel'), complete: record('complete'),
          trigger: record('trigger')};
}
function withCb(label, opts) { return Object.assign(opts, cb(label)); }
"""
CLIENT_ANSWERS = {
    "chooseImage": {"localIds": '["wxLocalResource://a", "wxLocalResource://b"]'},
    "geoLocation": {"latitude": 22.5, "longitude": 114.1, "type": "gcj02"},
    "editAddress": {
        "userName": "张三", "addressPostalCode": "518000", "proviceFirstStageName": "广东省",
        "addressCitySecondStageName": "深圳市", "addressCountiesThirdStageName": "南山区",
        "addressDetailInfo": "科技园", "telNumber": "13800000000",
    },
    "batchAddCard": {"card_list": '[{"card_id": "c1", "card_ext": "{}", "is_succ": 1}]'},
    "chooseCard": {"choose_card_info": '[{"card_id": "c1", "encrypt_code": "x"}]'},
    "openBusinessView": {"extraData": '{"k": 1}', "err_code": 0},
    "openEnterpriseChat": {"err_code": 0, "err_desc": "d"},
    "scanQRCode": {"resultStr": "http://example.com/qr"},
}  # fmt: skip
"""What a real client adds to some answers (the sandbox does not): the fields jweixin rewrites, Android style."""
CALLS = """
wx.checkJsApi(withCb('checkJsApi', {jsApiList: checked}));
wx.updateTimelineShareData(withCb('timeline', {title: 'T', desc: 'D', link: location.href, imgUrl: 'i.png'}));
wx.updateAppMessageShareData(withCb('appmessage', {title: 'T', desc: 'D', link: location.href, imgUrl: 'i.png'}));
wx.onMenuShareTimeline(withCb('menuTimeline', {title: 'MT', link: location.href, imgUrl: 'm.png'}));
wx.onMenuShareAppMessage(withCb('menuAppMessage', {title: 'MA', desc: 'MD', imgUrl: 'm.png', type: 'music',
                                                   dataUrl: 'd.mp3'}));
wx.onMenuShareQQ(withCb('menuQQ', {title: 'MQ', desc: 'MD', link: location.href, imgUrl: 'm.png'}));
wx.onMenuShareWeibo(withCb('menuWeibo', {title: 'MW', desc: 'MD', link: location.href, imgUrl: 'm.png'}));
wx.onMenuShareQZone(withCb('menuQZone', {title: 'MZ', desc: 'MD', link: location.href, imgUrl: 'm.png'}));
wx.startRecord(cb('startRecord'));
wx.stopRecord(cb('stopRecord'));
wx.onVoiceRecordEnd(cb('onVoiceRecordEnd'));
wx.playVoice(withCb('playVoice', {localId: 'v1'}));
wx.pauseVoice(withCb('pauseVoice', {localId: 'v1'}));
wx.stopVoice(withCb('stopVoice', {localId: 'v1'}));
wx.onVoicePlayEnd(cb('onVoicePlayEnd'));
wx.uploadVoice(withCb('uploadVoice', {localId: 'v1', isShowProgressTips: 0}));
wx.downloadVoice(withCb('downloadVoice', {serverId: 's1'}));
wx.translateVoice(withCb('translateVoice', {localId: 'v1'}));
wx.chooseImage(withCb('chooseImage', {count: 1}));
wx.previewImage(withCb('previewImage', {current: 'a.png', urls: ['a.png', 'b.png']}));
wx.uploadImage(withCb('uploadImage', {localId: 'l1'}));
wx.downloadImage(withCb('downloadImage', {serverId: 's1', isShowProgressTips: 0}));
wx.getLocalImgData(withCb('getLocalImgData1', {localId: 'l1'}));
wx.getLocalImgData(withCb('getLocalImgData2', {localId: 'l2'}));
wx.getLocation(withCb('getLocation', {type: 'gcj02'}));
wx.openLocation(withCb('openLocation', {latitude: 22.5, longitude: 114.1, name: 'N'}));
wx.hideOptionMenu(cb('hideOptionMenu'));
wx.showOptionMenu(cb('showOptionMenu'));
wx.hideMenuItems(withCb('hideMenuItems', {menuList: ['menuItem:share:qq']}));
wx.showMenuItems(withCb('showMenuItems', {menuList: ['menuItem:share:qq']}));
wx.hideAllNonBaseMenuItem(cb('hideAllNonBaseMenuItem'));
wx.showAllNonBaseMenuItem(cb('showAllNonBaseMenuItem'));
wx.scanQRCode(withCb('scanQRCode', {needResult: 1}));
wx.openAddress(cb('openAddress'));
wx.openProductSpecificView(withCb('openProductSpecificView', {productId: 'p1', extInfo: 'e'}));
wx.addCard(withCb('addCard', {cardList: [{cardId: 'c1', cardExt: '{}'}]}));
wx.chooseCard(withCb('chooseCard', {shopId: 's', cardType: 'GROUPON', timestamp: 1700000000, nonceStr: 'n',
                                    signType: 'SHA1', cardSign: 'x'}));
wx.openCard(withCb('openCard', {cardList: [{cardId: 'c1', code: '123'}]}));
wx.consumeAndShareCard(withCb('consumeAndShareCard', {cardId: 'c1', code: '123'}));
wx.openEnterpriseRedPacket(withCb('openEnterpriseRedPacket', {timestamp: 1700000000, nonceStr: 'n',
                                                              package: 'p', paySign: 's', signType: 'MD5'}));
wx.startSearchBeacons(withCb('startSearchBeacons', {ticket: 't'}));
wx.stopSearchBeacons(cb('stopSearchBeacons'));
wx.onSearchBeacons(cb('onSearchBeacons'));
wx.openEnterpriseChat(withCb('openEnterpriseChat', {userIds: 'a;b', groupName: 'g'}));
wx.launchMiniProgram(withCb('launchMiniProgram', {targetAppId: 'wxmini', path: 'pages/index?x=1'}));
wx.openBusinessView(withCb('openBusinessView', {businessType: 'wxpayScoreUse', queryString: 'q=1'}));
wx.miniProgram.navigateBack(withCb('navigateBack', {delta: 2}));
wx.miniProgram.navigateTo(withCb('navigateTo', {url: '/pages/a'}));
wx.miniProgram.redirectTo(withCb('redirectTo', {url: '/pages/b'}));
wx.miniProgram.switchTab(withCb('switchTab', {url: '/pages/c'}));
wx.miniProgram.reLaunch(withCb('reLaunch', {url: '/pages/d'}));
wx.miniProgram.postMessage(withCb('postMessage', {data: {k: 1}}));
wx.miniProgram.getEnv(function (r) { log.push(['getEnv', 'callback', r]); });
wx.closeWindow(cb('closeWindow'));
var menu = WeixinJSBridge.__wechatSandbox.trigger;
menu('menu:share:timeline', {});
menu('menu:share:appmessage', {});
menu('menu:share:appmessage', {scene: 'favorite'});
menu('menu:share:qq', {});
menu('menu:share:weiboApp', {});
menu('menu:share:QZone', {});
menu('onVoiceRecordEnd', {localId: 'v2'});
menu('onVoicePlayEnd', {localId: 'v1'});
menu('onBeaconsInRange', {beacons: []});
window.issued = true;
"""
ALL_APIS = [
    "checkJsApi", "updateTimelineShareData", "updateAppMessageShareData", "onMenuShareTimeline",
    "onMenuShareAppMessage", "onMenuShareQQ", "onMenuShareWeibo", "onMenuShareQZone", "startRecord", "stopRecord",
    "onVoiceRecordEnd", "playVoice", "pauseVoice", "stopVoice", "onVoicePlayEnd", "uploadVoice", "downloadVoice",
    "translateVoice", "chooseImage", "previewImage", "uploadImage", "downloadImage", "getLocalImgData",
    "getLocation", "openLocation", "hideOptionMenu", "showOptionMenu", "hideMenuItems", "showMenuItems",
    "hideAllNonBaseMenuItem", "showAllNonBaseMenuItem", "scanQRCode", "openAddress", "openProductSpecificView",
    "addCard", "chooseCard", "openCard", "consumeAndShareCard", "openEnterpriseRedPacket", "startSearchBeacons",
    "stopSearchBeacons", "onSearchBeacons", "openEnterpriseChat", "launchMiniProgram", "openBusinessView",
    "invokeMiniProgramAPI", "closeWindow", "getNetworkType",
]  # fmt: skip


CHECKED = ["chooseWXPay", "onMenuShareTimeline", "getLocation", "updateAppMessageShareData", "foo"]


def by_call(log: list[list[Any]]) -> dict[str, list[list[Any]]]:
    calls: dict[str, list[list[Any]]] = {}
    for label, *rest in log:
        calls.setdefault(label, []).append(rest)
    return calls


def everything(sandbox_server: LiveServer, shop: Shop, page: Page, sdk: str) -> dict[str, Any]:
    """Every jweixin API on one page: what reached the bridge, and what the page's callbacks got."""
    wechat = Sandbox(sandbox_server.url)
    path = "/jsapi/everything"  # one URL for both SDKs, so that even the signatures are the same
    config = wechat.wx_config(shop.url + path, jsapis=list(ALL_APIS))
    thrown = "log.push(['thrown', String(e)]); issued = true;"  # shows in the comparison, instead of a timeout
    calls = f"wx.ready(function () {{ try {{ {CALLS} }} catch (e) {{ {thrown} }} }});"
    data = f"var checked = {json.dumps(CHECKED)}, clientAnswers = {json.dumps(CLIENT_ANSWERS)};"
    script = SPY + config + data + calls
    shop.pages[path] = page_html(sandbox_server.url, sdk, script)
    page.goto(shop.url + path)
    page.wait_for_function("window.issued && window.answered === window.invoked.length")
    seen = page.evaluate("({invoked: invoked, listening: listening, log: log, checked: checked})")
    assert isinstance(seen, dict)
    # jweixin's report beacon asks getNetworkType after wx.config; our SDK sends no beacon
    seen["invoked"] = [call for call in seen["invoked"] if call[0] != "getNetworkType"]
    return seen


def test_both_sdks_send_the_same_bridge_calls_and_give_the_same_results(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    official = everything(sandbox_server, shop, phone.page, "official")
    ours = everything(sandbox_server, shop, phone.page, "sandbox")
    assert ours["listening"] == official["listening"]
    for theirs, mine in zip(official["invoked"], ours["invoked"], strict=False):
        assert mine == theirs
    assert len(ours["invoked"]) == len(official["invoked"])
    # callbacks of different calls run in the order the sandbox answers; each call's own are in order
    calls = by_call(official["log"])
    assert by_call(ours["log"]) == calls
    failed = {label: events for label, events in calls.items() if any(event == "fail" for event, _ in events)}
    assert failed == {}
    assert "thrown" not in calls
    assert calls["menuTimeline"][-1] == ["complete", {"errMsg": "shareTimeline:ok"}]
    assert calls["chooseImage"][0][1]["localIds"] == ["wxLocalResource://a", "wxLocalResource://b"]
    address = calls["openAddress"][0][1]
    assert (address["postalCode"], address["provinceName"], address["detailInfo"]) == ("518000", "广东省", "科技园")
    assert calls["addCard"][0][1]["cardList"] == [{"cardId": "c1", "cardExt": "{}", "isSuccess": True}]
    assert calls["openBusinessView"][0][1] == {"errCode": 0, "errMsg": "openBusinessView:ok", "extraData": {"k": 1}}
    assert "type" not in calls["getLocation"][0][1]
    # jweixin renames checkJsApi's list in place (its checkResult is renamed back); ours does the same
    assert official["checked"][0] == "getBrandWCPayRequest"
    assert ours["checked"] == official["checked"]
