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
  var ios = ua.indexOf("iphone") !== -1 || ua.indexOf("ipad") !== -1;
  var pageTitle = document.title; // what the onMenuShare* APIs share without a title (read once, as jweixin does)
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

  /** An API that is one bridge call; `after` is jweixin's rewrite of the client's answer, if it has one. */
  function simple(bridgeName, argsOf, after) {
    return function (opts) {
      opts = opts || {};
      if (after) opts._complete = after;
      call(bridgeName, argsOf ? argsOf(opts) : {}, opts);
    };
  }

  /** An API that listens for the client (onVoiceRecordEnd…): the handlers get each event as a result. */
  function listener(bridgeName) {
    return function (handlers) {
      listen(bridgeName, handlers || {});
    };
  }

  /** jweixin compares loosely: 0, "0", false and "" all hide the progress tips. */
  function tips(o) {
    return o.isShowProgressTips == 0 ? 0 : 1;
  }

  function share(bridgeName, withDesc) {
    return simple(bridgeName, function (o) {
      var card = { title: o.title, link: o.link, imgUrl: o.imgUrl };
      if (withDesc) card.desc = o.desc; // updateTimelineShareData sends no desc
      return card;
    });
  }

  /** The card the legacy onMenuShare* APIs send; only timeline and app message carry type and data_url. */
  function shareCard(o, desc, withType) {
    var card = { title: o.title || pageTitle, desc: desc, img_url: o.imgUrl || "", link: o.link || location.href };
    if (withType) {
      card.type = o.type || "link";
      card.data_url = o.dataUrl || "";
    }
    return card;
  }

  function menuShare(bridgeName, sendName, cardOf) {
    return function (opts) {
      opts = opts || {};
      listen(
        TO_BRIDGE[bridgeName],
        {
          complete: function (res) {
            // like jweixin, a share to favourites from the menu calls none of the page's callbacks
            var favorite = bridgeName === "onMenuShareAppMessage" && res.scene === "favorite";
            call(sendName, cardOf(opts), favorite ? undefined : opts);
          },
        },
        opts
      );
    };
  }

  function payArgs(o) {
    return {
      timeStamp: o.timestamp + "",
      nonceStr: o.nonceStr,
      package: o.package,
      paySign: o.paySign,
      signType: o.signType || "SHA1",
    };
  }

  /** launchMiniProgram's path as jweixin sends it: "pages/a?x=1" becomes "pages/a.html?x=1". */
  function miniProgramPath(path) {
    if (typeof path !== "string" || path.length === 0) return undefined;
    var parts = path.split("?");
    return parts[0] + ".html" + (parts[1] !== undefined ? "?" + parts[1] : "");
  }

  function miniProgramApi(name, argOf) {
    return function (opts) {
      opts = opts || {};
      whenBridge(function () {
        call("invokeMiniProgramAPI", { name: name, arg: argOf(opts) }, opts);
      });
    };
  }

  function withUrl(o) {
    return { url: o.url };
  }

  var localImgBusy = false;
  var localImgWaiting = [];

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
        // Like jweixin, this answer runs the wx.ready queue as it is now, including handlers added until the
        // answer comes: a second wx.config before the first answer runs the same handlers a second time.
        var queue = completes;
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
              for (var i = 0, n = queue.length; i < n; i++) queue[i]();
              completes = [];
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
      call("checkJsApi", { jsApiList: toBridge(opts.jsApiList) }, opts); // renames in place, as jweixin does
    },
    chooseWXPay: function (opts) {
      opts = opts || {};
      call("getBrandWCPayRequest", payArgs(opts), opts);
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
    updateAppMessageShareData: share("updateAppMessageShareData", true),
    updateTimelineShareData: share("updateTimelineShareData", false),
    onMenuShareTimeline: menuShare("onMenuShareTimeline", "shareTimeline", function (o) {
      return shareCard(o, o.title || pageTitle, true);
    }),
    onMenuShareAppMessage: menuShare("onMenuShareAppMessage", "sendAppMessage", function (o) {
      return shareCard(o, o.desc || "", true);
    }),
    onMenuShareQQ: menuShare("onMenuShareQQ", "shareQQ", function (o) {
      return shareCard(o, o.desc || "", false);
    }),
    onMenuShareWeibo: menuShare("onMenuShareWeibo", "shareWeiboApp", function (o) {
      return shareCard(o, o.desc || "", false);
    }),
    onMenuShareQZone: menuShare("onMenuShareQZone", "shareQZone", function (o) {
      return shareCard(o, o.desc || "", false);
    }),
    startRecord: simple("startRecord"),
    stopRecord: simple("stopRecord"),
    onVoiceRecordEnd: listener("onVoiceRecordEnd"),
    playVoice: simple("playVoice", function (o) {
      return { localId: o.localId };
    }),
    pauseVoice: simple("pauseVoice", function (o) {
      return { localId: o.localId };
    }),
    stopVoice: simple("stopVoice", function (o) {
      return { localId: o.localId };
    }),
    onVoicePlayEnd: listener("onVoicePlayEnd"),
    uploadVoice: simple("uploadVoice", function (o) {
      return { localId: o.localId, isShowProgressTips: tips(o) };
    }),
    downloadVoice: simple("downloadVoice", function (o) {
      return { serverId: o.serverId, isShowProgressTips: tips(o) };
    }),
    translateVoice: simple("translateVoice", function (o) {
      return { localId: o.localId, isShowProgressTips: tips(o) };
    }),
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
    chooseImage: simple(
      "chooseImage",
      function (o) {
        return { scene: "1|2", count: o.count || 9, sizeType: o.sizeType || ["original", "compressed"], sourceType: o.sourceType || ["album", "camera"] };
      },
      function (res) {
        if (!android || !res.localIds) return; // the Android client answers a JSON string
        try {
          res.localIds = JSON.parse(res.localIds);
        } catch (error) {
          // left as the client gave it, as jweixin does
        }
      }
    ),
    previewImage: simple("imagePreview", function (o) {
      return { current: o.current, urls: o.urls };
    }),
    uploadImage: simple("uploadImage", function (o) {
      return { localId: o.localId, isShowProgressTips: tips(o) };
    }),
    downloadImage: simple("downloadImage", function (o) {
      return { serverId: o.serverId, isShowProgressTips: tips(o) };
    }),
    getLocalImgData: function (opts) {
      opts = opts || {};
      if (localImgBusy) return void localImgWaiting.push(opts); // jweixin asks the client one image at a time
      localImgBusy = true;
      opts._complete = function () {
        localImgBusy = false;
        if (localImgWaiting.length > 0) wx.getLocalImgData(localImgWaiting.shift());
      };
      call("getLocalImgData", { localId: opts.localId }, opts);
    },
    getLocation: simple(
      "geoLocation",
      function (o) {
        return { type: o.type || "wgs84" };
      },
      function (res) {
        delete res.type;
      }
    ),
    openLocation: simple("openLocation", function (o) {
      return { latitude: o.latitude, longitude: o.longitude, name: o.name || "", address: o.address || "", scale: o.scale || 28, infoUrl: o.infoUrl || "" };
    }),
    scanQRCode: simple(
      "scanQRCode",
      function (o) {
        return { needResult: o.needResult || 0, scanType: o.scanType || ["qrCode", "barCode"] };
      },
      function (res) {
        if (!ios || !res.resultStr) return; // the iOS client wraps the result in JSON
        var parsed = JSON.parse(res.resultStr);
        res.resultStr = parsed && parsed.scan_code && parsed.scan_code.scan_result;
      }
    ),
    openAddress: simple("editAddress", null, function (res) {
      res.postalCode = res.addressPostalCode;
      delete res.addressPostalCode;
      res.provinceName = res.proviceFirstStageName; // sic: the client's field name
      delete res.proviceFirstStageName;
      res.cityName = res.addressCitySecondStageName;
      delete res.addressCitySecondStageName;
      res.countryName = res.addressCountiesThirdStageName;
      delete res.addressCountiesThirdStageName;
      res.detailInfo = res.addressDetailInfo;
      delete res.addressDetailInfo;
    }),
    openProductSpecificView: simple("openProductViewWithPid", function (o) {
      return { pid: o.productId, view_type: o.viewType || 0, ext_info: o.extInfo };
    }),
    addCard: simple(
      "batchAddCard",
      function (o) {
        return {
          card_list: (o.cardList || []).map(function (card) {
            return { card_id: card.cardId, card_ext: card.cardExt };
          }),
        };
      },
      function (res) {
        if (!res.card_list) return;
        var cards = JSON.parse(res.card_list);
        cards.forEach(function (card) {
          card.cardId = card.card_id;
          card.cardExt = card.card_ext;
          card.isSuccess = !!card.is_succ;
          delete card.card_id;
          delete card.card_ext;
          delete card.is_succ;
        });
        res.cardList = cards;
        delete res.card_list;
      }
    ),
    chooseCard: simple(
      "chooseCard",
      function (o) {
        return {
          app_id: settings.appId,
          location_id: o.shopId || "",
          sign_type: o.signType || "SHA1",
          card_id: o.cardId || "",
          card_type: o.cardType || "",
          card_sign: o.cardSign,
          time_stamp: o.timestamp + "",
          nonce_str: o.nonceStr,
        };
      },
      function (res) {
        res.cardList = res.choose_card_info;
        delete res.choose_card_info;
      }
    ),
    openCard: simple("batchViewCard", function (o) {
      return {
        card_list: (o.cardList || []).map(function (card) {
          return { card_id: card.cardId, code: card.code };
        }),
      };
    }),
    consumeAndShareCard: simple("consumedShareCard", function (o) {
      return { consumedCardId: o.cardId, consumedCode: o.code };
    }),
    openEnterpriseRedPacket: simple("getRecevieBizHongBaoRequest", payArgs),
    startSearchBeacons: simple("startMonitoringBeacons", function (o) {
      return { ticket: o.ticket };
    }),
    stopSearchBeacons: simple("stopMonitoringBeacons"),
    onSearchBeacons: listener("onBeaconsInRange"),
    openEnterpriseChat: simple("openEnterpriseChat", function (o) {
      return { useridlist: o.userIds, chatname: o.groupName };
    }),
    launchMiniProgram: simple("launchMiniProgram", function (o) {
      return { targetAppId: o.targetAppId, path: miniProgramPath(o.path), envVersion: o.envVersion };
    }),
    openBusinessView: simple(
      "openBusinessView",
      function (o) {
        return { businessType: o.businessType, queryString: o.queryString || "", envVersion: o.envVersion };
      },
      function (res) {
        if (!android || !res.extraData) return; // the Android client answers a JSON string
        try {
          res.extraData = JSON.parse(res.extraData);
        } catch (error) {
          res.extraData = {};
        }
      }
    ),
    miniProgram: {
      navigateBack: miniProgramApi("navigateBack", function (o) {
        return { delta: o.delta || 1 };
      }),
      navigateTo: miniProgramApi("navigateTo", withUrl),
      redirectTo: miniProgramApi("redirectTo", withUrl),
      switchTab: miniProgramApi("switchTab", withUrl),
      reLaunch: miniProgramApi("reLaunch", withUrl),
      postMessage: miniProgramApi("postMessage", function (o) {
        return o.data || {};
      }),
      getEnv: function (callback) {
        whenBridge(function () {
          callback({ miniprogram: global.__wxjs_environment === "miniprogram" });
        });
      },
    },
  };
  return wx;
});
