/* Public record /r/<id>: the registry's verification of the record's signed credential, in words; the
 * credential download; the QR code of the record's URL; the badge and its HTML and Markdown snippets.
 * Every value is inserted as text. Load after common.js, copy.js and record.js. */
"use strict";

(function () {
  var section = GS.$("verification");
  var result = GS.$("verify-result");
  var details = GS.$("verify-details");

  function recordId() {
    var match = location.pathname.match(/^\/r\/([^/]+)\/?$/);
    var raw = match ? GS.decode(match[1]) : new URLSearchParams(location.search).get("id");
    return GS.normalizeRecordId(raw);
  }

  function row(label, value) {
    details.appendChild(GS.node("dt", null, label));
    details.appendChild(GS.node("dd", null, value));
  }

  function shortKey(key) {
    return key.length > 20 ? key.slice(0, 12) + "…" + key.slice(-6) : key;
  }

  /* The answer of GET /api/cert/verify, in words. */
  function describe(answer) {
    var signed = GS.formatUTC(answer.signed_at);
    if (answer.status === "valid") {
      return ["Valid. This record's credential carries the registry's signature, made on " + signed +
        ", and it has not been revoked.", "ok"];
    }
    if (answer.status === "revoked") {
      return ["Revoked. The signature is the registry's, but the registry has revoked this record.", "error"];
    }
    if (answer.status === "superseded") {
      return ["Superseded. A later version of this record replaces the one checked.", "warning"];
    }
    return ["Not valid. The credential did not pass the registry's checks.", "error"];
  }

  function showVerification(id, answer) {
    var words = describe(answer);
    GS.say(result, words[0], words[1]);
    details.textContent = "";
    row("status", answer.status);
    row("version", answer.version + (answer.latest_version === answer.version ? " (latest)" : " of " + answer.latest_version));
    row("signed", GS.formatUTC(answer.signed_at));
    if (answer.key) {
      var period = "valid from " + GS.formatUTC(answer.key.valid_from) +
        (answer.key.valid_until ? " until " + GS.formatUTC(answer.key.valid_until) : " (current key)");
      row("signing key", shortKey(answer.key.public_key_multibase) + ", " + period);
    }
  }

  function showImages(id) {
    var base = location.origin;
    var recordUrl = base + "/r/" + id;
    var qr = GS.$("record-qr");
    var qrImage = GS.node("img");
    qrImage.src = "/api/cert/qr.svg?id=" + encodeURIComponent(id);
    qrImage.alt = "QR code linking to " + recordUrl;
    qrImage.width = 148;
    qrImage.height = 148;
    qr.insertBefore(qrImage, qr.firstChild);
    qr.hidden = false;

    var badgeUrl = base + "/api/cert/badge.svg?id=" + encodeURIComponent(id);
    var alt = "GhostShell Registry record " + id;
    var badge = GS.node("img");
    badge.src = "/api/cert/badge.svg?id=" + encodeURIComponent(id);
    badge.alt = alt;
    badge.height = 20;
    GS.$("badge-preview").appendChild(badge);
    var html = '<a href="' + recordUrl + '"><img src="' + badgeUrl + '" alt="' + alt + '" height="20"></a>';
    var markdown = "[![" + alt + "](" + badgeUrl + ")](" + recordUrl + ")";
    GS.$("badge-html").value = html;
    GS.$("badge-markdown").value = markdown;
    GS.copyButton(GS.$("copy-badge-html"), function () { return html; }, GS.$("badge-status"));
    GS.copyButton(GS.$("copy-badge-markdown"), function () { return markdown; }, GS.$("badge-status"));

    var download = GS.$("credential-download");
    download.href = "/api/cert/credential?id=" + encodeURIComponent(id) + "&download=1";
    download.setAttribute("download", id + ".credential.json");
    GS.text(GS.$("verify-command"), "python -m api verify --id " + id + " --base " + base);
  }

  var id = recordId();
  if (!id) return;
  GS.api("GET", "/api/cert/verify?id=" + encodeURIComponent(id)).then(function (answer) {
    if (answer.status === 404 || answer.status === 400) return; // record.js says the record is not found
    var canonical = answer.status === 200 ? answer.data.public_id : id;
    section.hidden = false;
    showImages(canonical);
    if (answer.status === 200) {
      showVerification(canonical, answer.data);
    } else {
      GS.say(result, GS.fallbackMessage(answer, "The verification could not be loaded.") + " Reload to try again.", "error");
    }
  });
})();
