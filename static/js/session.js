/* Announce the end of an idle session in advance, with a button to stay signed in (RGAA 13.1).
   The server ends a session after data-idle-seconds without a request; this script opens the dialog
   data-warn-seconds before, and a click on "Rester connecté" sends a request that refreshes it.
   Tabs share the expiry time through localStorage, so activity in one tab counts for all.
   Other scripts that talk to the server (an autosave, for instance) announce it with
   document.dispatchEvent(new Event("ticketnet:activity")). */
(function () {
  "use strict";
  var dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var idle = Number(dialog.dataset.idleSeconds) * 1000;
  var warn = Math.min(Number(dialog.dataset.warnSeconds) * 1000, idle / 2);
  var KEY = "ticketnet.session.expiresAt";
  var warning = dialog.querySelector('[data-session-state="warning"]');
  var ended = dialog.querySelector('[data-session-state="ended"]');
  var stay = dialog.querySelector('[data-session-action="stay"]');
  var timer = null;
  var expiresAt = 0;
  var over = false;

  function shared() {
    try { return Number(window.localStorage.getItem(KEY)) || 0; } catch (e) { return 0; }
  }

  function remember(at) {
    expiresAt = at;
    try { window.localStorage.setItem(KEY, String(at)); } catch (e) { /* private mode: this tab only */ }
  }

  function activity() {
    remember(Date.now() + idle);
    schedule();
  }

  function showWarning() {
    warning.hidden = false;
    ended.hidden = true;
    if (!dialog.open) { dialog.showModal(); }
    stay.focus();
  }

  function showEnded() {
    over = true;
    document.dispatchEvent(new Event("ticketnet:signed-out"));  // device-copies.js seals the journal's copies
    warning.hidden = true;
    ended.hidden = false;
    if (!dialog.open) { dialog.showModal(); }
    ended.querySelector("h2").focus();
  }

  function schedule() {
    window.clearTimeout(timer);
    if (over) { return; }
    expiresAt = Math.max(expiresAt, shared());
    var left = expiresAt - Date.now();
    if (left <= 0) { showEnded(); return; }
    if (left <= warn) {
      if (!dialog.open) { showWarning(); }
      timer = window.setTimeout(schedule, Math.min(left, 1000 * 15));
      return;
    }
    if (dialog.open) { dialog.close(); }
    // Check again at the warning time, or within a minute (a computer waking from sleep).
    timer = window.setTimeout(schedule, Math.min(left - warn, 60 * 1000));
  }

  stay.addEventListener("click", function () {
    stay.disabled = true;
    window.fetch(dialog.dataset.keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": dialog.dataset.csrfToken, "Accept": "application/json" },
      redirect: "manual"
    }).then(function (response) {
      if (!response.ok) { throw new Error("session ended"); }
      return response.json();
    }).then(function (data) {
      remember(Date.now() + Number(data.expires_in) * 1000);
      dialog.close();
      schedule();
    }).catch(function () {
      showEnded();
    }).then(function () {
      stay.disabled = false;
    });
  });

  // Escape closes the warning without extending the session; it opens again at the next check.
  dialog.addEventListener("cancel", function (event) {
    if (over) { event.preventDefault(); }
  });
  window.addEventListener("storage", function (event) {
    if (event.key === KEY) { schedule(); }
  });
  document.addEventListener("ticketnet:activity", activity);
  activity();
}());
