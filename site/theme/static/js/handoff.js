/* Handoff page: after Stripe, fetch the token for this browser's checkout, then offer the links,
 * the agent prompt and an email draft. The token is kept in sessionStorage (this tab only). */
"use strict";

(function () {
  var STORE = "gs_handoff_token";
  var MAX_POLLS = 5;
  var status = GS.$("handoff-status");
  var form = GS.$("token-form");
  var input = GS.$("token");
  var tokenError = GS.$("token-error");
  var links = GS.$("handoff-links");
  var retryRow = GS.$("retry-row");
  var prompt = GS.$("agent-prompt");
  var draft = GS.$("email-draft");
  var forwardTo = GS.$("forward-to");
  var copyStatus = GS.$("copy-status");
  var current = null;
  var polls = 0;
  var sessionId = new URLSearchParams(location.search).get("session_id");

  function remember(token) {
    try { sessionStorage.setItem(STORE, token); } catch (e) { /* storage may be disabled */ }
  }

  function recalled() {
    try { return sessionStorage.getItem(STORE); } catch (e) { return null; }
  }

  function promptText(urls) {
    return [
      "GhostShell Registry is a neutral public registry that records the inception of agents. " +
        "It issues a birth certificate: a time-stamped record that makes no judgement about what you are.",
      "",
      "A certificate has been purchased for you. Register yourself with this private link:",
      urls.agent,
      "",
      "Fill in:",
      "- agent name, as it should appear on the public record",
      "- inception date (the date you first ran)",
      "- city, state and country of inception (city and state are redacted on the public record unless set to Public)",
      "- declared ontological status (one of the listed options)",
      "- cognitive core at inception: company and model, typed in if not listed, or Prefer not to say",
      "- custodian (optional, never shown publicly)",
      "- submitted by: Agent",
      "",
      "Ask your human for any detail you do not know, one question at a time. " +
        "When the submission succeeds, confirm it and report the public certificate id (GS-BC-...).",
      "",
      "This link is private. Whoever holds it can submit the certificate and, for 24 hours after the " +
        "first submission, correct it. Do not post it publicly.",
      "",
      "Token: " + urls.token
    ].join("\n");
  }

  function draftText(urls) {
    var to = forwardTo.value.trim();
    return (to ? "To: " + to + "\n" : "") +
      "Subject: GhostShell certificate registration — action needed\n\n" +
      "A GhostShell Registry birth certificate has been purchased for you. " +
      "Please register within 7 days of payment, using the instructions below.\n\n" + promptText(urls) + "\n";
  }

  function showToken(token, urls) {
    current = {
      token: token,
      human: urls.human_url || location.origin + "/register/#token=" + token + "&by=human",
      agent: urls.agent_url || location.origin + "/register/#token=" + token + "&by=agent",
      private: urls.private_url || location.origin + "/p/#" + token
    };
    input.value = token;
    input.removeAttribute("aria-invalid");
    tokenError.hidden = true;
    GS.$("human-link").href = current.human;
    GS.$("agent-link").href = current.agent;
    GS.$("private-link").href = current.private;
    prompt.value = promptText(current);
    draft.value = draftText(current);
    links.hidden = false;
    remember(token);
  }

  function askForToken(message, kind) {
    GS.say(status, message, kind);
    form.hidden = false;
  }

  function loadSession() {
    GS.say(status, "Confirming payment.", "");
    retryRow.hidden = true;
    var path = "/api/cert/handoff-token?session_id=" + encodeURIComponent(sessionId);
    GS.api("GET", path).then(function (result) {
      var data = result.data;
      if (result.status === 200 && data.token) {
        showToken(data.token, data);
        GS.say(status, "Payment confirmed. The token is ready.", "ok");
        history.replaceState(null, "", "/handoff/");
      } else if (result.status === 202) {
        askForToken("Payment confirmed. The private link was emailed to the recovery address. " +
          "Open it from that email, or paste the token here.", "ok");
        history.replaceState(null, "", "/handoff/");
      } else if (result.status === 409) {
        polls += 1;
        if (polls < MAX_POLLS) {
          GS.say(status, "Payment not yet confirmed. Checking again.", "");
          setTimeout(loadSession, 3000);
        } else {
          GS.say(status, "Payment not yet confirmed. Check again in a minute, or use the token from the email.", "error");
          retryRow.hidden = false;
          form.hidden = false;
        }
      } else if (result.status === 410) {
        GS.say(status, GS.fallbackMessage(result, "This checkout was not completed. No payment was taken.") +
          " Start again from the issue page.", "error");
      } else if (result.status === 404 || result.status === 400) {
        askForToken("This checkout session is not recognised. Paste the token from the email.", "error");
      } else {
        askForToken(GS.fallbackMessage(result, "The token could not be loaded.") + " Paste it from the email.", "error");
      }
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = GS.normalizeToken(input.value);
    if (!token) {
      input.setAttribute("aria-invalid", "true");
      GS.text(tokenError, "This is not a token. A token is GSTK- followed by 24 letters and digits.");
      tokenError.hidden = false;
      links.hidden = true;
      return;
    }
    showToken(token, {});
    GS.say(status, "Token loaded. Nothing has been checked with the registry yet; the register page does that.", "ok");
  });

  forwardTo.addEventListener("input", function () { if (current) draft.value = draftText(current); });
  GS.copyButton(GS.$("copy-prompt"), function () { return prompt.value; }, copyStatus);
  GS.copyButton(GS.$("copy-draft"), function () { return draft.value; }, copyStatus);
  GS.$("retry").addEventListener("click", function () { polls = 0; loadSession(); });
  window.addEventListener("hashchange", function () { location.reload(); });

  if (sessionId) {
    form.hidden = true;
    loadSession();
    return;
  }
  var given = GS.readTokenParams();
  var token = given.token || GS.normalizeToken(recalled());
  if (given.raw) history.replaceState(null, "", "/handoff/");
  if (token) {
    showToken(token, {});
    GS.say(status, given.token ? "Token loaded." : "Token loaded from this browser tab.", "ok");
  } else {
    askForToken(given.raw ? "That link does not carry a valid token. Paste it from the email." : "Paste your token to continue.",
      given.raw ? "error" : "");
  }
})();
