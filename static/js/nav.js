/* On a small screen, the main menu folds behind a "Menu" button, so that the page itself comes first.
   Without JavaScript the menu simply stays open. */
(function () {
  "use strict";
  var button = document.querySelector(".nav-toggle");
  var list = document.getElementById("site-nav-list");
  if (!button || !list || !window.matchMedia) { return; }
  var small = window.matchMedia("(max-width: 40rem)");

  function show(open) {
    list.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function layout() {
    if (small.matches) {
      button.hidden = false;
      show(false);
    } else {
      button.hidden = true;
      show(true);
    }
  }

  button.addEventListener("click", function () {
    show(list.hidden);
    if (!list.hidden) {
      var first = list.querySelector("a");
      if (first) { first.focus(); }
    }
  });
  if (small.addEventListener) { small.addEventListener("change", layout); }
  layout();
})();
