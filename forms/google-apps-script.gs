/**
 * Feature Bridge: file each Google Form response as a feature request.
 *
 * Install (in the form: ⋮ → Script editor):
 *   1. Paste this file and set FEATUREBRIDGE_APP below to your app's id.
 *   2. Project Settings → Script Properties: add
 *        FEATUREBRIDGE_URL          the bridge's base URL, e.g. https://feedback.example.com
 *        FEATUREBRIDGE_FORM_SECRET  the value of the app's form_secret_env variable
 *   3. Triggers → Add Trigger: onFormSubmit, event source "From form",
 *      event type "On form submit".
 *   4. Triggers → Add Trigger: featurebridgeRetry, event source "Time-driven",
 *      type of time based trigger "Minutes timer", interval "Every 5 minutes".
 *
 * A post that fails (network error, 5xx, 429) is kept in Script Properties and
 * featurebridgeRetry sends it again with a growing delay, signed anew each time
 * (the bridge refuses a signature older than 5 minutes). Any other 4xx is logged
 * and dropped: sending the same post again would be refused the same way.
 *
 * Each post carries X-Featurebridge-Timestamp (unix seconds) and
 * X-Featurebridge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">.
 * The form's response id is the idempotency key: a retried post files no second issue.
 */

var FEATUREBRIDGE_APP = "mobile";

function onFormSubmit(e) {
  var props = PropertiesService.getScriptProperties();
  var baseUrl = props.getProperty("FEATUREBRIDGE_URL");
  var secret = props.getProperty("FEATUREBRIDGE_FORM_SECRET");
  if (!baseUrl || !secret) {
    console.error("Feature Bridge: set FEATUREBRIDGE_URL and FEATUREBRIDGE_FORM_SECRET in Script Properties");
    return;
  }
  var response = e.response;
  var payload = {
    response_id: response.getId(),
    answers: featurebridgeAnswers_(response.getItemResponses()),
  };
  var email = response.getRespondentEmail();
  if (email) {
    payload.respondent_email = email;
  }
  var body = JSON.stringify(payload);
  var url = baseUrl.replace(/\/+$/, "") + "/v1/apps/" + encodeURIComponent(FEATUREBRIDGE_APP) + "/google-forms";
  var pending = {url: url, body: body, attempts: 0, next: 0};
  if (!featurebridgeSend_(secret, pending)) {
    featurebridgeKeep_(props, payload.response_id, pending);
  }
}

var FEATUREBRIDGE_PENDING = "FEATUREBRIDGE_PENDING_";

/** Time-driven trigger: sends again each kept post whose delay has passed. */
function featurebridgeRetry() {
  var props = PropertiesService.getScriptProperties();
  var secret = props.getProperty("FEATUREBRIDGE_FORM_SECRET");
  var kept = props.getProperties();
  for (var key in kept) {
    if (key.indexOf(FEATUREBRIDGE_PENDING) !== 0) {
      continue;
    }
    var pending = JSON.parse(kept[key]);
    if (pending.next > Date.now()) {
      continue;
    }
    if (featurebridgeSend_(secret, pending)) {
      props.deleteProperty(key);
    } else {
      featurebridgeKeep_(props, key.slice(FEATUREBRIDGE_PENDING.length), pending);
    }
  }
}

/** Signs and posts; true when the post needs no retry (accepted, or refused for good). */
function featurebridgeSend_(secret, pending) {
  var body = pending.body;
  var timestamp = String(Math.floor(Date.now() / 1000));
  var answer;
  try {
    answer = UrlFetchApp.fetch(pending.url, {
      method: "post",
      contentType: "application/json; charset=utf-8",
      payload: body,
      headers: {
        "X-Featurebridge-Timestamp": timestamp,
        "X-Featurebridge-Signature": "sha256=" + featurebridgeSign_(secret, timestamp + "." + body),
      },
      muteHttpExceptions: true,
    });
  } catch (error) {
    console.warn("Feature Bridge unreachable, will retry: " + error);
    return false;
  }
  var status = answer.getResponseCode();
  if (status >= 200 && status < 300) {
    return true;
  }
  var retry = status === 429 || status >= 500;
  console.error("Feature Bridge answered " + status + (retry ? ", will retry: " : ", dropped: ") + answer.getContentText());
  return !retry;
}

/** Keeps a failed post with the next attempt 1, 2, 4, … minutes away (at most an hour). */
function featurebridgeKeep_(props, responseId, pending) {
  pending.attempts += 1;
  pending.next = Date.now() + Math.min(60, Math.pow(2, pending.attempts - 1)) * 60 * 1000;
  props.setProperty(FEATUREBRIDGE_PENDING + responseId, JSON.stringify(pending));
}

/** Question title → answer; a checkbox answer stays a list, a grid row becomes "a, b". */
function featurebridgeAnswers_(itemResponses) {
  var answers = {};
  for (var i = 0; i < itemResponses.length; i++) {
    var item = itemResponses[i];
    var title = item.getItem().getTitle() || "Question " + (i + 1);
    var value = item.getResponse();
    if (Array.isArray(value)) {
      value = value.map(function (part) {
        return Array.isArray(part) ? part.join(", ") : String(part === null ? "" : part);
      });
    } else {
      value = String(value === null ? "" : value);
    }
    answers[title] = value;
  }
  return answers;
}

/** Lowercase hex of HMAC-SHA256(message) under secret, both taken as UTF-8. */
function featurebridgeSign_(secret, message) {
  var bytes = Utilities.computeHmacSha256Signature(message, secret, Utilities.Charset.UTF_8);
  return bytes
    .map(function (b) {
      var unsigned = b < 0 ? b + 256 : b;
      return (unsigned < 16 ? "0" : "") + unsigned.toString(16);
    })
    .join("");
}
