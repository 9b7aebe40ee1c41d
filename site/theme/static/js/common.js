/* Shared helpers for every page: same-origin API calls, tokens, dates, messages. */
"use strict";

var GS = (function () {
  // s: [the last request body sent, its Idempotency-Key] (api below). The token form is the rules' (build.py fills
  // them in): the holder's or the agent's prefix, then the Crockford base32 body.
  var TK = "{rule:token_prefix}", AT = "{rule:agent_token_prefix}", head = TK.length - 1, s = [];
  var CROCKFORD = new RegExp("{rule:credential_pattern}");

  function $(id) { return document.getElementById(id); }

  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }

  function node(tag, className, value) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (value != null) el.textContent = String(value);
    return el;
  }

  /* Any case, spaces and hyphens anywhere, I/L/O for 1/1/0 -> the canonical purchase or agent token, or null.
   * normalizeToken accepts the holder's only. */
  function normalizeCredential(raw) {
    var s = String(raw || "").toUpperCase().replace(/[\s-]+/g, "")
      .replace(/[IL]/g, "1").replace(/O/g, "0");
    return CROCKFORD.test(s) ? s.slice(0, head) + "-" + s.slice(head) : null;
  }

  function normalizeToken(raw) {
    var token = normalizeCredential(raw);
    return token && token.indexOf(TK) === 0 ? token : null;
  }

  /* decodeURIComponent that never throws: a damaged link is read as typed, and the API then says what is wrong. */
  function decode(text) {
    try {
      return decodeURIComponent(text);
    } catch (error) {
      return text;
    }
  }

  /* Reads "#<token>" or "#token=...&by=agent". Old links carry the token in the query (?token=, ?t=) or the path
   * (/p/<token>, /p/<token>/download, /register/<token>, /cert/<id>/download?t=; netlify.toml answers those
   * with this page): it moves into the fragment at once and the address becomes today's page. */
  function readTokenParams() {
    var hash = location.hash.replace(/^#/, "");
    var params = new URLSearchParams(hash.indexOf("=") >= 0 ? hash : "");
    var query = new URLSearchParams(location.search);
    var raw = params.get("token") || (hash.indexOf("=") < 0 ? decode(hash) : "");
    var by = params.get("by") || query.get("by") || "";
    var old = query.get("token") || query.get("t") ||
      location.pathname.split("/").filter(normalizeCredential)[0];
    if (!raw && old) {
      raw = decode(old);
      ["token", "t", "by"].forEach(function (name) { query.delete(name); });
      var rest = query.toString();
      var path = location.pathname.replace(/^\/(p\/.*|cert\/[^/]*\/download)$/, "/p/").replace(/^\/register\/.+/, "/register/");
      var frag = "#token=" + encodeURIComponent(raw) + (by ? "&by=" + encodeURIComponent(by) : "");
      history.replaceState(null, "", path + (rest ? "?" + rest : "") + frag);
    }
    return { raw: raw, token: normalizeToken(raw), credential: normalizeCredential(raw), by: by };
  }

  /* fetch wrapper: resolves to {status, data, headers}; status 0 means the network failed. */
  function api(method, path, options) {
    options = options || {};
    var headers = { "Accept": "application/json" };
    var init = { method: method, credentials: "same-origin", headers: headers, cache: "no-store" };
    if (options.token) headers["Authorization"] = "Bearer " + options.token;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
      // Idempotency-Key: new for each request, except the same body sent again (a lost answer), so it is done once.
      headers["Idempotency-Key"] = (s = init.body == s[0] ? s : [init.body, crypto.randomUUID()])[1];
    }
    return fetch(path, init).then(function (resp) {
      return resp.text().then(function (body) {
        var data = {};
        try { data = body ? JSON.parse(body) : {}; } catch (e) { data = {}; }
        return { status: resp.status, data: data || {}, headers: resp.headers };
      });
    }, function () {
      return { status: 0, data: {}, headers: new Headers() };
    });
  }

  /* A message in a notice element; kind is "", "error" or "ok". */
  function say(el, message, kind) {
    el.className = "notice" + (kind ? " is-" + kind : "") + (el.classList.contains("no-print") ? " no-print" : "");
    text(el, message);
    el.hidden = !message;
  }

  function fallbackMessage(result, otherwise) {
    if (result.status === 0) return "The registry could not be reached. Check the connection and try again.";
    if (result.status === 429) {
      var wait = result.headers.get("Retry-After");
      return "Too many requests. Try again" + (wait ? " in " + wait + " seconds." : " shortly.");
    }
    return (result.data && result.data.message) || otherwise;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatUTC(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return iso ? String(iso) : "";
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
  }

  function formatDate(iso) { return iso ? String(iso).slice(0, 10) : ""; }

  /* An id typed with spaces ("gs bc h 26 1") gets the canonical hyphens: spaces, dots and underscores become the id's own hyphens, so the address
   * is the canonical one at once; ids typed without separators are made canonical by the record page. */
  function normalizeRecordId(raw) {
    return String(raw || "").trim().toUpperCase().replace(/[\s._-]+/g, "-").replace(/^-|-$/g, "");
  }

  return {
    $: $, text: text, node: node, normalizeToken: normalizeToken, AT: AT,
    normalizeCredential: normalizeCredential, readTokenParams: readTokenParams,
    api: api, say: say, fallbackMessage: fallbackMessage, formatUTC: formatUTC, formatDate: formatDate,
    normalizeRecordId: normalizeRecordId, decode: decode
  };
})();
