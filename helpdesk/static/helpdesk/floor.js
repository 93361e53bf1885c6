// A live part marked data-hold-while-focused holds still while the person works in it (the
// focus on a reassign menu, say): its poll is cancelled before it is sent, and the next one
// comes at the next interval. An htmx trigger filter would say the same, but htmx evaluates
// filters as code, which the desk's Content-Security-Policy does not allow.
document.addEventListener("htmx:beforeRequest", function (event) {
  var part = event.detail.elt;
  if (part && part.hasAttribute("data-hold-while-focused") && part.contains(document.activeElement)) {
    event.preventDefault();
  }
});
