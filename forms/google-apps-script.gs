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
  var timestamp = String(Math.floor(Date.now() / 1000));
  var url = baseUrl.replace(/\/+$/, "") + "/v1/apps/" + encodeURIComponent(FEATUREBRIDGE_APP) + "/google-forms";
  var answer = UrlFetchApp.fetch(url, {
    method: "post",
    contentType: "application/json; charset=utf-8",
    payload: body,
    headers: {
      "X-Featurebridge-Timestamp": timestamp,
      "X-Featurebridge-Signature": "sha256=" + featurebridgeSign_(secret, timestamp + "." + body),
    },
    muteHttpExceptions: true,
  });
  var status = answer.getResponseCode();
  if (status < 200 || status >= 300) {
    console.error("Feature Bridge answered " + status + " for response " + payload.response_id + ": " + answer.getContentText());
  }
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
