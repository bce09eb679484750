/*
 * Feature Bridge widget: an app's top requests, votes, similar requests as you
 * type and a submit form, in an open shadow root. Script attributes and the
 * window.FeatureBridge API: README, "The widget". No dependencies; data is
 * written as text only; every request goes to the bridge the script came from.
 * Served without its comments and indentation (bridge/api/pages.py).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  function data(name) {
    return script.getAttribute("data-" + name);
  }
  var appId = data("app");
  if (!appId) return console.error("Feature Bridge widget: data-app is required");
  var base = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var api = base + "/v1/apps/" + encodeURIComponent(appId);
  var mode = data("mode");
  var limit = Math.min(Math.max(parseInt(data("limit"), 10) || 10, 1), 100);
  var lang = data("lang") || "en";
  var formToken = data("form-token");
  var bridge = new EventTarget();
  var token, tokenEmail, votingOff, list, listMessage, inputs, errors, similarBox, similarList;
  var live, notify, emailBox, honeypot, submitButton, formMessage, sending, timer;
  var seq = 0;
  var items = {};
  var key = newId();
  var T = {
    launcher: "Feedback", dialog: "Feature requests", close: "Close", top: "Top requests",
    loading: "Loading…", empty: "No requests yet. Be the first!", suggest: "Suggest a feature",
    title: "Title", description: "Description", email: "Email (optional, kept private)",
    notify: "Tell me when this ships", needEmail: "Give your email to be told.", send: "Send",
    sending: "Sending…", filed: "Thanks — filed as #{n}", queued: "Thanks — it's queued",
    held: "Thanks — your request awaits review before it is published.",
    similar: "Similar requests", found: "{n} similar requests", instead: "Vote for this instead",
    insteadDone: "Voted", vote: "Vote for {t} ({n} votes)", unvote: "Remove your vote for {t} ({n} votes)",
    counted: "Vote counted.", removed: "Vote removed.", notCounted: "Your vote was not saved. {e}",
    offline: "Could not reach the server. Check your connection and try again.",
    failed: "Something went wrong ({n}). Please try again.", wait: "Retry in {n} s.",
    open: "Under consideration", planned: "Planned", in_progress: "In progress",
    completed: "Completed", declined: "Declined", duplicate: "Duplicate"
  };
  var CSS =
    ":host{all:initial!important;display:block!important}" +
    ".fbw-root{--b:#fff;--f:#1f2328;--m:#59636e;--l:#d1d9e0;--a:#0969da;--ab:#0969da;--p:#ddf4ff;--g:#1f883d;--e:#cf222e;--o:#1a7f37;font:14px/1.45 system-ui,sans-serif;color:var(--f)}" +
    "@media(prefers-color-scheme:dark){.fbw-root{--b:#161b22;--f:#e6edf3;--m:#9198a1;--l:#3d444d;--a:#4493f8;--ab:#1f6feb;--p:#12263f;--g:#238636;--e:#f85149;--o:#3fb950}}" +
    "*{box-sizing:border-box;font:inherit;color:inherit}h2,h3{font-size:15px;margin:0 0 8px}h2,h3,h4,label,.fbw-launcher{font-weight:600}h4{margin:0}" +
    "ul{list-style:none;margin:0 0 12px;padding:0}li{display:flex;gap:8px;align-items:center;padding:6px 0;border-bottom:1px solid var(--l)}a{color:var(--a)}" +
    "button,input,textarea{padding:4px 8px;border:1px solid var(--l);border-radius:6px;background:var(--b);cursor:pointer}" +
    "[aria-pressed=true]{background:var(--p);border-color:var(--a);color:var(--a)}:disabled{cursor:default;opacity:.6}" +
    ".fbw-title{flex:1;overflow-wrap:anywhere}.fbw-status,.fbw-field-error,[data-kind=error]{font-size:12px;color:var(--m)}[data-kind=error],.fbw-field-error{color:var(--e)}" +
    "form,.fbw-field{display:grid;gap:6px}input,textarea{width:100%;cursor:auto}textarea{min-height:80px;resize:vertical}[aria-invalid=true]{border-color:var(--e)}" +
    "[data-kind=ok]{color:var(--o)}.fbw-check{display:flex;gap:6px;align-items:center}.fbw-check input{width:auto;margin:0}" +
    ".fbw-hp,.fbw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    ".fbw-similar{padding:6px 8px;border:1px solid var(--l);border-radius:6px}.fbw-similar ul{margin:0}.fbw-similar li:last-child{border:0}" +
    ".fbw-submit{justify-self:start;padding:6px 14px;border:0;background:var(--g);color:#fff}p{margin:4px 0 0}:focus-visible{outline:2px solid var(--a);outline-offset:1px}" +
    ".fbw-launcher,.fbw-panel{position:fixed;right:20px;z-index:2147483000;box-shadow:0 4px 16px #0005}" +
    ".fbw-launcher{bottom:20px;padding:10px 16px;border:0;border-radius:20px;background:var(--ab);color:#fff}" +
    ".fbw-panel{bottom:70px;width:min(380px,calc(100vw - 40px));max-height:min(600px,calc(100vh - 100px));overflow:auto;padding:16px;background:var(--b);border:1px solid var(--l);border-radius:10px;animation:fbw-in .2s ease-out}" +
    "@keyframes fbw-in{from{opacity:0;transform:translateY(8px)}}[hidden]{display:none!important}" +
    ".fbw-close{float:right;border:0;background:none;font-size:18px;color:var(--m)}" +
    "@media(prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}";

  function el(tag, attrs, text, parent) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function t(name, vars) {
    return String(T[name]).replace(/\{(\w)\}/g, function (all, part) {
      return vars[part];
    });
  }
  function say(node, text, kind) {
    node.textContent = text || "";
    kind ? node.setAttribute("data-kind", kind) : node.removeAttribute("data-kind");
  }
  // FeatureBridge.on("voted", fn) or window's "featurebridge:voted" event.
  function emit(name, detail) {
    bridge.dispatchEvent(new CustomEvent(name, { detail: detail }));
    window.dispatchEvent(new CustomEvent("featurebridge:" + name, { detail: detail }));
  }
  function newId() {
    return Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }
  // Local storage where the browser allows it; without it, for this page only.
  var memory = {};
  function stored(name, value) {
    name = "fbw:" + name;
    try {
      if (value === undefined) return JSON.parse(localStorage.getItem(name)) || memory[name];
      localStorage.setItem(name, JSON.stringify(value));
    } catch (error) {
      if (value === undefined) return memory[name];
    }
    memory[name] = value;
  }
  function anonymousId() {
    try {
      memory.id = memory.id || localStorage.getItem("fbw:anonymous-id") || newId();
      localStorage.setItem("fbw:anonymous-id", memory.id);
    } catch (error) {
      memory.id = memory.id || newId();
    }
    return memory.id;
  }
  // Anonymous voters get no "voted" flag from the API: the widget remembers their votes.
  function remembered(number) {
    return (stored("voted:" + appId) || []).indexOf(number) >= 0;
  }
  function remember(number, voted) {
    var numbers = (stored("voted:" + appId) || []).filter(function (n) {
      return n !== number;
    });
    stored("voted:" + appId, voted ? numbers.concat(number) : numbers);
  }
  function identify(value) {
    token = value || null;
    tokenEmail = null;
    try {
      tokenEmail = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).email;
    } catch (error) {
      /* no token, or one the widget cannot read: the bridge decides */
    }
    if (emailBox) emailBox.hidden = !!tokenEmail;
  }

  function call(method, path, body, headers) {
    headers = headers || {};
    headers.Accept = "application/json";
    if (body) headers["Content-Type"] = "application/json";
    return fetch(api + path, { method: method, headers: headers, credentials: "omit", body: body && JSON.stringify(body) }).then(
      function (response) {
        return response.json().catch(Object).then(function (answer) {
          return { status: response.status, data: answer || {}, headers: response.headers };
        });
      },
      function () {
        return { status: 0, data: {} };
      }
    );
  }
  function errorText(result) {
    if (!result.status) return T.offline;
    var error = result.data.error || {};
    var text = T["e_" + error.code] || error.message || t("failed", { n: result.status });
    var wait = result.status == 429 && result.headers.get("Retry-After");
    return wait && text.indexOf(wait + " s") < 0 ? text + " " + t("wait", { n: wait }) : text;
  }
  function closed(item) {
    return /^(completed|declined|duplicate)$/.test(item.status);
  }
  function paint(item) {
    for (var place in item.paint) item.paint[place]();
  }
  // Optimistic: the count moves at once and moves back, with the reason, when the bridge refuses.
  function vote(item, message, extra) {
    if (item.busy) return;
    var was = item.voted;
    var before = item.total_votes;
    var body = token ? { voter_token: token } : { anonymous_id: anonymousId() };
    for (var name in was ? {} : extra) body[name] = extra[name];
    item.busy = true;
    item.voted = !was;
    item.total_votes = before + (was ? -1 : 1);
    paint(item);
    call(was ? "DELETE" : "POST", "/requests/" + item.number + "/votes", body).then(function (result) {
      var answer = result.data;
      item.busy = false;
      if (result.status == 200 && "voted" in answer) {
        item.voted = answer.voted;
        item.total_votes = answer.total_votes;
        if (!token) remember(item.number, item.voted);
        say(message, T[item.voted ? "counted" : "removed"], "ok");
        emit("voted", { number: item.number, voted: item.voted, total_votes: item.total_votes });
      } else {
        item.voted = was;
        item.total_votes = before;
        votingOff = votingOff || result.status == 403;
        say(message, t("notCounted", { e: errorText(result) }), "error");
      }
      paint(item);
    });
  }
  // One object per request, shared by the list and the similar requests.
  function itemOf(found) {
    var item = items[found.number] || (items[found.number] = { number: found.number, paint: {} });
    item.title = found.title;
    item.status = found.status;
    item.url = found.url;
    if (!item.busy) {
      item.total_votes = found.total_votes;
      item.voted = "voted" in found ? found.voted : token ? !!item.voted : remembered(found.number);
    }
    return item;
  }
  function link(item, parent, id) {
    var attrs = { "class": "fbw-title", id: id };
    if (/^https?:\/\//.test(item.url)) {
      attrs.href = item.url;
      attrs.target = "_blank";
      attrs.rel = "noopener noreferrer";
    }
    return el(attrs.href ? "a" : "span", attrs, item.title, parent);
  }
  function statusOf(item) {
    return T[item.status] || item.status;
  }

  function render(root) {
    if (mode != "form") {
      el("h2", { id: "top" }, T.top, root);
      list = el("ul", { "class": "fbw-list", "aria-labelledby": "top" }, null, root);
      listMessage = el("p", { "class": "fbw-message", role: "status" }, null, root);
      load();
    }
    var form = el("form", { "class": "fbw-form", novalidate: "", "aria-labelledby": "suggest" }, null, root);
    el("h3", { id: "suggest" }, T.suggest, form);
    inputs = {};
    errors = {};
    function field(name, tag, attrs) {
      var box = el("div", { "class": "fbw-field" }, null, form);
      el("label", { "for": name }, T[name], box);
      attrs.id = attrs.name = name;
      attrs["aria-describedby"] = name + "-error";
      inputs[name] = el(tag, attrs, null, box);
      errors[name] = el("div", { id: name + "-error", "class": "fbw-field-error", "data-field": name }, null, box);
      return box;
    }
    field("title", "input", { type: "text", maxlength: 256, autocomplete: "off" }).oninput = suggest;
    similarBox = el("div", { "class": "fbw-similar", role: "region", "aria-labelledby": "similar", hidden: "" }, null, form);
    el("h4", { id: "similar" }, T.similar, similarBox);
    similarList = el("ul", null, null, similarBox);
    live = el("div", { "class": "fbw-sr", role: "status" }, null, form);
    field("description", "textarea", { maxlength: 60000 });
    var check = el("label", { "class": "fbw-check" }, null, form);
    notify = el("input", { type: "checkbox", name: "notify" }, null, check);
    check.appendChild(document.createTextNode(T.notify));
    emailBox = field("email", "input", { type: "email", autocomplete: "email" });
    // The honeypot: invisible, out of the tab order and of the accessibility tree.
    var trap = el("div", { "class": "fbw-hp", "aria-hidden": "true" }, null, form);
    el("label", { "for": "website" }, "Website", trap);
    honeypot = el("input", { id: "website", name: "website", tabindex: -1, autocomplete: "off", "aria-hidden": "true" }, null, trap);
    submitButton = el("button", { type: "submit", "class": "fbw-submit" }, T.send, form);
    formMessage = el("p", { "class": "fbw-message", role: "status" }, null, form);
    form.onsubmit = function (event) {
      event.preventDefault();
      submit();
    };
    identify(token);
    // A signed render time: a submission sooner after it is a script's (the hosted form's
    // page carries one; a voter token skips the check).
    if (!formToken && !token) {
      call("GET", "/form-token").then(function (result) {
        if (result.status == 200) formToken = result.data.form_token;
      });
    }
  }

  function load() {
    say(listMessage, T.loading);
    call("GET", "/requests?sort=top&limit=" + limit, null, token ? { "X-Featurebridge-Voter": token } : {}).then(function (result) {
      var found = result.status == 200 && result.data.items;
      if (!Array.isArray(found)) return say(listMessage, errorText(result), "error");
      list.textContent = "";
      found.forEach(function (each) {
        var item = itemOf(each);
        var li = el("li", { "class": "fbw-item", "data-number": item.number }, null, list);
        var button = el("button", { type: "button", "class": "fbw-vote" }, null, li);
        link(item, li);
        el("span", { "class": "fbw-status" }, statusOf(item), li);
        button.onclick = function () {
          vote(item, listMessage);
        };
        (item.paint.list = function () {
          button.textContent = "▲ " + item.total_votes;
          button.setAttribute("aria-pressed", item.voted);
          button.setAttribute("aria-label", t(item.voted ? "unvote" : "vote", { t: item.title, n: item.total_votes }));
          button.disabled = closed(item) || votingOff;
        })();
      });
      say(listMessage, found.length ? "" : T.empty);
    });
  }

  // Similar requests while the title is typed: debounced, the newest answer wins.
  function suggest() {
    var title = inputs.title.value.trim();
    var mine = ++seq;
    clearTimeout(timer);
    similarBox.hidden = similarBox.hidden || title.length < 3;
    if (title.length < 3) return;
    timer = setTimeout(function () {
      var query = "/similar?limit=3&title=" + encodeURIComponent(title) +
        "&description=" + encodeURIComponent(inputs.description.value.slice(0, 2000));
      call("GET", query).then(function (result) {
        if (mine != seq) return;
        var found = (result.status == 200 && result.data.items) || [];
        similarList.textContent = "";
        found.forEach(function (each) {
          var item = itemOf(each);
          var li = el("li", { "data-number": item.number }, null, similarList);
          link(item, li, "similar-" + item.number);
          var meta = el("span", { "class": "fbw-status" }, null, li);
          var button = closed(item) ? {} : el("button", { type: "button", "class": "fbw-instead", "aria-describedby": "similar-" + item.number }, null, li);
          button.onclick = function () {
            vote(item, formMessage, notifyFields());
          };
          (item.paint.similar = function () {
            meta.textContent = "▲ " + item.total_votes + " · " + statusOf(item);
            button.textContent = T[item.voted ? "insteadDone" : "instead"];
            button.disabled = votingOff;
            if (button.setAttribute) button.setAttribute("aria-pressed", item.voted);
          })();
        });
        similarBox.hidden = !found.length;
        say(live, found.length && t("found", { n: found.length }));
      });
    }, 300);
  }

  // What the "tell me when this ships" box adds to a submission or a vote.
  function notifyFields() {
    var email = inputs.email.value.trim();
    var fields = {};
    if (notify.checked) {
      fields.notify = true;
      if (email && !token) fields.email = email;
    }
    return fields;
  }
  function fieldError(name, text) {
    errors[name].textContent = text;
    inputs[name].setAttribute("aria-invalid", "true");
    return inputs[name];
  }

  function submit() {
    if (sending) return;
    for (var name in inputs) {
      errors[name].textContent = "";
      inputs[name].removeAttribute("aria-invalid");
    }
    var email = inputs.email.value.trim();
    if (notify.checked && !email && !tokenEmail) {
      say(formMessage);
      return fieldError("email", T.needEmail).focus();
    }
    var body = notifyFields();
    body.title = inputs.title.value;
    body.description = inputs.description.value;
    if (email) body.email = email;
    if (token) body.voter_token = token;
    if (honeypot.value) body.website = honeypot.value;
    if (formToken) body.form_token = formToken;
    sending = true;
    submitButton.setAttribute("aria-disabled", "true");
    say(formMessage, T.sending);
    call("POST", "/requests", body, { "Idempotency-Key": key }).then(function (result) {
      var answer = result.data;
      var fields = (answer.error && answer.error.fields) || {};
      var first;
      sending = false;
      submitButton.removeAttribute("aria-disabled");
      // A 409: the key went with another body (an earlier try went through); start afresh.
      if (result.status == 409) key = newId();
      if (result.status == 201 || result.status == 202) {
        key = newId();
        for (name in inputs) inputs[name].value = "";
        similarBox.hidden = true;
        notify.checked = false;
        say(formMessage, answer.number ? t("filed", { n: answer.number }) : T[answer.delivery == "held" ? "held" : "queued"], "ok");
        emit("submitted", { id: answer.id, number: answer.number, status: answer.status, delivery: answer.delivery });
        return list && load();
      }
      for (name in fields) {
        var input = errors[name.split(".")[0]] && fieldError(name.split(".")[0], T.e_field || fields[name]);
        first = first || input;
      }
      say(formMessage, errorText(result), "error");
      if (first) first.focus();
    });
  }

  function shadowRoot(host) {
    var shadow = host.attachShadow({ mode: "open" });
    var style = el("style", null, CSS);
    style.nonce = script.nonce;
    shadow.appendChild(style);
    return el("div", { "class": "fbw-root", lang: lang }, null, shadow);
  }

  function floating() {
    var root = shadowRoot(el("div", { "data-featurebridge": "" }, null, document.body));
    var launcher = el("button", { type: "button", "class": "fbw-launcher", "aria-expanded": "false", "aria-controls": "panel", "aria-haspopup": "dialog" }, T.launcher, root);
    var panel = el("div", { id: "panel", "class": "fbw-panel", role: "dialog", "aria-modal": "true", "aria-label": T.dialog, hidden: "" }, null, root);
    var close = el("button", { type: "button", "class": "fbw-close", "aria-label": T.close }, "×", panel);
    var body = el("div", null, null, panel);
    bridge.open = function () {
      if (!inputs) render(body);
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      close.focus();
    };
    bridge.close = close.onclick = function () {
      if (panel.hidden) return;
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    };
    launcher.onclick = function () {
      panel.hidden ? bridge.open() : bridge.close();
    };
    // Escape closes; Tab and Shift+Tab wrap around inside the open panel.
    root.onkeydown = function (event) {
      if (event.key == "Escape") return bridge.close();
      if (event.key != "Tab" || panel.hidden) return;
      var stops = Array.prototype.filter.call(panel.querySelectorAll("a[href],button,input,textarea"), function (node) {
        return !node.disabled && node.tabIndex >= 0 && node.getClientRects().length;
      });
      var active = root.getRootNode().activeElement;
      if (active == stops[event.shiftKey ? 0 : stops.length - 1] || !panel.contains(active)) {
        event.preventDefault();
        stops[event.shiftKey ? stops.length - 1 : 0].focus();
      }
    };
  }

  // The roadmap page: its server-rendered cards get working vote buttons.
  function roadmap() {
    var message = document.getElementById("fb-live");
    Array.prototype.forEach.call(document.querySelectorAll("[data-fb-vote]"), function (button) {
      var count = button.parentNode.querySelector(".fb-votes");
      var item = { number: +button.getAttribute("data-fb-vote"), total_votes: +button.getAttribute("data-votes"), paint: {} };
      item.voted = remembered(item.number);
      (item.paint.card = function () {
        button.setAttribute("aria-pressed", item.voted);
        count.textContent = item.total_votes + " " + count.getAttribute(item.total_votes == 1 ? "data-one" : "data-other");
      })();
      button.hidden = false;
      button.onclick = function () {
        vote(item, message);
      };
    });
  }

  function start() {
    window.FeatureBridge = bridge;
    bridge.on = function (name, listener) {
      bridge.addEventListener(name, function (event) {
        listener(event.detail);
      });
    };
    bridge.identify = function (value) {
      identify(value);
      items = {};
      if (list) load();
    };
    if (mode == "roadmap") return roadmap();
    var selector = data("target");
    var target = selector && document.querySelector(selector);
    if (!selector) return floating();
    if (!target) return console.error("Feature Bridge widget: no element matches " + selector);
    var host = el("div", { "data-featurebridge": "" });
    target.textContent = "";
    target.appendChild(host);
    render(shadowRoot(host));
    bridge.open = function () {
      inputs.title.focus();
    };
    bridge.close = Object;
  }

  // English is built in; another language's strings come from the bridge, then data-strings.
  function strings(more) {
    for (var name in more) T[name] = more[name];
  }
  function ready() {
    try {
      strings(JSON.parse(data("strings")));
    } catch (error) {
      /* no overrides */
    }
    document.readyState == "loading" ? document.addEventListener("DOMContentLoaded", start) : start();
  }
  identify(data("voter-token"));
  if (/^en\b/i.test(lang)) return ready();
  fetch(base + "/widget/" + lang.split("-")[0].toLowerCase() + ".json", { credentials: "omit" })
    .then(function (response) {
      return response.ok && response.json();
    })
    .then(strings, Object)
    .then(ready);
})();
