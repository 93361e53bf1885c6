// The composer's saved-reply picker. The server fills each saved reply in for this question
// and volunteer and puts the text in its option's data attributes; this script puts it in
// the draft (whole, when the draft is still the starting one; else at the cursor), says so,
// and lets htmx check the draft again. Text only, never HTML: textContent and value.
// Without JavaScript the picker's form asks the server for the page with ?saved=<id>.
// In the inbox the composer comes and goes with the right pane: each new one is set up once.
(function () {
  "use strict";

  function setUp() {
    var form = document.getElementById("saved-form");
    var select = document.getElementById("saved-select");
    var draft = document.getElementById("reply-text");
    if (!form || !select || !draft || form.hasAttribute("data-ready")) {
      return;
    }
    form.setAttribute("data-ready", "");
    var filter = document.getElementById("saved-filter");
    var filterStatus = document.getElementById("saved-filter-status");
    var preview = document.getElementById("saved-preview");
    var status = document.getElementById("saved-status");
    var used = document.getElementById("saved-used");
    var options = Array.prototype.slice.call(select.options);
    var startingDraft = draft.getAttribute("data-default-draft") || "";

    function chosen() {
      return select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    }

    function showPreview() {
      var option = chosen();
      if (preview) {
        preview.textContent = option ? option.getAttribute("data-text") || "" : "";
        preview.hidden = !option;
      }
    }

    function applyFilter() {
      var words = filter.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
      var kept = chosen();
      var shown = options.filter(function (option) {
        var haystack = (option.textContent + " " + (option.getAttribute("data-text") || ""))
          .toLocaleLowerCase();
        return words.every(function (word) {
          return haystack.indexOf(word) !== -1;
        });
      });
      select.replaceChildren.apply(select, shown);
      if (shown.length && shown.indexOf(kept) === -1) {
        select.selectedIndex = 0;
      }
      if (filterStatus) {
        filterStatus.textContent = shown.length ? "" : filterStatus.getAttribute("data-none") || "";
      }
      showPreview();
    }

    function insert(option) {
      var text = option.getAttribute("data-text") || "";
      var current = draft.value;
      if (current.trim() === "" || current === startingDraft) {
        draft.value = text;
        draft.setSelectionRange(text.length, text.length);
      } else {
        var start = draft.selectionStart;
        var before = current.slice(0, start);
        if (before !== "" && !/\s$/.test(before)) {
          text = " " + text;
        }
        draft.setRangeText(text, start, draft.selectionEnd, "end");
      }
      if (used) {
        used.value = option.value;
      }
      if (status) {
        status.textContent = option.getAttribute("data-note") || "";
      }
      draft.focus();
      // The textarea's hx-trigger ("keyup changed") sees a new value: the count and the
      // findings follow, as when the volunteer types.
      draft.dispatchEvent(new Event("keyup", { bubbles: true }));
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var option = chosen();
      if (option) {
        insert(option);
      } else {
        select.focus();
      }
    });
    select.addEventListener("change", showPreview);
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        var option = chosen();
        if (option) {
          insert(option);
        }
      }
    });
    select.addEventListener("dblclick", function () {
      var option = chosen();
      if (option) {
        insert(option);
      }
    });
    if (filter) {
      var wrapper = filter.closest("[data-js-only]");
      if (wrapper) {
        wrapper.hidden = false;
      }
      filter.addEventListener("input", applyFilter);
      filter.addEventListener("keydown", function (event) {
        if (event.key === "ArrowDown") {
          event.preventDefault();
          select.focus();
        }
      });
    }
    if (select.selectedIndex < 0 && select.options.length) {
      select.selectedIndex = 0;
    }
    showPreview();
  }

  setUp();
  document.addEventListener("htmx:afterSettle", setUp);
})();
