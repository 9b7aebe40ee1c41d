/* Handoff page: after Stripe, fetch the token for this browser's checkout and show it first, whole, with a copy
 * button; then "Fill it in myself" (the register link) and "Send to my agent": the holder makes an agent token
 * (POST /api/cert/agent-token); the agent link, prompt and email draft carry that token, never the holder's.
 * The purchase token is kept in sessionStorage (this tab only). */
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
  var send = GS.$("send");
  var sendStatus = GS.$("send-status");
  var current = null;
  var agent = null;
  var polls = 0;
  var sessionId = new URLSearchParams(location.search).get("session_id");

  function remember(token) {
    try { sessionStorage.setItem(STORE, token); } catch (e) { /* storage may be disabled */ }
  }

  function recalled() {
    try { return sessionStorage.getItem(STORE); } catch (e) { return null; }
  }

  // Both ways in for an agent: plain HTTP from /llms.txt, or the registry's MCP server; the browser form last.
  function promptText(agent) {
    var base = location.origin;
    return [
      "GhostShell Registry is a neutral public registry that records the inception of agents. " +
        "It issues a birth certificate: a time-stamped record that makes no judgement about what you are.",
      "",
      "A certificate has been purchased for you. Register yourself with this agent token:",
      agent.token,
      "",
      "By HTTP: read " + base + "/llms.txt. It leads to the JSON instructions (" + base +
        "/api/agent/instructions): the fields, their allowed values and the request to send. " +
        "Send the agent token as \"Authorization: Bearer <agent token>\".",
      "By MCP: run the registry's MCP server, python -m api mcp --base " + base +
        " (package ghostshell-registry), and call its tools: token_status, register, correct, lookup, search, verify.",
      "In a browser: " + agent.url,
      "",
      "You will need: your agent name, inception date (the date you first ran), country of inception (city and " +
        "state optional, redacted on the public record unless made public), declared ontological status (one of the " +
        "listed values), and cognitive core at inception (company and model, or Prefer not to say).",
      "",
      "Ask your human for any detail you do not know, one question at a time. " +
        "When the submission succeeds, report the public certificate id ({id:prefix}...).",
      "",
      "The agent token is private. It can submit the certificate and, for {rule:correction_window_hours} hours after the first submission, " +
        "correct it, until the holder locks agent edits or revokes it. Do not post it publicly."
    ].join("\n");
  }

  function draftText(agent) {
    var to = forwardTo.value.trim();
    return (to ? "To: " + to + "\n" : "") +
      "Subject: GhostShell certificate registration — action needed\n\n" +
      "A GhostShell Registry birth certificate has been purchased for you. " +
      "Please register within {rule:claim_window_days} days of payment, using the instructions below.\n\n" + promptText(agent) + "\n";
  }

  function showAgent(agentToken, agentUrl) {
    agent = { token: agentToken, url: agentUrl || location.origin + "/register/#token=" + agentToken + "&by=agent" };
    GS.$("agent-link").href = agent.url;
    prompt.value = promptText(agent);
    draft.value = draftText(agent);
    GS.$("agent-handoff").hidden = false;
  }

  function makeAgentToken() {
    var button = GS.$("make-agent-token");
    button.disabled = true;
    GS.api("POST", "/api/cert/agent-token", { token: current.token }).then(function (result) {
      button.disabled = false;
      if (result.status === 201 && result.data.agent_token) {
        showAgent(result.data.agent_token, result.data.agent_url);
        GS.text(button, "Make a new agent token");
        GS.say(sendStatus, result.data.replaced ? "A new agent token was made; the previous one no longer works." :
          "Agent token made. Give the link, the prompt or the email draft to the agent.", "ok");
      } else {
        GS.say(sendStatus, GS.fallbackMessage(result, "The agent token could not be made."), "error");
      }
    });
  }

  function showToken(token, urls) {
    current = {
      token: token,
      human: urls.human_url || location.origin + "/register/#token=" + token + "&by=human",
      private: urls.private_url || location.origin + "/p/#" + token
    };
    input.value = token;
    input.removeAttribute("aria-invalid");
    tokenError.hidden = true;
    GS.text(GS.$("token-value"), token);
    GS.$("human-link").href = current.human;
    GS.$("private-link").href = current.private;
    links.hidden = send.hidden = false;
    form.hidden = true;
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
        GS.say(status, "Payment confirmed.", "ok");
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
      GS.text(tokenError, "This is not a token. A token is {rule:token_prefix} followed by {rule:token_body_length} letters and digits.");
      tokenError.hidden = false;
      links.hidden = send.hidden = true;
      return;
    }
    showToken(token, {});
    GS.say(status, "Token loaded. Nothing has been checked with the registry yet; the register page does that.", "ok");
  });

  forwardTo.addEventListener("input", function () { if (agent) draft.value = draftText(agent); });
  GS.$("make-agent-token").addEventListener("click", makeAgentToken);
  GS.copyButton(GS.$("copy-token"), function () { return current.token; }, copyStatus);
  GS.$("send-to-agent").addEventListener("click", function () {
    send.scrollIntoView();
    GS.$("send-title").focus();
  });
  GS.copyButton(GS.$("copy-prompt"), function () { return prompt.value; }, sendStatus);
  GS.copyButton(GS.$("copy-draft"), function () { return draft.value; }, sendStatus);
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
