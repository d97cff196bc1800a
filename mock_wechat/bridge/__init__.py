"""The back end of the in-page bridge: what WeChat's client decides for `WeixinJSBridge.invoke` calls."""
