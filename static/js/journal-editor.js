/* The journal editor: nothing the learner types is ever lost.
 *
 * - Every change is copied at once to this device's storage (localStorage), under a key naming the
 *   person and the entry, and sent to the server a few seconds later (autosave, JSON endpoint, CSRF
 *   token in the form data).
 * - Offline, the text stays on the device and is sent when the connection comes back.
 * - If the session has expired (401), the text stays on the device with the wish to publish it; once
 *   the person has signed in again, this page finds it, puts it back in the form and publishes it.
 * - The local copy is forgotten only when the server has confirmed the very same text.
 * Without JavaScript the form posts as usual.
 */
(function () {
  "use strict";

  var form = document.getElementById("entry-form");
  if (!form || !window.fetch || !window.FormData) { return; }

  var AUTOSAVE_MS = 4000;
  var RANK = { autosave: 1, draft: 2, publish: 3 };
  var status = document.getElementById("save-status");
  var lost = document.getElementById("session-lost");
  var lostLink = lost ? lost.querySelector("a") : null;
  var newKey = form.dataset.newKey;
  var key = form.dataset.draftKey;
  var saveUrl = form.dataset.saveUrl;
  var store = openStore();
  var dirty = false;
  var saving = false;
  var queued = null;
  var wantsPublish = false;

  function openStore() {
    try {
      var s = window.localStorage;
      s.setItem("ticketnet.test", "1");
      s.removeItem("ticketnet.test");
      return s;
    } catch (e) {
      return null;
    }
  }

  function say(message) {
    if (status) { status.textContent = message; }
  }

  function controls(name) {
    return Array.prototype.slice.call(form.elements).filter(function (el) { return el.name === name; });
  }

  var TEXT_FIELDS = ["title", "body_md", "entry_date", "session_id", "module_id", "tags", "photo_alt"];

  function snapshot() {
    var data = {};
    TEXT_FIELDS.forEach(function (name) {
      var el = controls(name)[0];
      if (el) { data[name] = el.value; }
    });
    var checked = controls("visibility").filter(function (el) { return el.checked; })[0];
    data.visibility = checked ? checked.value : "";
    data.competences = controls("competences").filter(function (el) { return el.checked; })
      .map(function (el) { return el.value; });
    return data;
  }

  function sameText(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function fill(data) {
    TEXT_FIELDS.forEach(function (name) {
      var el = controls(name)[0];
      if (el && typeof data[name] === "string") { el.value = data[name]; }
    });
    controls("visibility").forEach(function (el) { el.checked = el.value === data.visibility; });
    var chosen = data.competences || [];
    controls("competences").forEach(function (el) { el.checked = chosen.indexOf(el.value) !== -1; });
  }

  function readLocal(k) {
    if (!store) { return null; }
    try { return JSON.parse(store.getItem(k) || "null"); } catch (e) { return null; }
  }

  function keepLocally() {
    if (!store) { return; }
    var copy = { fields: snapshot(), savedAt: Date.now(), publish: wantsPublish };
    try { store.setItem(key, JSON.stringify(copy)); } catch (e) { /* storage full: the server copy remains */ }
  }

  function forgetLocally() {
    if (store) { store.removeItem(key); }
  }

  function adopt(body) {
    // A new entry got its number: from now on, save to it and keep its copy under its own key.
    if (!body.id || saveUrl === body.save_url) { return; }
    var oldKey = key;
    saveUrl = body.save_url;
    form.dataset.saveUrl = body.save_url;
    key = oldKey === newKey ? oldKey.replace(/\.new$/, "." + body.id) : oldKey;
    form.setAttribute("action", body.edit_url);
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", body.edit_url); }
    if (lostLink) { lostLink.href = lostLink.href.replace(/next=[^&]*/, "next=" + encodeURIComponent(body.edit_url)); }
    if (store && oldKey !== key) {
      store.removeItem(oldKey);
      keepLocally();
    }
  }

  function sessionLost(message) {
    keepLocally();
    document.dispatchEvent(new Event("ticketnet:signed-out"));  // the copy is sealed until she signs in again
    if (lost) {
      if (message) { document.getElementById("session-lost-message").textContent = message; }
      lost.hidden = false;
    }
    say(form.dataset.msgError);
  }

  function showErrors(errors) {
    Object.keys(errors || {}).forEach(function (name) {
      var el = controls(name)[0];
      if (el) { el.setAttribute("aria-invalid", "true"); }
    });
  }

  function save(action) {
    if (saving) {
      if (!queued || RANK[action] > RANK[queued]) { queued = action; }
      return;
    }
    if (action === "publish") { wantsPublish = true; }
    keepLocally();
    if (navigator.onLine === false) {
      say(form.dataset.msgOffline);
      return;
    }
    var sent = snapshot();
    var data = new FormData(form);
    data.set("action", action);
    if (action === "autosave") {
      data.delete("photos");
      data.delete("remove_photos");
    }
    var withFiles = action !== "autosave" && controls("photos").some(function (el) { return el.files && el.files.length; });
    saving = true;
    say(form.dataset.msgSaving);
    fetch(saveUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }, redirect: "manual"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (result) {
      saving = false;
      var body = result.body || {};
      if (result.status === 401 || result.status === 0) {
        sessionLost(body.message);
        return;
      }
      if (result.status === 400) {
        // The form's token is stale (signed in again in another tab): reload; the copy comes back.
        keepLocally();
        window.location.reload();
        return;
      }
      if (body.id) { adopt(body); }
      if (result.status === 200) {
        document.dispatchEvent(new Event("ticketnet:activity"));  // the server saw us: the session lives on
        if (lost) { lost.hidden = true; }
        if (sameText(sent, snapshot())) {
          dirty = false;
          if (action === "publish") { wantsPublish = false; }
          forgetLocally();
        } else {
          keepLocally();
        }
        if (action === "publish") {
          window.location.assign(body.view_url);
          return;
        }
        if (withFiles) {
          window.location.assign(body.edit_url);
          return;
        }
        var time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        say(form.dataset.msgSaved.replace("{time}", time));
      } else {
        wantsPublish = false;
        keepLocally();
        showErrors(body.errors);
        say(body.message || form.dataset.msgError);
      }
    }).catch(function () {
      saving = false;
      keepLocally();
      say(form.dataset.msgOffline);
    }).then(function () {
      if (queued && !saving) {
        var next = queued;
        queued = null;
        save(next);
      }
    });
  }

  function changed() {
    dirty = true;
    keepLocally();
  }

  // Formatting toolbar (Markdown): bold, list, link.
  var body = controls("body_md")[0];
  var toolbar = form.querySelector(".toolbar");
  if (toolbar && body) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-format]");
      if (!button) { return; }
      var start = body.selectionStart;
      var end = body.selectionEnd;
      var text = body.value;
      var picked = text.slice(start, end);
      var insert;
      var caret;
      if (button.dataset.format === "bold") {
        insert = "**" + (picked || "texte") + "**";
        caret = [start + 2, start + insert.length - 2];
      } else if (button.dataset.format === "list") {
        var lines = (picked || "").split("\n").map(function (line) { return "- " + line; }).join("\n");
        insert = (start > 0 && text[start - 1] !== "\n" ? "\n" : "") + lines;
        caret = [start + insert.length, start + insert.length];
      } else {
        insert = "[" + (picked || "texte du lien") + "](https://)";
        caret = [start + insert.length - 9, start + insert.length - 1];
      }
      body.value = text.slice(0, start) + insert + text.slice(end);
      body.focus();
      body.setSelectionRange(caret[0], caret[1]);
      changed();
    });
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.submitter;
    save(button && button.value === "publish" ? "publish" : "draft");
  });
  window.setInterval(function () {
    if (dirty && !saving && (!lost || lost.hidden)) { save("autosave"); }
  }, AUTOSAVE_MS);
  window.addEventListener("online", function () {
    if (dirty || wantsPublish) { save(wantsPublish ? "publish" : "autosave"); }
  });
  window.addEventListener("offline", function () { say(form.dataset.msgOffline); });

  // A copy left on this device (offline, session expired, page closed): put it back, and finish
  // publishing it if that is what the person asked for. Copies sealed at sign-out are opened first
  // (device-copies.js).
  var opened = window.ticketnetDeviceCopies ? window.ticketnetDeviceCopies.ready : Promise.resolve();
  opened.then(restore);

  function restore() {
  var local = readLocal(key);
  if (local && local.fields) {
    var serverTime = Date.parse(form.dataset.updated || "") || 0;
    if (sameText(local.fields, snapshot()) && !local.publish) {
      forgetLocally();
    } else if (local.savedAt >= serverTime || local.publish) {
      fill(local.fields);
      dirty = true;
      wantsPublish = Boolean(local.publish);
      if (wantsPublish) {
        say(form.dataset.msgResuming);
        save("publish");
      } else {
        say(form.dataset.msgRestored);
      }
    }
  }
  }
}());
