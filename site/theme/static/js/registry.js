/* Registry search: record id or agent name, paged with the API's cursor. */
"use strict";

(function () {
  var LIMIT = 20;
  var form = GS.$("search-form");
  var input = GS.$("q");
  var status = GS.$("search-status");
  var list = GS.$("results");
  var pager = GS.$("pager");
  var prev = GS.$("prev-page");
  var next = GS.$("next-page");
  var query = "";
  var cursors = [];   // cursor of each page shown so far; the last one is the current page
  var nextCursor = null;

  function item(rec) {
    var li = GS.node("li");
    var link = GS.node("a", null, rec.public_id);
    link.href = "/r/" + encodeURIComponent(rec.public_id);
    li.appendChild(link);
    if (rec.status === "revoked") {
      li.appendChild(GS.node("span", "meta", "Revoked " + GS.formatDate(rec.revoked_at)));
      return li;
    }
    li.appendChild(document.createTextNode(" · "));
    li.appendChild(GS.node("strong", null, rec.agent_name));
    li.appendChild(GS.node("span", "meta", [GS.formatDate(rec.registration_date) && "Registered " + GS.formatDate(rec.registration_date),
      rec.declared_ontological_status, rec.cognitive_core].filter(Boolean).join(" · ")));
    return li;
  }

  function search(cursor) {
    var path = "/api/registry/search?q=" + encodeURIComponent(query) + "&limit=" + LIMIT +
      (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    GS.text(status, "Searching.");
    next.disabled = prev.disabled = true;
    GS.api("GET", path).then(function (result) {
      if (result.status !== 200) {
        GS.text(status, GS.fallbackMessage(result, "The search failed.") );
        list.hidden = true;
        pager.hidden = true;
        return;
      }
      var results = result.data.results || [];
      nextCursor = result.data.next_cursor || null;
      list.textContent = "";
      results.forEach(function (rec) { list.appendChild(item(rec)); });
      list.hidden = results.length === 0;
      var page = cursors.length;
      // Before any search the page lists the directory; an empty directory is not a failed search.
      GS.text(status, results.length === 0 ? (query ? "No matching records." :
        "No records are listed in the directory yet. Any record can be found by its id.") :
        (query ? "Results for " + query : "Records in the directory") + (page > 1 ? ", page " + page : "") + ".");
      pager.hidden = !nextCursor && page <= 1;
      next.disabled = !nextCursor;
      prev.disabled = page <= 1;
    });
  }

  function start(q) {
    query = q;
    cursors = [null];
    search(null);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var q = input.value.trim();
    history.replaceState(null, "", q ? "/registry/?q=" + encodeURIComponent(q) : "/registry/");
    start(q);
  });
  next.addEventListener("click", function () { cursors.push(nextCursor); search(nextCursor); });
  prev.addEventListener("click", function () { cursors.pop(); search(cursors[cursors.length - 1]); });

  input.value = new URLSearchParams(location.search).get("q") || "";
  start(input.value.trim());
})();
