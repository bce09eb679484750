/*
 * Feature Bridge widget: an app's top feature requests, votes and a submit form.
 *
 *   <script src="https://feedback.example.com/widget.js" data-app="mobile"
 *           data-voter-token="..." async></script>
 *
 * data-app          the app id (required)
 * data-voter-token  a voter token minted by the host app's server (optional;
 *                   without it an anonymous id kept in localStorage votes,
 *                   where the app allows anonymous votes)
 * data-target       a CSS selector of the element to render into (optional;
 *                   without it a floating button opens a panel)
 * data-mode         "form" for the submit form only (the hosted form page)
 * data-limit        how many requests to list (default 10)
 *
 * The API base is the script's own origin and path. No dependencies; all
 * text goes through textContent; styles are scoped under the "fbw-" prefix.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var appId = script.getAttribute("data-app");
  if (!appId) {
    if (window.console) {
      console.error("Feature Bridge widget: data-app is required");
    }
    return;
  }
  var base = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var apiBase = base + "/v1/apps/" + encodeURIComponent(appId);
  var voterToken = script.getAttribute("data-voter-token") || null;
  var targetSelector = script.getAttribute("data-target");
  var formOnly = script.getAttribute("data-mode") === "form";
  var limit = parseInt(script.getAttribute("data-limit") || "10", 10);
  if (!(limit >= 1 && limit <= 100)) {
    limit = 10;
  }
  var nonce = script.nonce || script.getAttribute("nonce") || "";
  var STATUS_LABELS = {
    open: "Under consideration",
    planned: "Planned",
    in_progress: "In progress",
    completed: "Completed",
    declined: "Declined",
    duplicate: "Duplicate"
  };
  var instance = 0;

  var CSS = [
    ".fbw-root{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;box-sizing:border-box}",
    ".fbw-root *,.fbw-root *::before,.fbw-root *::after{box-sizing:inherit}",
    ".fbw-root h2,.fbw-root h3{font-size:15px;margin:0 0 8px}",
    ".fbw-list{list-style:none;margin:0 0 12px;padding:0}",
    ".fbw-item{display:flex;gap:8px;align-items:center;padding:6px 0;border-bottom:1px solid #e6e8eb}",
    ".fbw-vote{min-width:56px;padding:4px 8px;border:1px solid #d1d9e0;border-radius:6px;background:#fff;color:#1f2328;font:inherit;cursor:pointer}",
    ".fbw-vote[aria-pressed=true]{background:#ddf4ff;border-color:#0969da;color:#0969da}",
    ".fbw-vote:disabled{cursor:default;opacity:.6}",
    ".fbw-title{flex:1;overflow-wrap:anywhere;color:inherit}",
    ".fbw-status{font-size:12px;color:#59636e}",
    ".fbw-form{display:grid;gap:6px}",
    ".fbw-form label{font-weight:600}",
    ".fbw-form input,.fbw-form textarea{width:100%;padding:6px 8px;border:1px solid #d1d9e0;border-radius:6px;font:inherit;color:inherit;background:#fff}",
    ".fbw-form textarea{min-height:80px;resize:vertical}",
    ".fbw-form [aria-invalid=true]{border-color:#cf222e}",
    ".fbw-field-error{color:#cf222e;font-size:12px;min-height:0}",
    ".fbw-submit{justify-self:start;padding:6px 14px;border:0;border-radius:6px;background:#1f883d;color:#fff;font:inherit;cursor:pointer}",
    ".fbw-submit:disabled{opacity:.6;cursor:default}",
    ".fbw-message{margin:4px 0 0;min-height:1em}",
    ".fbw-message[data-kind=error]{color:#cf222e}",
    ".fbw-message[data-kind=ok]{color:#1a7f37}",
    ".fbw-root button:focus-visible,.fbw-root a:focus-visible,.fbw-root input:focus-visible,.fbw-root textarea:focus-visible{outline:2px solid #0969da;outline-offset:1px}",
    ".fbw-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;padding:10px 16px;border:0;border-radius:20px;background:#0969da;color:#fff;font:600 14px/1 system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}",
    ".fbw-panel{position:fixed;right:20px;bottom:70px;z-index:2147483000;width:min(380px,calc(100vw - 40px));max-height:min(600px,calc(100vh - 100px));overflow:auto;padding:16px;background:#fff;border:1px solid #d1d9e0;border-radius:10px;box-shadow:0 8px 24px rgba(0,0,0,.2)}",
    ".fbw-panel[hidden]{display:none}",
    ".fbw-close{float:right;border:0;background:none;font:inherit;font-size:18px;line-height:1;cursor:pointer;color:#59636e}"
  ].join("\n");

  function injectStyles() {
    if (document.getElementById("fbw-styles")) {
      return;
    }
    var style = document.createElement("style");
    style.id = "fbw-styles";
    if (nonce) {
      style.nonce = nonce;
    }
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        node.setAttribute(name, attrs[name]);
      });
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null;
    }
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var memoryAnonId = null;
  function anonymousId() {
    var store = storage();
    var id = null;
    try {
      id = store && store.getItem("fbw:anonymous-id");
      if (!id) {
        id = newId();
        if (store) {
          store.setItem("fbw:anonymous-id", id);
        }
      }
    } catch (error) {
      id = null;
    }
    if (!id) {
      memoryAnonId = memoryAnonId || newId();
      id = memoryAnonId;
    }
    return id;
  }

  // Anonymous voters get no "voted" flag from the listing: remember it locally.
  var votedKey = "fbw:voted:" + appId;
  function anonymousVoted() {
    try {
      var raw = storage() && storage().getItem(votedKey);
      var list = raw ? JSON.parse(raw) : [];
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  }
  function rememberVote(number, voted) {
    var list = anonymousVoted().filter(function (n) {
      return n !== number;
    });
    if (voted) {
      list.push(number);
    }
    try {
      if (storage()) {
        storage().setItem(votedKey, JSON.stringify(list));
      }
    } catch (error) {
      /* storage full or blocked: the vote still counts on the server */
    }
  }

  function call(method, path, body, headers) {
    var init = { method: method, headers: { Accept: "application/json" }, credentials: "omit" };
    Object.keys(headers || {}).forEach(function (name) {
      init.headers[name] = headers[name];
    });
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(apiBase + path, init).then(
      function (response) {
        return response.text().then(function (text) {
          var data = null;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (error) {
            data = null;
          }
          return { status: response.status, data: data, headers: response.headers };
        });
      },
      function () {
        return { status: 0, data: null, headers: null };
      }
    );
  }

  function errorText(result) {
    if (result.status === 0) {
      return "Could not reach the server. Check your connection and try again.";
    }
    var message = result.data && result.data.error && result.data.error.message;
    if (result.status === 429) {
      var wait = result.headers && result.headers.get("Retry-After");
      return (message || "Too many requests.") +
        (wait && (!message || message.indexOf(wait + " s") < 0) ? " Retry in " + wait + " s." : "");
    }
    return message || "Something went wrong (" + result.status + "). Please try again.";
  }

  function setMessage(node, text, kind) {
    node.textContent = text || "";
    if (kind) {
      node.setAttribute("data-kind", kind);
    } else {
      node.removeAttribute("data-kind");
    }
  }

  function voteLabel(item) {
    return "▲ " + item.total_votes;
  }

  function Widget(container) {
    this.id = "fbw-" + ++instance;
    this.container = container;
    this.items = [];
    this.votingOff = false;
  }

  Widget.prototype.renderList = function (parent) {
    var heading = el("h2", { id: this.id + "-list-heading" }, "Top requests");
    this.list = el("ul", { "class": "fbw-list", "aria-labelledby": this.id + "-list-heading" });
    this.listMessage = el("p", { "class": "fbw-message", role: "status", "aria-live": "polite" });
    parent.appendChild(heading);
    parent.appendChild(this.list);
    parent.appendChild(this.listMessage);
  };

  Widget.prototype.load = function () {
    var self = this;
    var headers = voterToken ? { "X-Featurebridge-Voter": voterToken } : {};
    setMessage(self.listMessage, "Loading…");
    return call("GET", "/requests?sort=top&limit=" + limit, undefined, headers).then(function (result) {
      if (result.status !== 200 || !result.data || !Array.isArray(result.data.items)) {
        setMessage(self.listMessage, errorText(result), "error");
        return;
      }
      var remembered = voterToken ? [] : anonymousVoted();
      self.items = result.data.items.map(function (item) {
        var voted = voterToken ? Boolean(item.voted) : remembered.indexOf(item.number) >= 0;
        return {
          number: item.number,
          title: item.title,
          status: item.status,
          url: item.url,
          total_votes: item.total_votes,
          voted: voted
        };
      });
      self.drawItems();
      setMessage(self.listMessage, self.items.length ? "" : "No requests yet. Be the first!");
    });
  };

  Widget.prototype.drawItems = function () {
    var self = this;
    while (self.list.firstChild) {
      self.list.removeChild(self.list.firstChild);
    }
    self.items.forEach(function (item) {
      var li = el("li", { "class": "fbw-item", "data-number": String(item.number) });
      var button = el("button", { type: "button", "class": "fbw-vote" }, voteLabel(item));
      var closed = item.status === "completed" || item.status === "declined" || item.status === "duplicate";
      button.setAttribute("aria-pressed", item.voted ? "true" : "false");
      button.setAttribute("aria-label", (item.voted ? "Remove your vote for " : "Vote for ") +
        item.title + " (" + item.total_votes + " votes)");
      button.disabled = closed || self.votingOff;
      button.addEventListener("click", function () {
        self.toggleVote(item, button);
      });
      var title;
      if (/^https?:\/\//.test(item.url || "")) {
        title = el("a", { "class": "fbw-title", href: item.url, target: "_blank", rel: "noopener noreferrer" }, item.title);
      } else {
        title = el("span", { "class": "fbw-title" }, item.title);
      }
      var status = el("span", { "class": "fbw-status" }, STATUS_LABELS[item.status] || item.status);
      li.appendChild(button);
      li.appendChild(title);
      li.appendChild(status);
      self.list.appendChild(li);
    });
  };

  Widget.prototype.toggleVote = function (item, button) {
    var self = this;
    var body = voterToken ? { voter_token: voterToken } : { anonymous_id: anonymousId() };
    button.disabled = true;
    call(item.voted ? "DELETE" : "POST", "/requests/" + item.number + "/votes", body).then(function (result) {
      if (result.status === 200 && result.data) {
        item.voted = Boolean(result.data.voted);
        item.total_votes = result.data.total_votes;
        if (!voterToken) {
          rememberVote(item.number, item.voted);
        }
        setMessage(self.listMessage, item.voted ? "Vote counted." : "Vote removed.", "ok");
      } else {
        if (result.status === 403) {
          self.votingOff = true;
        }
        setMessage(self.listMessage, errorText(result), "error");
      }
      self.drawItems();
      var again = self.list.querySelector('[data-number="' + item.number + '"] .fbw-vote');
      if (again && !again.disabled) {
        again.focus();
      }
    });
  };

  Widget.prototype.renderForm = function (parent) {
    var self = this;
    var id = self.id;
    var form = el("form", { "class": "fbw-form", novalidate: "", "aria-labelledby": id + "-form-heading" });
    form.appendChild(el("h3", { id: id + "-form-heading" }, "Suggest a feature"));
    self.inputs = {};
    self.fieldErrors = {};
    [
      { name: "title", label: "Title", tag: "input", attrs: { type: "text", maxlength: "256", autocomplete: "off" } },
      { name: "description", label: "Description", tag: "textarea", attrs: { maxlength: "60000" } },
      { name: "email", label: "Email (optional, kept private)", tag: "input", attrs: { type: "email", autocomplete: "email" } }
    ].forEach(function (field) {
      var inputId = id + "-" + field.name;
      var errorId = inputId + "-error";
      var attrs = { id: inputId, name: field.name, "aria-describedby": errorId };
      Object.keys(field.attrs).forEach(function (name) {
        attrs[name] = field.attrs[name];
      });
      var input = el(field.tag, attrs);
      var error = el("div", { id: errorId, "class": "fbw-field-error", "data-field": field.name });
      form.appendChild(el("label", { "for": inputId }, field.label));
      form.appendChild(input);
      form.appendChild(error);
      self.inputs[field.name] = input;
      self.fieldErrors[field.name] = error;
    });
    self.submitButton = el("button", { type: "submit", "class": "fbw-submit" }, "Send");
    self.formMessage = el("p", { "class": "fbw-message", role: "status", "aria-live": "polite" });
    form.appendChild(self.submitButton);
    form.appendChild(self.formMessage);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    self.idempotencyKey = newId();
    parent.appendChild(form);
  };

  Widget.prototype.clearFieldErrors = function () {
    var self = this;
    Object.keys(self.fieldErrors).forEach(function (name) {
      self.fieldErrors[name].textContent = "";
      self.inputs[name].removeAttribute("aria-invalid");
    });
  };

  Widget.prototype.submit = function () {
    var self = this;
    var body = { title: self.inputs.title.value, description: self.inputs.description.value };
    var email = self.inputs.email.value.trim();
    if (email) {
      body.email = email;
    }
    if (voterToken) {
      body.voter_token = voterToken;
    }
    self.clearFieldErrors();
    self.submitButton.disabled = true;
    setMessage(self.formMessage, "Sending…");
    call("POST", "/requests", body, { "Idempotency-Key": self.idempotencyKey }).then(function (result) {
      self.submitButton.disabled = false;
      var data = result.data || {};
      if (result.status === 201 || result.status === 202) {
        self.idempotencyKey = newId();
        Object.keys(self.inputs).forEach(function (name) {
          self.inputs[name].value = "";
        });
        setMessage(
          self.formMessage,
          result.status === 201 && data.number ? "Thanks — filed as #" + data.number : "Thanks — it's queued",
          "ok"
        );
        if (self.list) {
          self.load();
        }
        return;
      }
      if (result.status === 409) {
        // The key was used for another body (an earlier try went through): start afresh.
        self.idempotencyKey = newId();
      }
      var fields = (data.error && data.error.fields) || {};
      var first = null;
      Object.keys(fields).forEach(function (name) {
        var key = name.split(".")[0];
        if (self.fieldErrors[key]) {
          self.fieldErrors[key].textContent = fields[name];
          self.inputs[key].setAttribute("aria-invalid", "true");
          first = first || self.inputs[key];
        }
      });
      setMessage(self.formMessage, errorText(result), "error");
      if (first) {
        first.focus();
      }
    });
  };

  Widget.prototype.renderInto = function (parent) {
    parent.classList.add("fbw-root");
    if (!formOnly) {
      this.renderList(parent);
      this.load();
    }
    this.renderForm(parent);
  };

  function floating(widget) {
    var root = el("div", { "class": "fbw-root" });
    var panelId = widget.id + "-panel";
    var launcher = el("button", {
      type: "button",
      "class": "fbw-launcher",
      "aria-expanded": "false",
      "aria-controls": panelId
    }, "Feedback");
    var panel = el("div", { id: panelId, "class": "fbw-panel", role: "dialog", "aria-label": "Feature requests" });
    panel.hidden = true;
    var close = el("button", { type: "button", "class": "fbw-close", "aria-label": "Close" }, "×");
    panel.appendChild(close);
    var body = el("div");
    panel.appendChild(body);
    var rendered = false;
    function setOpen(open) {
      panel.hidden = !open;
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        if (!rendered) {
          rendered = true;
          widget.renderInto(body);
        }
        close.focus();
      } else {
        launcher.focus();
      }
    }
    launcher.addEventListener("click", function () {
      setOpen(panel.hidden);
    });
    close.addEventListener("click", function () {
      setOpen(false);
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        setOpen(false);
      }
    });
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);
  }

  function start() {
    injectStyles();
    var widget = new Widget();
    var target = targetSelector ? document.querySelector(targetSelector) : null;
    if (targetSelector && !target) {
      if (window.console) {
        console.error("Feature Bridge widget: no element matches " + targetSelector);
      }
      return;
    }
    if (target) {
      widget.renderInto(target);
    } else {
      floating(widget);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
