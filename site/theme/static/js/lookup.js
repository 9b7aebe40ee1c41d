/* Record-id lookup forms (class js-lookup) go straight to /r/<ID>. On the home page, old links of the
 * form /?cert=<id> are sent to the public record page too. */
"use strict";

(function () {
  var query = new URLSearchParams(location.search);
  var legacy = GS.normalizeRecordId(query.get("cert") || "");
  if (location.pathname === "/" && legacy) location.replace("/r/" + encodeURIComponent(legacy));

  Array.prototype.forEach.call(document.querySelectorAll("form.js-lookup"), function (form) {
    form.addEventListener("submit", function (event) {
      var id = GS.normalizeRecordId(form.elements.id.value);
      event.preventDefault();
      if (id) location.assign("/r/" + encodeURIComponent(id));
    });
  });
})();
