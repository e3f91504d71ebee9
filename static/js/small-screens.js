/* What every page does on a small screen: the folding menu, and the wide tables that scroll in their own
   frame. One file, so that a page on a slow connection waits for one request less. */

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

/* On a small screen a wide table scrolls sideways in its own frame (.table-wrap), so that the page itself never
   does. A frame that scrolls must be reachable from the keyboard: when its table is wider than the frame, the
   frame takes a place in the tab order, as a region named by the table's caption (or the heading above it, when
   no other frame has it); the arrow keys then scroll it. Checked again when the window changes size. */
(function () {
  "use strict";
  var frames = Array.prototype.slice.call(document.querySelectorAll(".table-wrap"));
  if (!frames.length) { return; }
  var count = 0;

  function idOf(element) {
    if (!element.id) { count += 1; element.id = "table-name-" + count; }
    return element.id;
  }

  function nameOf(frame) {
    var caption = frame.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption; }
    var section = frame.closest("section, article, details, main");
    var heading = section ? section.querySelector("h1, h2, h3, h4, summary") : null;
    return heading && heading.textContent.trim() ? heading : null;
  }

  function update() {
    frames.forEach(function (frame) {
      var wide = frame.scrollWidth > frame.clientWidth + 1;
      if (wide && !frame.hasAttribute("tabindex")) {
        var name = nameOf(frame);
        frame.tabIndex = 0;
        frame.dataset.scrollFrame = "1";
        // A region needs a name of its own (two tables under one heading: the tables speak for themselves).
        if (name && !document.querySelector('[aria-labelledby="' + idOf(name) + '"]')) {
          frame.setAttribute("role", "region");
          frame.setAttribute("aria-labelledby", idOf(name));
        }
      } else if (!wide && frame.dataset.scrollFrame) {
        frame.removeAttribute("tabindex");
        frame.removeAttribute("role");
        frame.removeAttribute("aria-labelledby");
        delete frame.dataset.scrollFrame;
      }
    });
  }

  update();
  window.addEventListener("resize", update);
})();
