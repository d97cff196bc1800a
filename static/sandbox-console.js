// The console's live pages: re-render <main> when the sandbox changes (server-sent events), and send each
// form marked data-action to the control API as JSON. The server renders (and escapes) everything shown.
(function () {
  "use strict";
  var main = document.querySelector("main");
  var live = document.querySelector("[data-testid=console-live]");
  var busy = false;
  var again = false;
  var lastResult = null;  // the last action's outcome, shown again beside its form after each re-render

  function typing() {
    var active = document.activeElement;
    return active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName) &&
      active.type !== "hidden" && active.type !== "submit";
  }

  function refresh() {
    if (busy || typing()) {  // never throw away what someone is typing: refresh once they leave the field
      again = true;
      return;
    }
    busy = true;
    fetch(location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var content = fresh.querySelector("main");
        var clock = fresh.querySelector("[data-testid=console-clock]");
        if (content) {
          var opened = Array.prototype.map.call(main.querySelectorAll("details[open][id]"), function (d) { return d.id; });
          main.innerHTML = content.innerHTML;
          opened.forEach(function (id) {  // what someone opened to read stays open
            var element = document.getElementById(id);
            if (element && element.tagName === "DETAILS") { element.open = true; }
          });
          showLastResult();
        }
        var shown = document.querySelector("[data-testid=console-clock]");
        if (clock && shown) {
          shown.textContent = clock.textContent;
        }
        document.body.dataset.version = fresh.body.dataset.version || document.body.dataset.version;
        if (location.hash) {
          var target = document.getElementById(location.hash.slice(1));
          if (target) { target.scrollIntoView(); }
        }
      })
      .catch(function (error) { console.warn("[wechat-sandbox console] refresh failed:", error); })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  document.addEventListener("focusout", function () {
    if (again) { setTimeout(refresh, 0); }
  });

  if (window.EventSource) {
    var events = new EventSource("/_sandbox/api/events");
    events.addEventListener("hello", function () { live.textContent = "● live"; });
    events.addEventListener("change", function (event) {
      live.textContent = "● live";
      var version = JSON.parse(event.data).version;
      if (String(version) !== document.body.dataset.version) { refresh(); }
    });
    events.onerror = function () { live.textContent = "○ reconnecting…"; };
  } else {
    live.textContent = "reload to refresh";
  }

  function actionForms() {
    return Array.prototype.slice.call(main.querySelectorAll("form[data-action]"));
  }

  function showLastResult() {
    if (!lastResult) { return; }
    var form = actionForms()[lastResult.index];
    var result = form && form.dataset.action === lastResult.action && form.querySelector("[data-result]");
    if (result) {
      result.textContent = lastResult.text;
      result.className = lastResult.className;
    }
  }

  function value(input) {
    var kind = input.dataset.type;
    if (kind === "int") { return input.value === "" ? undefined : Number(input.value); }
    if (kind === "bool") { return input.value === "true"; }
    return input.value;
  }

  document.addEventListener("click", function (event) {
    var value = event.target.closest && event.target.closest("[data-copy]");
    if (!value) { return; }
    var header = document.querySelector("[data-testid=console-result]");
    var text = value.textContent.trim();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(
        function () { if (header) { header.textContent = "copied " + text; } },
        function () { if (header) { header.textContent = "select and copy it yourself: " + text; } });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.action) { return; }
    event.preventDefault();
    var body = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || (input.type === "checkbox" && !input.checked)) { return; }
      var given = value(input);
      if (given !== undefined && given !== "") { body[input.name] = given; }
    });
    var result = form.querySelector("[data-result]");
    var index = actionForms().indexOf(form);  // now: a re-render may replace the form before the answer
    if (result) { result.textContent = "…"; result.className = "result"; }
    var method = form.dataset.method || "POST";
    fetch(form.dataset.action, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: method === "DELETE" ? undefined : JSON.stringify(body),
    })
      .then(function (response) {
        return response.text().then(function (text) {
          var shown = text;
          try {
            var parsed = JSON.parse(text);
            shown = parsed && parsed.error ? parsed.error + (parsed.diagnostic ? " (" + parsed.diagnostic + ")" : "")
              : "done";
          } catch (ignored) { /* not JSON: show it as it is */ }
          var line = (response.ok ? "✓ " : "✗ ") + shown;
          lastResult = { action: form.dataset.action, index: index, text: line,
            className: "result " + (response.ok ? "ok" : "err") };
          showLastResult();
          var header = document.querySelector("[data-testid=console-result]");
          if (header) { header.textContent = (form.dataset.label || form.dataset.action) + ": " + line; }
          if (response.ok) { refresh(); }
        });
      })
      .catch(function (error) {
        if (result) { result.textContent = "✗ " + error; result.className = "result err"; }
      });
  });
})();
