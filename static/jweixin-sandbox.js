/*
 * wechat-sandbox: a JS-SDK `wx` with the behaviour and result strings of WeChat's jweixin 1.6, for pages
 * that cannot load res.wx.qq.com/open/js/jweixin-1.6.0.js offline. Served by the sandbox at
 * /_sandbox/static/jweixin-sandbox.js and at /open/js/jweixin-1.6.0.js.
 *
 * Like the official file it talks only to window.WeixinJSBridge (wechat-bridge.js in the sandbox) and
 * only under a MicroMessenger user agent. On top of it, it warns in the console ([wechat-sandbox]) when
 * wx.config is called twice or a wx.ready handler runs twice: the seed's double pay sheet.
 */
(function (root, factory) {
  var wx = factory(root);
  if (typeof module === "object" && module && module.exports) module.exports = wx;
  if (root) root.wx = root.jWeixin = wx;
})(typeof window === "object" ? window : null, function (global) {
  "use strict";
  if (!global) return undefined;
  if (global.jWeixin && global.jWeixin.__wechatSandbox) return global.jWeixin;
  var PREFIX = "[wechat-sandbox]";

  var TO_BRIDGE = {
    config: "preVerifyJSAPI",
    onMenuShareTimeline: "menu:share:timeline",
    onMenuShareAppMessage: "menu:share:appmessage",
    onMenuShareQQ: "menu:share:qq",
    onMenuShareWeibo: "menu:share:weiboApp",
    onMenuShareQZone: "menu:share:QZone",
    previewImage: "imagePreview",
    getLocation: "geoLocation",
    openProductSpecificView: "openProductViewWithPid",
    addCard: "batchAddCard",
    openCard: "batchViewCard",
    chooseWXPay: "getBrandWCPayRequest",
    openEnterpriseRedPacket: "getRecevieBizHongBaoRequest",
    startSearchBeacons: "startMonitoringBeacons",
    stopSearchBeacons: "stopMonitoringBeacons",
    onSearchBeacons: "onBeaconsInRange",
    consumeAndShareCard: "consumedShareCard",
    openAddress: "editAddress",
  };
  var TO_JS = {};
  Object.keys(TO_BRIDGE).forEach(function (name) {
    TO_JS[TO_BRIDGE[name]] = name;
  });

  var ua = navigator.userAgent.toLowerCase();
  var inWeChat = ua.indexOf("micromessenger") !== -1;
  var android = ua.indexOf("android") !== -1;
  var version = (ua.match(/micromessenger\/(\d+\.\d+\.\d+)/) || ua.match(/micromessenger\/(\d+\.\d+)/) || [])[1] || "";

  var settings = {};
  var state = { value: 0, data: {} }; // 0 pending, 1 done, -1 failed
  var completes = [];
  var onFail = null;
  var configCount = 0;

  function whenBridge(fn) {
    if (!inWeChat) return;
    if (global.WeixinJSBridge) fn();
    else document.addEventListener("WeixinJSBridgeReady", fn, false);
  }

  function toBridge(list) {
    if (!list) return list;
    for (var i = 0; i < list.length; i++) if (TO_BRIDGE[list[i]]) list[i] = TO_BRIDGE[list[i]];
    return list;
  }

  function verified(args) {
    args = args || {};
    args.appId = settings.appId;
    args.verifyAppId = settings.appId;
    args.verifySignType = "sha1";
    args.verifyTimestamp = settings.timestamp + "";
    args.verifyNonceStr = settings.nonceStr;
    args.verifySignature = settings.signature;
    return args;
  }

  /** jweixin's normalisation of the client's answer into `errMsg` and the success/fail/cancel callbacks. */
  function settle(bridgeName, res, opts) {
    if (bridgeName === "openEnterpriseChat" || bridgeName === "openBusinessView") res.errCode = res.err_code;
    delete res.err_code;
    delete res.err_desc;
    delete res.err_detail;
    var message = res.errMsg;
    if (!message) {
      var raw = res.err_msg;
      delete res.err_msg;
      var name = TO_JS[bridgeName] || bridgeName;
      var status = "ok";
      if (raw) {
        status = raw.substring(raw.indexOf(":") + 1);
        if (status === "confirm") status = "ok";
        if (status === "failed") status = "fail";
        if (status.indexOf("failed_") !== -1) status = status.substring(7);
        if (status.indexOf("fail_") !== -1) status = status.substring(5);
        status = status.replace(/_/g, " ").toLowerCase();
        if (status === "access denied" || status === "no permission to execute") status = "permission denied";
        if (name === "config" && status === "function not exist") status = "ok";
        if (status === "") status = "fail";
      }
      message = name + ":" + status;
      res.errMsg = message;
    }
    opts = opts || {};
    if (opts._complete) {
      opts._complete(res);
      delete opts._complete;
    }
    message = res.errMsg || "";
    if (settings.debug && !opts.isInnerInvoke) alert(JSON.stringify(res));
    switch (message.substring(message.indexOf(":") + 1)) {
      case "ok":
        if (opts.success) opts.success(res);
        break;
      case "cancel":
        if (opts.cancel) opts.cancel(res);
        break;
      default:
        if (opts.fail) opts.fail(res);
    }
    if (opts.complete) opts.complete(res);
  }

  function debugLog(name, opts) {
    if (!settings.debug || (opts && opts.isInnerInvoke)) return;
    console.log('"' + (TO_JS[name] || name) + '",', opts || "");
  }

  function call(bridgeName, args, opts) {
    if (!global.WeixinJSBridge) return debugLog(bridgeName, opts);
    WeixinJSBridge.invoke(bridgeName, verified(args), function (res) {
      settle(bridgeName, res || {}, opts);
    });
  }

  function listen(bridgeName, handlers, opts) {
    if (!global.WeixinJSBridge) return debugLog(bridgeName, opts || handlers);
    WeixinJSBridge.on(bridgeName, function (res) {
      if (opts && opts.trigger) opts.trigger(res);
      settle(bridgeName, res || {}, handlers);
    });
  }

  function once(fn) {
    var runs = 0;
    return function () {
      runs += 1;
      if (runs === 2) {
        console.warn(
          PREFIX + " a wx.ready handler is running a second time (wx.config was called again): anything it does " +
            "twice, such as opening the pay sheet, happens twice (the seed's pitfall 8)"
        );
      }
      return fn.apply(this, arguments);
    };
  }

  function simple(bridgeName, argsOf) {
    return function (opts) {
      opts = opts || {};
      call(bridgeName, argsOf ? argsOf(opts) : {}, opts);
    };
  }

  function share(bridgeName) {
    return simple(bridgeName, function (o) {
      return { title: o.title, desc: o.desc, link: o.link, imgUrl: o.imgUrl };
    });
  }

  function menuShare(bridgeName, sendName, withDesc) {
    return function (opts) {
      opts = opts || {};
      listen(
        TO_BRIDGE[bridgeName],
        {
          complete: function () {
            call(
              sendName,
              {
                title: opts.title || document.title,
                desc: withDesc ? opts.desc || "" : opts.title || document.title,
                img_url: opts.imgUrl || "",
                link: opts.link || location.href,
                type: opts.type || "link",
                data_url: opts.dataUrl || "",
              },
              opts
            );
          },
        },
        opts
      );
    };
  }

  var wx = {
    __wechatSandbox: true,
    config: function (options) {
      settings = options || {};
      configCount += 1;
      if (configCount > 1) {
        console.warn(
          PREFIX + " wx.config called " + configCount + " times on this page: wx.ready handlers run again each time " +
            "(the seed's pitfall 8: two wx.config calls opened two pay sheets). Call wx.config once per page."
        );
      }
      debugLog("config", settings);
      var check = settings.check !== false;
      whenBridge(function () {
        if (!check) {
          state.value = 1;
          var queued = completes;
          completes = [];
          queued.forEach(function (fn) {
            fn();
          });
          return;
        }
        call(
          "preVerifyJSAPI",
          { verifyJsApiList: toBridge(settings.jsApiList), verifyOpenTagList: toBridge(settings.openTagList) },
          {
            _complete: function (res) {
              state.value = 1;
              state.data = res;
            },
            fail: function (res) {
              if (onFail) onFail(res);
              else state.value = -1;
            },
            complete: function () {
              var queued = completes;
              completes = [];
              queued.forEach(function (fn) {
                fn();
              });
            },
          }
        );
      });
      if (!wx.invoke) {
        wx.invoke = function (name, args, callback) {
          if (global.WeixinJSBridge) WeixinJSBridge.invoke(name, verified(args), callback);
        };
        wx.on = function (name, callback) {
          if (global.WeixinJSBridge) WeixinJSBridge.on(name, callback);
        };
      }
    },
    ready: function (fn) {
      var handler = once(fn);
      if (state.value !== 0) handler();
      else {
        completes.push(handler);
        if (!inWeChat && settings.debug) handler();
      }
    },
    error: function (fn) {
      if (version < "6.0.2") return;
      if (state.value === -1) fn(state.data);
      else onFail = fn;
    },
    checkJsApi: function (opts) {
      opts = opts || {};
      opts._complete = function (res) {
        if (android && typeof res.checkResult === "string") res.checkResult = JSON.parse(res.checkResult);
        var result = res.checkResult || {};
        Object.keys(result).forEach(function (name) {
          if (TO_JS[name]) {
            result[TO_JS[name]] = result[name];
            delete result[name];
          }
        });
      };
      call("checkJsApi", { jsApiList: toBridge((opts.jsApiList || []).slice()) }, opts);
    },
    chooseWXPay: function (opts) {
      opts = opts || {};
      call(
        "getBrandWCPayRequest",
        {
          timeStamp: opts.timestamp + "",
          nonceStr: opts.nonceStr,
          package: opts.package,
          paySign: opts.paySign,
          signType: opts.signType || "SHA1",
        },
        opts
      );
    },
    getNetworkType: function (opts) {
      opts = opts || {};
      opts._complete = function (res) {
        var message = res.errMsg;
        res.errMsg = "getNetworkType:ok";
        var subtype = res.subtype;
        delete res.subtype;
        if (subtype) res.networkType = subtype;
        else {
          var type = message.substring(message.indexOf(":") + 1);
          if (type === "wifi" || type === "edge" || type === "wwan") res.networkType = type;
          else res.errMsg = "getNetworkType:fail";
        }
      };
      call("getNetworkType", {}, opts);
    },
    updateAppMessageShareData: share("updateAppMessageShareData"),
    updateTimelineShareData: share("updateTimelineShareData"),
    onMenuShareTimeline: menuShare("onMenuShareTimeline", "shareTimeline", false),
    onMenuShareAppMessage: menuShare("onMenuShareAppMessage", "sendAppMessage", true),
    onMenuShareQQ: menuShare("onMenuShareQQ", "shareQQ", true),
    onMenuShareWeibo: menuShare("onMenuShareWeibo", "shareWeiboApp", true),
    onMenuShareQZone: menuShare("onMenuShareQZone", "shareQZone", true),
    closeWindow: simple("closeWindow"),
    hideOptionMenu: simple("hideOptionMenu"),
    showOptionMenu: simple("showOptionMenu"),
    hideMenuItems: simple("hideMenuItems", function (o) {
      return { menuList: o.menuList };
    }),
    showMenuItems: simple("showMenuItems", function (o) {
      return { menuList: o.menuList };
    }),
    hideAllNonBaseMenuItem: simple("hideAllNonBaseMenuItem"),
    showAllNonBaseMenuItem: simple("showAllNonBaseMenuItem"),
    chooseImage: simple("chooseImage", function (o) {
      return { scene: "1|2", count: o.count || 9, sizeType: o.sizeType || ["original", "compressed"], sourceType: o.sourceType || ["album", "camera"] };
    }),
    previewImage: simple("imagePreview", function (o) {
      return { current: o.current, urls: o.urls };
    }),
    uploadImage: simple("uploadImage", function (o) {
      return { localId: o.localId, isShowProgressTips: o.isShowProgressTips === 0 ? 0 : 1 };
    }),
    downloadImage: simple("downloadImage", function (o) {
      return { serverId: o.serverId, isShowProgressTips: o.isShowProgressTips === 0 ? 0 : 1 };
    }),
    getLocalImgData: simple("getLocalImgData", function (o) {
      return { localId: o.localId };
    }),
    getLocation: simple("geoLocation", function (o) {
      return { type: o.type || "wgs84" };
    }),
    openLocation: simple("openLocation", function (o) {
      return { latitude: o.latitude, longitude: o.longitude, name: o.name || "", address: o.address || "", scale: o.scale || 28, infoUrl: o.infoUrl || "" };
    }),
    scanQRCode: simple("scanQRCode", function (o) {
      return { needResult: o.needResult || 0, scanType: o.scanType || ["qrCode", "barCode"] };
    }),
    openAddress: simple("editAddress"),
    miniProgram: {
      getEnv: function (callback) {
        callback({ miniprogram: global.__wxjs_environment === "miniprogram" });
      },
    },
  };
  return wx;
});
