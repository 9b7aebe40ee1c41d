/* Issue page: recovery email -> Stripe Checkout; test checkout only when the API enables it. */
"use strict";

(function () {
  var form = GS.$("issue-form");
  var input = GS.$("recovery_email");
  var error = GS.$("email-error");
  var notice = GS.$("issue-notice");
  var purchase = GS.$("purchase");
  var testButton = GS.$("test-checkout");
  var purchaseLabel = purchase.textContent;

  form.noValidate = true;

  if (new URLSearchParams(location.search).get("cancelled")) {
    GS.say(notice, "Checkout was cancelled. No payment was taken.", "");
  }

  function validEmail() {
    return showEmailVerdict(input, error, emailAddress(input.value));  // email-rule.js: the API's own rule
  }

  function busy(on) {
    purchase.disabled = on;
    testButton.disabled = on;
    GS.text(purchase, on ? "Opening checkout" : purchaseLabel);
  }

  input.addEventListener("blur", function () { if (input.value) validEmail(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = validEmail();
    if (!email) { input.focus(); return; }
    busy(true);
    GS.api("POST", "/api/cert/checkout", { body: { recovery_email: email } }).then(function (result) {
      if (result.status === 200 && result.data.checkout_url) {
        location.assign(result.data.checkout_url);
        return;
      }
      busy(false);
      if (result.data.error === "invalid_email") { validEmail(); input.setAttribute("aria-invalid", "true"); }
      GS.say(notice, GS.fallbackMessage(result, "Checkout could not be started. No payment was taken. Try again."), "error");
    });
  });

  testButton.addEventListener("click", function () {
    var email = validEmail();
    if (!email) { input.focus(); return; }
    busy(true);
    GS.api("POST", "/api/cert/test-checkout", { body: { recovery_email: email } }).then(function (result) {
      if (result.status === 201 && result.data.register_url) {
        location.assign(result.data.register_url);
        return;
      }
      busy(false);
      GS.say(notice, GS.fallbackMessage(result, "Test checkout failed."), "error");
    });
  });

  GS.api("GET", "/api/config").then(function (result) {
    if (result.status === 200 && result.data.test_checkout === true) testButton.hidden = false;
    if (result.status === 200 && result.data.price_display) {
      purchaseLabel = "Purchase certificate — " + result.data.price_display;
      if (!purchase.disabled) GS.text(purchase, purchaseLabel);
    }
  });
})();
