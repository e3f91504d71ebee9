// The interview's path: say how many modules are ticked, out of how many wanted (progressive enhancement).
(function () {
  "use strict";
  var list = document.querySelector("[data-path-count]");
  if (!list) { return; }
  var wanted = parseInt(list.getAttribute("data-path-count"), 10);
  var output = document.getElementById(list.getAttribute("data-path-output"));
  var template = output.getAttribute("data-template");
  function update() {
    var ticked = list.querySelectorAll("input[type=checkbox]:checked").length;
    output.textContent = template.replace("{n}", ticked).replace("{total}", wanted);
    output.classList.toggle("count-ok", ticked === wanted);
  }
  list.addEventListener("change", update);
  output.hidden = false;
  update();
}());
