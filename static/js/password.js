/* "Afficher le mot de passe": a checkbox that shows what was typed in the password fields it names,
   for people who type slowly and want to check (ASVS 2.1.12). Hidden again when the form is sent. */
(function () {
  "use strict";
  document.querySelectorAll("[data-show-password]").forEach(function (box) {
    var fields = box.dataset.showPassword.split(" ").map(function (id) { return document.getElementById(id); })
      .filter(function (field) { return field; });
    var toggle = box.querySelector("input[type=checkbox]");
    if (!fields.length || !toggle) { return; }
    box.hidden = false;
    toggle.addEventListener("change", function () {
      fields.forEach(function (field) { field.type = toggle.checked ? "text" : "password"; });
    });
    var form = fields[0].form;
    if (form) {
      form.addEventListener("submit", function () {
        fields.forEach(function (field) { field.type = "password"; });
      });
    }
  });
}());
