// The live monitoring page: listens on /ws/monitoring/ and fetches the page's live part from
// the server (the database is the truth) when an event arrives, after a gap in the event
// numbers, and after every reconnect. Several events close together cost one fetch.
// No innerHTML here: htmx swaps in the part the server rendered; this file sets text only.
(function () {
  "use strict";

  var body = document.getElementById("monitor-body");
  if (!body || !window.WebSocket) {
    return; // the page still refreshes itself every 30 seconds
  }
  var statusLine = document.getElementById("monitor-status");
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + "/ws/monitoring/";
  var liveUrl = body.getAttribute("data-live-url");
  var last = null;
  var refused = false;
  var backoff = 1000;
  var pending = null;
  var PING_MS = 25000;
  var GATHER_MS = 250;

  function words(key, fallback) {
    return (statusLine && statusLine.getAttribute("data-" + key)) || fallback;
  }

  function say(text) {
    if (statusLine) {
      statusLine.textContent = text;
    }
  }

  function reload() {
    if (pending !== null) {
      return;
    }
    pending = window.setTimeout(function () {
      pending = null;
      if (window.htmx) {
        window.htmx.ajax("GET", liveUrl, { target: "#monitor-body", swap: "innerHTML" });
      } else {
        window.location.reload();
      }
    }, GATHER_MS);
  }

  function connect() {
    var socket = new WebSocket(url);
    var pinger = null;
    socket.onopen = function () {
      backoff = 1000;
      say(words("live", "Live"));
      pinger = window.setInterval(function () {
        socket.send(JSON.stringify({ action: "ping" }));
      }, PING_MS);
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (data.type === "events" && Array.isArray(data.events)) {
        data.events.forEach(hear); // events close together, in one frame
      } else {
        hear(data);
      }
    };
    function hear(data) {
      if (data.type === "hello") {
        if (last !== null) {
          reload(); // reconnected: whatever happened meanwhile is in the database
        }
        last = data.seq;
      } else if (data.type === "event") {
        if (typeof data.seq === "number") {
          last = data.seq;
        }
        reload();
      } else if (data.type === "pong" || data.type === "resync") {
        if (typeof data.seq === "number" && last !== null && data.seq !== last) {
          reload();
        }
        last = data.seq;
      } else if (data.type === "refused") {
        refused = true;
        var reasons = (data.reasons || []).map(function (r) { return r.message; });
        say(reasons.join(" ") || words("refused", "Live updates refused."));
      }
    }
    socket.onclose = function () {
      if (pinger !== null) {
        window.clearInterval(pinger);
      }
      if (refused) {
        return;
      }
      say(words("reconnecting", "Connection lost; reconnecting…"));
      window.setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  connect();
})();
