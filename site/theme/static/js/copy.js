/* Copy to the clipboard, with a fallback for browsers without the Clipboard API. Adds GS.copyText
 * and GS.copyButton; load after common.js. */
"use strict";

(function () {
  function copyText(value) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(value);
    return new Promise(function (resolve, reject) {
      var area = GS.node("textarea");
      area.value = value;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  /* Copy button: copies getValue() and reports in the status element. */
  function copyButton(button, getValue, statusEl) {
    button.addEventListener("click", function () {
      copyText(getValue()).then(function () {
        GS.say(statusEl, "Copied.", "ok");
      }, function () {
        GS.say(statusEl, "Copying failed. Select the text and copy it by hand.", "error");
      });
    });
  }


  GS.copyText = copyText;
  GS.copyButton = copyButton;
})();
