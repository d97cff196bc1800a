/*
 * wechat-sandbox: WeChat's in-page bridge (window.WeixinJSBridge) for any browser.
 *
 * Load it from the sandbox before the page's own scripts:
 *   <script src="http://127.0.0.1:8600/_sandbox/static/wechat-bridge.js"></script>
 * or inject it as a Playwright init script after `window.__WECHAT_SANDBOX_URL__ = "http://127.0.0.1:8600"`.
 *
 * It only moves data and shows UI: every rule (wx.config signatures, permissions, the pay sheet's checks)
 * is decided by the sandbox behind /_sandbox/bridge/. Its explanations are printed to the console with the
 * prefix [wechat-sandbox]; nothing it adds reaches the page's callbacks.
 */
(function (global) {
  "use strict";
  var PREFIX = "[wechat-sandbox]";
  if (global.WeixinJSBridge && global.WeixinJSBridge.__wechatSandbox) return;

  var script = document.currentScript;
  var base = global.__WECHAT_SANDBOX_URL__ || (script && script.src ? new URL(script.src).origin : "");
  if (!base) {
    console.error(PREFIX + " cannot find the sandbox: load wechat-bridge.js from it, or set window.__WECHAT_SANDBOX_URL__");
    return;
  }
  base = String(base).replace(/\/+$/, "");
  // The JS-SDK only talks to the bridge under WeChat's user agent. In a plain desktop browser, say we are
  // WeChat (unless the page opts out with data-keep-user-agent on this script tag).
  if (!/micromessenger/i.test(navigator.userAgent) && !(script && script.hasAttribute("data-keep-user-agent"))) {
    var wechatAgent = navigator.userAgent + " MicroMessenger/8.0.47.2560(0x28002F30) NetType/WIFI Language/zh_CN";
    try {
      Object.defineProperty(navigator, "userAgent", { get: function () { return wechatAgent; }, configurable: true });
      console.info(PREFIX + " not inside WeChat: navigator.userAgent now ends with MicroMessenger/8.0.47 for the JS-SDK");
    } catch (error) {
      console.warn(PREFIX + " use a user agent containing MicroMessenger/8.0.47: the JS-SDK ignores other browsers");
    }
  }
  var pageId = global.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now();
  var android = /android/i.test(navigator.userAgent);
  var listeners = {};
  // How many preVerifyJSAPI (wx.config) answers this page has received: the sandbox answers so fast that a
  // call made before wx.ready would otherwise pass, where WeChat says "the permission value is offline verifying".
  var configAnswers = 0;

  function post(path, body) {
    return fetch(base + "/_sandbox/bridge/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(function (response) {
      return response.json();
    });
  }

  function explain(diagnostics) {
    (diagnostics || []).forEach(function (text) {
      console.warn(PREFIX + " " + text);
    });
  }

  function answer(callback, result) {
    if (typeof callback !== "function") return;
    try {
      callback(result);
    } catch (error) {
      setTimeout(function () {
        throw error;
      });
    }
  }

  /** The client's answer in a reply; a reply without one (a sandbox error) is a failure, never an empty ok. */
  function resultOf(reply, failure) {
    if (reply && reply.result) return reply.result;
    console.error(PREFIX + " the sandbox answered without a result, so the page gets " + failure + ": " + JSON.stringify(reply));
    return { err_msg: failure };
  }

  function unreachable(name, callback) {
    return function (error) {
      console.error(PREFIX + " " + name + ": the sandbox at " + base + " did not answer (" + error + ")");
      answer(callback, { err_msg: name + ":fail" });
    };
  }

  // -- UI: everything lives in one shadow root so the page's CSS cannot touch it ----------------------

  var host = null;
  function layer() {
    if (host && host.isConnected) return host.shadowRoot;
    host = document.createElement("div");
    host.setAttribute("data-wechat-sandbox", "");
    host.style.cssText = "position:fixed;inset:0;z-index:2147483647;pointer-events:none;";
    var root = host.attachShadow({ mode: "open" });
    var style = document.createElement("style");
    style.textContent = [
      ":host{all:initial}",
      "*{box-sizing:border-box;font-family:-apple-system,'PingFang SC','Helvetica Neue','Microsoft YaHei',sans-serif}",
      ".mask{position:fixed;inset:0;background:rgba(0,0,0,.5);pointer-events:auto;display:flex;align-items:flex-end}",
      ".sheet{background:#f7f7f7;width:100%;max-width:520px;margin:0 auto;border-radius:12px 12px 0 0;padding:16px 20px 24px;color:#191919}",
      ".bar{display:flex;justify-content:space-between;align-items:center;font-size:15px}",
      ".x{border:0;background:none;font-size:24px;line-height:1;color:#191919;cursor:pointer;padding:0 4px}",
      ".tag{font-size:11px;color:#7a5b00;background:#fff3cd;border-radius:4px;padding:2px 6px}",
      ".to{text-align:center;margin-top:18px;font-size:15px}",
      ".amount{text-align:center;font-size:40px;font-weight:600;margin:6px 0 14px}",
      ".row{display:flex;justify-content:space-between;font-size:14px;color:#7f7f7f;padding:8px 0;border-top:1px solid #e5e5e5}",
      ".row select{font-size:14px}",
      "input.pin{width:100%;font-size:22px;letter-spacing:12px;text-align:center;padding:10px;margin-top:12px;border:1px solid #d9d9d9;border-radius:6px;background:#fff}",
      ".msg{min-height:20px;color:#fa5151;font-size:13px;text-align:center;margin-top:6px}",
      ".pay{display:block;width:100%;border:0;border-radius:8px;padding:12px;font-size:17px;background:#07c160;color:#fff;margin-top:8px;cursor:pointer}",
      ".dialog{background:#fff;border-radius:12px;margin:auto;width:300px;text-align:center;pointer-events:auto}",
      ".dialog p{padding:28px 20px;margin:0;font-size:16px;line-height:1.5;overflow-wrap:anywhere}",
      ".dialog button{border:0;border-top:1px solid #e5e5e5;width:100%;padding:14px;background:none;color:#576b95;font-size:17px;cursor:pointer}",
      ".center{align-items:center}",
      ".toast{position:fixed;left:50%;top:40%;transform:translateX(-50%);background:rgba(17,17,17,.8);color:#fff;padding:12px 18px;border-radius:8px;font-size:14px}",
    ].join("\n");
    root.appendChild(style);
    (document.body || document.documentElement).appendChild(host);
    return root;
  }

  function element(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showAlert(text) {
    var mask = element("div", { class: "mask center", "data-testid": "wechat-alert" });
    var dialog = element("div", { class: "dialog" });
    dialog.appendChild(element("p", { "data-testid": "wechat-alert-text" }, text));
    var ok = element("button", { "data-testid": "wechat-alert-ok" }, "确定");
    ok.onclick = function () {
      mask.remove();
    };
    dialog.appendChild(ok);
    mask.appendChild(dialog);
    layer().appendChild(mask);
  }

  function showToast(text) {
    var toast = element("div", { class: "toast", "data-testid": "wechat-toast" }, text);
    layer().appendChild(toast);
    setTimeout(function () {
      toast.remove();
    }, 2000);
  }

  // -- the pay sheet ---------------------------------------------------------------------------------

  // A page that goes away (reload, navigation, closed tab) takes its open sheets with it, as in WeChat.
  var openSheets = {};
  global.addEventListener("pagehide", function () {
    Object.keys(openSheets).forEach(function (id) {
      if (navigator.sendBeacon) navigator.sendBeacon(base + "/_sandbox/bridge/sheet/" + id + "/cancel", "{}");
    });
  });

  function renderSheet(sheet, callback) {
    var mask = element("div", { class: "mask" });
    var below = layer().querySelectorAll(".mask .sheet").length;
    if (below) mask.style.paddingBottom = 14 * below + "px"; // a second sheet stands out above the first
    var box = element("div", { class: "sheet", "data-testid": "wechat-pay-sheet", "data-sheet-id": sheet.sheet_id });
    var bar = element("div", { class: "bar" });
    var close = element("button", { class: "x", "data-testid": "wechat-pay-cancel", "aria-label": "关闭" }, "×");
    bar.appendChild(close);
    bar.appendChild(element("span", { class: "tag" }, "wechat-sandbox"));
    box.appendChild(bar);
    box.appendChild(element("div", { class: "to" }, "付款给 " + sheet.merchant));
    box.appendChild(element("div", { class: "amount", "data-testid": "wechat-pay-amount" }, "¥" + sheet.amount));
    var payer = element("div", { class: "row" });
    payer.appendChild(element("span", {}, "付款人"));
    payer.appendChild(element("span", { "data-testid": "wechat-pay-user" }, sheet.user.nickname + " (" + sheet.user.id + ")"));
    box.appendChild(payer);
    var method = element("div", { class: "row" });
    method.appendChild(element("span", {}, "付款方式"));
    method.appendChild(element("span", {}, "零钱"));
    box.appendChild(method);
    var choice = element("div", { class: "row" });
    choice.appendChild(element("span", {}, "沙箱结果 (sandbox outcome)"));
    var outcome = element("select", { "data-testid": "wechat-pay-outcome" });
    var labels = { success: "支付成功 success", notenough: "余额不足 balance not enough", fail: "支付失败 fail" };
    (sheet.outcomes || ["success"]).forEach(function (value) {
      outcome.appendChild(element("option", { value: value }, labels[value] || value));
    });
    choice.appendChild(outcome);
    box.appendChild(choice);
    var pin = element("input", {
      class: "pin",
      type: "password",
      inputmode: "numeric",
      maxlength: "6",
      autocomplete: "off",
      placeholder: "支付密码",
      "data-testid": "wechat-pay-pin",
    });
    box.appendChild(pin);
    var message = element("div", { class: "msg", "data-testid": "wechat-pay-message" });
    box.appendChild(message);
    var confirm = element("button", { class: "pay", "data-testid": "wechat-pay-confirm" }, "确认支付");
    box.appendChild(confirm);
    mask.appendChild(box);
    layer().appendChild(mask);
    setTimeout(function () {
      pin.focus();
    });

    var busy = false;
    openSheets[sheet.sheet_id] = true;
    function finish(reply, fallback) {
      delete openSheets[sheet.sheet_id];
      mask.remove();
      explain(reply.diagnostics);
      if (reply.alert) showAlert(reply.alert);
      else if (!reply.result && !fallback) showAlert("支付失败"); // the sandbox lost the sheet (reset, restart)
      answer(callback, resultOf(reply, fallback || "get_brand_wcpay_request:fail"));
    }
    confirm.onclick = function () {
      if (busy) return;
      busy = true;
      post("sheet/" + sheet.sheet_id + "/confirm", { pin: pin.value, outcome: outcome.value }).then(
        function (reply) {
          busy = false;
          if (reply.retry) {
            explain(reply.diagnostics);
            message.textContent = reply.retry;
            pin.value = "";
            return;
          }
          finish(reply);
        },
        function (error) {
          busy = false;
          message.textContent = "网络错误 (the sandbox did not answer: " + error + ")";
        }
      );
    };
    pin.addEventListener("keydown", function (event) {
      if (event.key === "Enter") confirm.onclick();
    });
    close.onclick = function () {
      if (busy) return; // a second tap, or a tap while the payment is confirming: the page gets one answer
      busy = true;
      post("sheet/" + sheet.sheet_id + "/cancel", {}).then(function (reply) {
        finish(reply, "get_brand_wcpay_request:cancel"); // the user tapped ×: whatever the sandbox says, cancel
      }, function () {
        delete openSheets[sheet.sheet_id];
        mask.remove();
        answer(callback, { err_msg: "get_brand_wcpay_request:cancel" });
      });
    };
  }

  function pay(args, callback) {
    var body = { page_id: pageId, href: location.href, args: args, config_answers: configAnswers };
    post("sheet/open", body).then(function (reply) {
      explain(reply.diagnostics);
      if (reply.sheet) return renderSheet(reply.sheet, callback);
      if (reply.alert) showAlert(reply.alert);
      answer(callback, resultOf(reply, "get_brand_wcpay_request:fail"));
    }, unreachable("getBrandWCPayRequest", callback));
  }

  // -- WeixinJSBridge -------------------------------------------------------------------------------

  function invoke(name, args, callback) {
    args = args || {};
    if (name === "getBrandWCPayRequest") return pay(args, callback);
    var body = { page_id: pageId, href: location.href, name: name, args: args, config_answers: configAnswers };
    post("invoke", body).then(function (reply) {
      if (name === "preVerifyJSAPI") configAnswers += 1;
      explain(reply.diagnostics);
      var result = resultOf(reply, name + ":fail");
      if (name === "checkJsApi" && android && result.checkResult) {
        result.checkResult = JSON.stringify(result.checkResult); // the Android client answers a JSON string
      }
      if (result.share) {
        showToast("分享内容已设置：" + (result.share.title || ""));
        delete result.share;
      }
      if (name === "closeWindow" && /:ok$/.test(result.err_msg || "")) {
        showAlert("wx.closeWindow: WeChat would close this page now");
      }
      answer(callback, result);
    }, unreachable(name, callback));
  }

  function on(name, callback) {
    (listeners[name] = listeners[name] || []).push(callback);
  }

  function call(name, args) {
    invoke(name, args || {}, null);
  }

  global.WeixinJSBridge = {
    invoke: invoke,
    on: on,
    call: call,
    __wechatSandbox: {
      base: base,
      pageId: pageId,
      /** Show a pay sheet the sandbox opened for a scanned code, the H5 cashier or an app; `callback` gets
       * {err_msg: "get_brand_wcpay_request:ok|cancel|fail"} as a page's getBrandWCPayRequest does. */
      showSheet: function (sheet, callback) {
        renderSheet(sheet, callback);
      },
      explain: explain,
      /** What the user does from WeChat's menu, e.g. trigger("menu:share:timeline"). */
      trigger: function (name, result) {
        (listeners[name] || []).forEach(function (callback) {
          answer(callback, result || {});
        });
      },
    },
  };

  function ready() {
    document.dispatchEvent(new Event("WeixinJSBridgeReady"));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else setTimeout(ready, 0);
})(window);
