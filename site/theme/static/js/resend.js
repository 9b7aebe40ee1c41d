/* Issue page, "Resend my private link": POST /api/cert/resend; and the replacement link from that email
   (#replace=<code>), which is posted to /api/cert/resend/confirm and then removed from the address bar. */
"use strict";

(function () {
  var form = GS.$("resend-form");
  var input = GS.$("resend_email");
  var newLink = GS.$("resend_new_link");
  var error = GS.$("resend-error");
  var notice = GS.$("resend-notice");
  var button = GS.$("resend-submit");

  form.noValidate = true;

  function validEmail() {
    return showEmailVerdict(input, error, emailAddress(input.value));  // email-rule.js: the API's own rule
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = validEmail();
    if (!email) { input.focus(); return; }
    button.disabled = true;
    GS.api("POST", "/api/cert/resend", { body: { email: email, new_link: newLink.checked } }).then(function (result) {
      button.disabled = false;
      if (result.status === 202) {
        GS.say(notice, result.data.message, "ok");
        return;
      }
      GS.say(notice, GS.fallbackMessage(result, "The request could not be sent. Try again."), "error");
    });
  });

  function confirmReplacement(code) {
    history.replaceState(null, "", location.pathname + location.search + "#resend");
    GS.$("resend").scrollIntoView();
    GS.say(notice, "Replacing the private link.", "");
    GS.api("POST", "/api/cert/resend/confirm", { body: { code: code } }).then(function (result) {
      if (result.status === 200) {
        GS.say(notice, result.data.message, "ok");
        return;
      }
      GS.say(notice, GS.fallbackMessage(result, "The link could not be replaced. Request a new email."), "error");
    });
  }

  var match = /^#replace=([A-Za-z0-9_\-]+\.[0-9a-f]+)$/.exec(location.hash);
  if (match) confirmReplacement(match[1]);
})();
