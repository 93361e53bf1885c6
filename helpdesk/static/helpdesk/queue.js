// The live queue: listens on /ws/queue/ and reloads the list from the server (the database
// is the truth) when an event arrives, when a number is missing, and after every reconnect.
// Keys: j / k move between questions, c claims the focused one. No innerHTML: text only.
(function () {
  "use strict";

  var queue = document.getElementById("queue");
  if (!queue || !window.WebSocket) {
    return; // the page still works: the list refreshes itself through htmx
  }
  var statusLine = document.getElementById("queue-status");
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + "/ws/queue/";
  var socket = null;
  var last = null; // the number of the last event applied
  var open = false;
  var refused = false;
  var backoff = 1000;
  var reloading = false;
  var focusedId = null;
  var PING_MS = parseInt(queue.getAttribute("data-ping-ms"), 10) || 25000;

  var claimed = document.getElementById("queue-claimed");

  function say(text) {
    if (statusLine) {
      statusLine.textContent = text;
    }
  }

  // The page's own words, in the person's language (data-* attributes the server wrote).
  function words(key, fallback) {
    return (statusLine && statusLine.getAttribute("data-" + key)) || fallback;
  }

  // After a claim: a link to answer it, focused, so the keyboard goes straight on.
  function offerAnswer(questionId) {
    if (!claimed) {
      return;
    }
    var link = claimed.querySelector("a");
    link.setAttribute("href", "/desk/questions/" + questionId + "/compose/");
    link.textContent = link.getAttribute("data-answer") || "Answer it now";
    claimed.hidden = false;
    link.focus();
  }

  function rows() {
    return Array.prototype.slice.call(queue.querySelectorAll("[data-question-id]"));
  }

  function reload() {
    if (!window.htmx) {
      window.location.reload();
      return;
    }
    reloading = true;
    // Keep the page's filters and position when reloading the list.
    window.htmx.ajax("GET", "/queue/" + window.location.search, { target: "#queue", swap: "innerHTML" });
  }

  function send(message) {
    if (socket && open) {
      socket.send(JSON.stringify(message));
      return true;
    }
    say(words("offline", "Not connected; trying again…"));
    return false;
  }

  function claim(row) {
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
        backoff = 1000;
        say(words("live", "Live."));
        reload(); // whatever happened while we were away
        break;
      case "event":
        if (typeof message.seq !== "number") {
          reload(); // not numbered: cannot tell a gap, so look again
        } else if (last === null || message.seq > last + 1) {
          send({ action: "resync", since: last === null ? 0 : last });
        } else if (message.seq === last + 1) {
          last = message.seq;
          reload();
        } // an older number: already covered by the last reload
        break;
      case "resync":
        last = message.seq;
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
          offerAnswer(message.question_id);
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

  function connect() {
    socket = new WebSocket(url);
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
      onMessage(message);
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

  // While the socket is live the list follows events; the polling is only a fallback.
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    if (evt.detail && evt.detail.target === queue && open && !reloading) {
      evt.preventDefault();
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail && evt.detail.target !== queue) {
      return;
    }
    reloading = false;
    showButtons();
    if (focusedId !== null) {
      var again = queue.querySelector('[data-question-id="' + focusedId + '"]');
      if (again) {
        again.focus();
      }
    }
  });

  queue.addEventListener("focusin", function (evt) {
    var row = evt.target.closest("[data-question-id]");
    focusedId = row ? row.getAttribute("data-question-id") : null;
  });
  queue.addEventListener("click", function (evt) {
    var button = evt.target.closest("button[data-claim]");
    if (button) {
      claim(button.closest("[data-question-id]"));
    }
  });
  document.addEventListener("keydown", function (evt) {
    var tag = evt.target.tagName;
    if (evt.ctrlKey || evt.metaKey || evt.altKey || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      return;
    }
    var all = rows();
    if (!all.length) {
      return;
    }
    var current = document.activeElement && document.activeElement.closest("[data-question-id]");
    var index = all.indexOf(current);
    if (evt.key === "j" || evt.key === "k") {
      var next = evt.key === "j" ? Math.min(index + 1, all.length - 1) : Math.max(index - 1, 0);
      all[next].focus();
      evt.preventDefault();
    } else if (evt.key === "c" && current) {
      claim(current);
      evt.preventDefault();
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll(".hint .keys"), function (hint) {
    hint.hidden = false;
  });
  showButtons();
  connect();
  // A lost last event shows no gap until the next one: ask for the number now and then.
  window.setInterval(function () {
    if (open && !document.hidden) {
      send({ action: "ping" });
    }
  }, PING_MS);
})();
