// Told without watching: when a question is offered to this volunteer, or a reply of theirs
// is rejected, a browser notification (only after they clicked "Notify me" and the browser
// said yes), a short beep made with the Web Audio API (no sound file), and the count in the
// tab title, "(3) Queue · Helpforce", until they come back to the tab or touch the page.
//
// It listens on the same /ws/queue/ events the queue page does (questions.offered with
// payload.user_id, reply.rejected with payload.author_id), so it works on every desk page:
// on the inbox it hears queue.js's socket (its "helpforce:queue-message" events on document),
// elsewhere it opens its own; never two sockets on one page. It owns the tab's title: the
// inbox asks for a new one with a "helpforce:title" event and gets the count in front of it.
// The server decides what the person may hear (the socket checks the
// session, role and gate); this only tells. Notifications carry fixed, translated words and
// never the tweet: customer text is hostile and stays in the escaped page.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.WebSocket) {
    return;
  }
  var me = parseInt(script.getAttribute("data-user-id"), 10);
  if (!(me > 0)) {
    return;
  }
  var STORE_KEY = "helpforce.notify";
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + "/ws/queue/";
  var baseTitle = document.title;
  var unseen = 0;
  var audio = null;
  var button = null;
  var backoff = 1000;

  function words(key, fallback) {
    return script.getAttribute("data-" + key) || fallback;
  }

  function supported() {
    return "Notification" in window;
  }

  function wanted() {
    try {
      return window.localStorage.getItem(STORE_KEY) === "on";
    } catch (e) {
      return false;
    }
  }

  function remember(on) {
    try {
      window.localStorage.setItem(STORE_KEY, on ? "on" : "off");
    } catch (e) {
      // private mode: it lasts for this page only
    }
  }

  function enabled() {
    return wanted() && supported() && window.Notification.permission === "granted";
  }

  function showState(note) {
    if (!button) {
      return;
    }
    var on = enabled();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = note || (on ? words("label-on", "Notifications on") : words("label-off", "Notify me"));
  }

  function setTitle() {
    document.title = unseen > 0 ? "(" + unseen + ") " + baseTitle : baseTitle;
  }

  function seen() {
    if (unseen > 0) {
      unseen = 0;
      setTitle();
    }
  }

  // An AudioContext may only start after a gesture: made on the "Notify me" click.
  function beep() {
    if (!audio || !wanted()) {
      return;
    }
    try {
      if (audio.state === "suspended") {
        audio.resume();
      }
      var now = audio.currentTime;
      var tone = audio.createOscillator();
      var volume = audio.createGain();
      tone.type = "sine";
      tone.frequency.setValueAtTime(880, now);
      tone.frequency.setValueAtTime(660, now + 0.12);
      volume.gain.setValueAtTime(0.0001, now);
      volume.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
      tone.connect(volume);
      volume.connect(audio.destination);
      tone.start(now);
      tone.stop(now + 0.32);
    } catch (e) {
      // no sound: the notification and the title still say it
    }
  }

  function tell(count, body, tag, link) {
    unseen += count;
    setTitle();
    beep();
    if (!enabled()) {
      return;
    }
    try {
      var note = new window.Notification(words("title", "Helpforce"), { body: body, tag: tag });
      note.onclick = function () {
        window.focus();
        if (link) {
          window.location.assign(link);
        }
        note.close();
      };
    } catch (e) {
      // some browsers only notify from a service worker: the title and the beep remain
    }
  }

  // One frame of /ws/queue/, from its own socket or from queue.js's.
  function hear(message) {
    if (message && message.type === "event" && message.payload && typeof message.payload === "object") {
      onEvent(String(message.kind), message.payload);
    }
  }

  function onEvent(kind, payload) {
    if (kind === "questions.offered" && payload.user_id === me) {
      var ids = Array.isArray(payload.question_ids) ? payload.question_ids : [];
      if (ids.length) {
        tell(ids.length, words("offered", "A question is offered to you."), "offered-" + ids.join("-"), words("queue-url", ""));
      }
    } else if (kind === "reply.rejected" && payload.author_id === me) {
      tell(1, words("rejected", "A reply of yours was rejected: see the feedback."), "rejected-" + payload.reply_id, words("feedback-url", ""));
    }
  }

  function connect() {
    var socket = new WebSocket(url);
    var refused = false;
    socket.addEventListener("message", function (frame) {
      var message;
      try {
        message = JSON.parse(frame.data);
      } catch (e) {
        return;
      }
      if (message.type === "hello") {
        backoff = 1000;
      } else if (message.type === "refused") {
        refused = true;
      } else if (message.type === "events" && Array.isArray(message.events)) {
        message.events.forEach(hear); // events close together, in one frame
      } else {
        hear(message);
      }
    });
    socket.addEventListener("close", function (closing) {
      if (refused || closing.code === 4401 || closing.code === 4403) {
        return; // not a volunteer who may follow the queue now: nothing to tell
      }
      window.setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    });
  }

  function toggle() {
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
    if (enabled()) {
      remember(false);
      showState();
      return;
    }
    if (!supported()) {
      showState(words("unsupported", "This browser cannot notify"));
      return;
    }
    remember(true);
    var asked = window.Notification.requestPermission(function () {
      showState(window.Notification.permission === "denied" ? words("denied", "Notifications blocked") : "");
    });
    if (asked && typeof asked.then === "function") {
      asked.then(function () {
        showState(window.Notification.permission === "denied" ? words("denied", "Notifications blocked") : "");
      });
    }
  }

  var nav = document.querySelector("header.top nav");
  if (nav) {
    button = document.createElement("button");
    button.type = "button";
    button.className = "notify-me";
    button.addEventListener("click", toggle);
    nav.insertBefore(button, nav.querySelector("form"));
    showState();
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      seen();
    }
  });
  // Opted in on an earlier page: the sound can start with the first gesture on this one.
  function wakeAudio() {
    if (!audio && wanted() && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
  }
  window.addEventListener("focus", seen);
  document.addEventListener("keydown", function () {
    wakeAudio();
    seen();
  });
  document.addEventListener("pointerdown", function (event) {
    wakeAudio();
    if (event.target !== button) {
      seen();
    }
  });
  // The inbox's new title (its pane changed): this count in front of it.
  document.addEventListener("helpforce:title", function (evt) {
    if (evt.detail && typeof evt.detail.title === "string") {
      baseTitle = evt.detail.title;
      setTitle();
      evt.preventDefault(); // composed here: queue.js leaves it be
    }
  });
  // Listening from the start, so no frame of queue.js's socket goes unheard.
  document.addEventListener("helpforce:queue-message", function (evt) {
    hear(evt.detail);
  });
  // queue.js runs after this (deferred, later in the page) and marks its socket; only
  // once every deferred script has run (DOMContentLoaded, which follows them; the document
  // is already "interactive" while they run) can this tell whether to open one of its own.
  function start() {
    if (!document.documentElement.hasAttribute("data-queue-socket")) {
      connect();
    }
  }
  if (document.readyState === "complete") {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
