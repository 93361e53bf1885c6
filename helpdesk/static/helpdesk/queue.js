// The inbox. On the left the live queue: it listens on /ws/queue/ and reloads the list from
// the server (the database is the truth) when an event arrives, when a number is missing,
// and after every reconnect. On the right the picked question, swapped in by htmx (#pane);
// the address follows it (pushState), so reloading and Back work. On a phone one of the two
// shows at a time (#inbox[data-view]).
// Keys, never while typing in a field (except Ctrl+Enter and Escape): j / k move to the
// next / previous question and open it, Enter opens the one in focus, c claims it, r goes to
// the reply, / to the saved replies, Ctrl+Enter submits, Escape leaves a field (on a phone,
// goes back to the list), ? lists the keys. No innerHTML: text only.
// The tab's title follows the pane (its data-page-title, text the server escaped); notify.js,
// when on the page, owns the title and adds its count, so the title is asked of it by event.
// Every socket message is also told on document as "helpforce:queue-message", so notify.js
// hears the queue's events on this socket rather than opening a second one.
(function () {
  "use strict";

  var queue = document.getElementById("queue");
  var inbox = document.getElementById("inbox");
  if (!queue || !inbox) {
    return;
  }
  var statusLine = document.getElementById("queue-status");
  var narrow = window.matchMedia("(max-width: 899.98px)");
  var socket = null;
  var last = null; // the number of the last event applied
  var ahead = {}; // numbers received past a hole, waiting for it to close
  var holeTimer = null;
  var REORDER_WAIT_MS = 500; // bench/fanout.py's clients wait the same
  var windowMs = 0; // how long the server may hold an event (its hello says)
  var open = false;
  var refused = false;
  var backoff = 1000;
  var reloading = false; // a reload of the list is on its way
  var reloadTimer = null; // the window in which events gather before the next reload
  var reloadAgain = false; // events came while a reload was on its way: one more after it
  // A storm of events (many claims a second) asks for one reload per event: they gather for
  // this long, with at most one reload on its way and one more after it.
  var RELOAD_WINDOW_MS = 300;
  // Marks this script's reloads, which the polling's veto below lets through even when htmx
  // held one back behind a request of the poller's (then it runs later, on its own).
  var RELOAD_HEADER = "X-Queue-Reload";
  var focusedId = null;
  var selectedId = queue.getAttribute("data-selected") || null;
  var selectedIndex = -1; // where the picked question stood in the list when picked
  var pendingClaim = null; // claim this question as soon as its pane is in
  var intent = null; // where the focus goes after the pane's next swap: "composer" or "list"
  var pending = 0; // requests of the pane's forms on their way
  var PING_MS = parseInt(queue.getAttribute("data-ping-ms"), 10) || 25000;
  var ME = queue.getAttribute("data-user-id");
  var quietRefresh = false; // the pane's next swap is a colleague's change: leave the focus be
  // What colleagues write on a question: the pane showing it looks again.
  var NOTE_KINDS = { "question.noted": true, "question.tagged": true, "question.untagged": true };

  function say(text) {
    if (statusLine) {
      statusLine.textContent = text;
    }
  }

  // The page's own words, in the person's language (data-* attributes the server wrote).
  function words(key, fallback) {
    return (statusLine && statusLine.getAttribute("data-" + key)) || fallback;
  }

  function pane() {
    return document.getElementById("pane"); // a new element after a history restore
  }

  function paneQuestionId() {
    var article = pane() && pane().querySelector("[data-pane-question]");
    return article ? article.getAttribute("data-pane-question") : null;
  }

  function rows() {
    return Array.prototype.slice.call(queue.querySelectorAll("[data-question-id]"));
  }

  function rowOf(id) {
    return id ? queue.querySelector('[data-question-id="' + id + '"]') : null;
  }

  function focusedRow() {
    return document.activeElement && queue.contains(document.activeElement)
      ? document.activeElement.closest("[data-question-id]")
      : null;
  }

  function markSelected() {
    rows().forEach(function (row, index) {
      if (row.getAttribute("data-question-id") === selectedId) {
        row.setAttribute("aria-current", "true");
        selectedIndex = index;
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  function setView(view) {
    inbox.setAttribute("data-view", view);
  }

  function focusRow(row) {
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  // Open a question in the right pane (htmx follows the row's link and pushes its address).
  function openRow(row) {
    selectedId = row.getAttribute("data-question-id");
    markSelected();
    var link = row.querySelector("a.open");
    if (!link) {
      return;
    }
    if (window.htmx) {
      // Rows swapped in a moment ago may not be set up by htmx yet: a click on one would
      // load the whole page. Setting up twice does nothing.
      window.htmx.process(link);
      link.click();
    } else {
      window.location.assign(link.href);
    }
  }

  function loadPane(id) {
    var row = rowOf(id);
    if (row) {
      openRow(row);
    } else if (window.htmx) {
      window.htmx.ajax("GET", "/queue/" + id + "/" + window.location.search, {
        target: "#pane",
        swap: "innerHTML",
      });
    }
  }

  // Whether the pane may be drawn again under the person: nothing of theirs on its way,
  // the focus not in it, and nothing typed in its fields (a draft or a half-written note).
  function paneIsIdle() {
    var box = pane();
    if (!box || pending > 0 || box.contains(document.activeElement)) {
      return false;
    }
    var fields = box.querySelectorAll("textarea, input[type=text]");
    for (var i = 0; i < fields.length; i += 1) {
      if (fields[i].value !== fields[i].defaultValue) {
        return false;
      }
    }
    return true;
  }

  // A colleague's note or tag on the question in the pane: look again if the person is
  // not writing there (their own change is in the pane already).
  function followNotes(message) {
    var payload = message.payload || {};
    var id = paneQuestionId();
    if (
      !NOTE_KINDS[message.kind] ||
      id === null ||
      String(payload.question_id) !== id ||
      (ME !== null && String(payload.user_id) === ME) ||
      !window.htmx ||
      !paneIsIdle()
    ) {
      return;
    }
    quietRefresh = true;
    window.htmx.ajax("GET", "/queue/" + id + "/" + window.location.search, {
      target: "#pane",
      swap: "innerHTML",
    });
  }

  function composer() {
    return pane() && pane().querySelector("#reply-text");
  }

  // The reply box, with the caret where the reply's own words go: after the customer's
  // handle, before the signature, when the draft is still the starting one.
  function focusComposer() {
    var draft = composer();
    if (!draft) {
      return false;
    }
    draft.focus();
    var value = draft.value;
    var at = value.length;
    if (value === draft.getAttribute("data-default-draft")) {
      var gap = value.indexOf("  ");
      at = gap >= 0 ? gap + 1 : value.length;
    }
    draft.setSelectionRange(at, at);
    return true;
  }

  function focusHeading() {
    var heading = pane() && pane().querySelector("#pane-h");
    if (heading) {
      heading.focus();
    }
  }

  // After a reply went: the question that stood after it in the list, one key from claiming.
  function focusNext(doneId) {
    var all = rows().filter(function (row) {
      return row.getAttribute("data-question-id") !== doneId;
    });
    setView("list");
    if (!all.length) {
      return;
    }
    focusRow(all[Math.min(Math.max(selectedIndex, 0), all.length - 1)]);
  }

  function submitInPlace(form) {
    if (window.htmx) {
      window.htmx.process(form); // as for the rows' links: through htmx, never a page load
    }
    form.requestSubmit();
  }

  // Claim by keyboard: through the pane's own form (the same server checks as the page's).
  function claimRow(row) {
    var id = row.getAttribute("data-question-id");
    var form = pane() && pane().querySelector("form[data-claim-form]");
    if (form && paneQuestionId() === id) {
      intent = "composer";
      submitInPlace(form);
    } else if (paneQuestionId() !== id) {
      pendingClaim = id; // claimed as soon as its pane is in
      if (selectedId !== id) {
        openRow(row);
      }
    } else {
      focusComposer(); // already theirs
    }
  }

  function hasHole() {
    return Object.keys(ahead).length > 0;
  }

  // Numbers up to ``last`` are covered; later ones wait for the hole below them.
  function dropAhead() {
    Object.keys(ahead).forEach(function (seq) {
      if (Number(seq) <= last) {
        delete ahead[seq];
      }
    });
  }

  // Apply the numbers that follow ``last``; true when a hole is left below later ones.
  // Two processes number and publish events in two steps, so theirs may cross on the way:
  // a hole waits a moment for its event before the page asks for the whole list again, and
  // as long again as the server may hold an event for its next frame (the hello's window).
  function closeUp() {
    while (ahead[last + 1]) {
      delete ahead[last + 1];
      last += 1;
    }
    if (hasHole() && holeTimer === null) {
      holeTimer = window.setTimeout(checkHole, REORDER_WAIT_MS + windowMs);
    }
    return hasHole();
  }

  function checkHole() {
    holeTimer = null;
    if (hasHole()) {
      send({ action: "resync", since: last });
    }
  }

  // Ask for the list again. The reload starts after a short window, so the events of a
  // storm share it; while one is on its way, later asks make exactly one more after it
  // (asked after the last event, so it shows that event's effect).
  function reload() {
    if (!window.htmx) {
      window.location.reload();
      return;
    }
    if (reloading) {
      reloadAgain = true;
    } else if (reloadTimer === null) {
      reloadTimer = window.setTimeout(startReload, RELOAD_WINDOW_MS);
    }
  }

  function startReload() {
    reloadTimer = null;
    reloading = true;
    // The list itself is the source (not the body, which the pane's requests use): htmx
    // keeps one request per source and would put a reload behind, or drop it for, a pane's.
    // Keep the page's filters and position when reloading the list.
    var headers = {};
    headers[RELOAD_HEADER] = "1";
    var done = window.htmx.ajax("GET", "/queue/" + window.location.search, {
      source: queue,
      target: queue,
      swap: "innerHTML",
      headers: headers,
    });
    if (done && typeof done.then === "function") {
      done.then(reloadDone, reloadDone);
    } else {
      reloadDone();
    }
  }

  function reloadDone() {
    reloading = false;
    if (reloadAgain) {
      reloadAgain = false;
      reload();
    }
  }

  // The title of the page as the pane says it; notify.js prefixes its count when there.
  function followTitle() {
    var marker = pane() && pane().querySelector("[data-page-title]");
    var title = marker && marker.getAttribute("data-page-title");
    if (!title) {
      return;
    }
    var asked = new CustomEvent("helpforce:title", { detail: { title: title }, cancelable: true });
    if (document.dispatchEvent(asked)) {
      document.title = title; // nobody composes it here: set it as it is
    }
  }

  function send(message) {
    if (socket && open) {
      socket.send(JSON.stringify(message));
      return true;
    }
    say(words("offline", "Not connected; trying again…"));
    return false;
  }

  // The rows' Claim buttons claim over the socket (the fastest way to win a race).
  function claimOverSocket(row) {
    var id = parseInt(row.getAttribute("data-question-id"), 10);
    if (id > 0 && send({ action: "claim", question_id: id })) {
      say(words("pending", "Claiming…"));
    }
  }

  function showButtons() {
    rows().forEach(function (row) {
      var button = row.querySelector("button[data-claim]");
      if (button) {
        button.hidden = false;
      }
    });
  }

  function onMessage(message) {
    switch (message.type) {
      case "hello":
        last = message.seq;
        windowMs = typeof message.window_ms === "number" ? message.window_ms : 0;
        dropAhead();
        backoff = 1000;
        say(words("live", "Live."));
        reload(); // whatever happened while we were away
        break;
      case "event":
        followNotes(message);
        if (typeof message.seq !== "number") {
          reload(); // not numbered: cannot tell a gap, so look again
        } else if (last === null) {
          send({ action: "resync", since: 0 });
        } else if (message.seq > last) {
          ahead[message.seq] = true;
          if (!closeUp()) {
            reload();
          }
        } // an older number: already covered by the last reload
        break;
      case "resync":
        last = message.seq;
        dropAhead();
        closeUp();
        reload();
        break;
      case "pong":
        // The server's number is ahead: an event was lost with none after it to show the gap.
        if (typeof message.seq === "number" && last !== null && message.seq > last) {
          send({ action: "resync", since: last });
        }
        break;
      case "claim_result":
        say(message.won ? words("won", "You have it.") : message.message || words("lost", "Could not claim it."));
        if (message.won && typeof message.question_id === "number") {
          intent = "composer";
          loadPane(String(message.question_id));
        }
        reload();
        break;
      case "refused":
        refused = true;
        say(
          (message.reasons || [])
            .map(function (reason) {
              return reason.message;
            })
            .join(" ") || words("refused", "Refused.")
        );
        break;
      case "error":
        say(message.error);
        break;
      default:
        break;
    }
  }

  function eachMessage(message) {
    return message && message.type === "events" && Array.isArray(message.events) ? message.events : [message];
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/queue/");
    socket.addEventListener("open", function () {
      open = true;
    });
    socket.addEventListener("message", function (frame) {
      var message;
      try {
        message = JSON.parse(frame.data);
      } catch (e) {
        return;
      }
      // Events close together come as one frame: each is handled as if it came alone.
      eachMessage(message).forEach(function (one) {
        onMessage(one);
        document.dispatchEvent(new CustomEvent("helpforce:queue-message", { detail: one }));
      });
    });
    socket.addEventListener("close", function (closing) {
      open = false;
      socket = null;
      if (refused || closing.code === 4401 || closing.code === 4403) {
        return; // the server said no: reconnecting would not change that
      }
      say(words("reconnecting", "Connection lost; reconnecting…"));
      window.setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    });
  }

  // The pane after every swap: the view, the selection, and where the focus goes next.
  function afterPane() {
    followTitle();
    var id = paneQuestionId();
    var article = pane() && pane().querySelector("[data-pane-question]");
    if (id) {
      selectedId = id;
      markSelected();
    }
    if (quietRefresh) {
      quietRefresh = false;
      return;
    }
    if (pendingClaim !== null && id === pendingClaim) {
      pendingClaim = null;
      var form = pane().querySelector("form[data-claim-form]");
      if (form) {
        intent = "composer";
        submitInPlace(form);
        setView("pane");
        return;
      }
    }
    if (article && article.hasAttribute("data-just-sent")) {
      intent = null;
      var note = pane().querySelector(".messages");
      if (note) {
        say(note.textContent.trim());
      }
      focusNext(id);
      return;
    }
    setView(id ? "pane" : "list");
    var wanted = intent;
    intent = null;
    // A refused note or tag: back to the field that was refused, not to the reply.
    var refusedField = pane().querySelector("#note-text[aria-invalid], #tag-name[aria-invalid]");
    if (wanted !== "composer" && refusedField) {
      refusedField.focus();
      return;
    }
    if ((wanted === "composer" || pane().querySelector(".errors")) && focusComposer()) {
      return;
    }
    if (wanted === "composer" && pending > 0) {
      intent = wanted; // the claim's answer is still on its way: it is for that one
      return;
    }
    if (wanted === "list" || !id) {
      var row = rowOf(id) || rowOf(selectedId) || rows()[Math.max(selectedIndex, 0)];
      if (row) {
        focusRow(row);
      }
      return;
    }
    if (narrow.matches) {
      focusHeading(); // the list (and its focused row) is hidden now
    }
  }

  // While the socket is live the list follows events; the polling is only a fallback.
  function isReload(evt) {
    var config = evt.detail.requestConfig;
    return Boolean(config && config.headers && config.headers[RELOAD_HEADER]);
  }
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    if (evt.detail && evt.detail.target === queue && open && !isReload(evt)) {
      evt.preventDefault();
    }
  });
  function fromPaneForm(evt) {
    var elt = evt.detail && evt.detail.elt;
    return elt && elt.tagName === "FORM" && elt.closest("#pane") !== null;
  }
  document.body.addEventListener("htmx:beforeSend", function (evt) {
    if (fromPaneForm(evt)) {
      pending += 1;
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail && evt.detail.elt && evt.detail.elt.tagName === "FORM" && pending > 0) {
      pending -= 1;
    }
  });
  // A draft the server refused comes back with 400 and its reasons: show them in place.
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "pane" && evt.detail.xhr.status === 400) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  // After the settle, not the swap: htmx has set up the new pane's forms by then, so
  // submitting one goes through htmx rather than loading a page.
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (target && target.id === "pane") {
      afterPane();
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (target !== queue) {
      return;
    }
    showButtons();
    markSelected();
    var active = document.activeElement;
    if (focusedId !== null && (!active || active === document.body)) {
      var again = rowOf(focusedId);
      if (again) {
        again.focus();
      }
    }
  });
  document.body.addEventListener("htmx:historyRestore", function () {
    followTitle();
    selectedId = paneQuestionId();
    markSelected();
    setView(selectedId ? "pane" : "list");
  });
  // Leaving a question from its pane's forms: where the focus goes once the pane is back.
  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (!pane() || !pane().contains(form)) {
        return;
      }
      if (form.hasAttribute("data-claim-form")) {
        intent = "composer";
      } else if (form.hasAttribute("data-release-form") || form.hasAttribute("data-escalate-form")) {
        intent = "list";
      }
    },
    true
  );

  queue.addEventListener("focusin", function (evt) {
    var row = evt.target.closest("[data-question-id]");
    focusedId = row ? row.getAttribute("data-question-id") : null;
  });
  queue.addEventListener("click", function (evt) {
    var row = evt.target.closest("[data-question-id]");
    if (!row) {
      return;
    }
    var button = evt.target.closest("button[data-claim]");
    if (button) {
      claimOverSocket(row);
    } else if (evt.target.closest("a.open")) {
      selectedId = row.getAttribute("data-question-id"); // htmx follows the link
      markSelected();
    } else if (!evt.target.closest("a, button")) {
      openRow(row);
    }
  });

  function typing(target) {
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function showKeys() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) {
      dialog.showModal();
      var close = document.getElementById("shortcuts-close");
      if (close) {
        close.focus();
      }
    }
  }

  document.addEventListener("keydown", function (evt) {
    var target = evt.target;
    if (evt.key === "Enter" && (evt.ctrlKey || evt.metaKey)) {
      var form = target.closest && target.closest("form#composer");
      if (form) {
        evt.preventDefault();
        submitInPlace(form);
      }
      return;
    }
    if (evt.key === "Escape") {
      if (typing(target)) {
        target.blur();
        var row = rowOf(selectedId);
        if (row && !narrow.matches) {
          focusRow(row);
        } else {
          focusHeading();
        }
        evt.preventDefault();
      } else if (narrow.matches && inbox.getAttribute("data-view") === "pane") {
        var back = pane().querySelector("a[data-back]");
        if (back) {
          back.click();
        }
      }
      return;
    }
    if (evt.ctrlKey || evt.metaKey || evt.altKey || typing(target)) {
      return;
    }
    if (document.querySelector("dialog[open]")) {
      return; // the dialog has the keyboard
    }
    var all = rows();
    var current = focusedRow() || rowOf(selectedId);
    var index = all.indexOf(current);
    switch (evt.key) {
      case "j":
      case "k":
        if (!all.length) {
          return;
        }
        var next = all[evt.key === "j" ? Math.min(index + 1, all.length - 1) : Math.max(index - 1, 0)];
        if (!narrow.matches || inbox.getAttribute("data-view") === "list") {
          focusRow(next);
        }
        openRow(next);
        break;
      case "Enter":
        if (current && target === current) {
          openRow(current);
        } else {
          return;
        }
        break;
      case "c":
        if (!current) {
          return;
        }
        claimRow(current);
        break;
      case "r":
        if (!focusComposer()) {
          return;
        }
        break;
      case "/":
        var filter = pane() && pane().querySelector("#saved-filter");
        var picker = pane() && pane().querySelector("#saved-select");
        var field = filter && !filter.closest("[hidden]") ? filter : picker;
        if (!field) {
          return;
        }
        field.focus();
        break;
      case "?":
        showKeys();
        break;
      default:
        return;
    }
    evt.preventDefault();
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-show-keys]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", showKeys);
  });
  markSelected();
  showButtons();
  if (window.WebSocket) {
    // notify.js (which runs first) looks for this once the page is loaded: it listens to
    // this socket's messages instead of opening its own.
    document.documentElement.setAttribute("data-queue-socket", "");
    connect();
    // A lost last event shows no gap until the next one: ask for the number now and then.
    window.setInterval(function () {
      if (open && !document.hidden) {
        send({ action: "ping" });
      }
    }, PING_MS);
  }
})();
