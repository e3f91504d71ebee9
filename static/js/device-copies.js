/* The journal's copies on this device, at sign-out.
 *
 * The editor (journal-editor.js) keeps what the learner types in this browser's storage until the server
 * holds that very text. At sign-out (the "Se déconnecter" buttons, and when the page says the session is
 * over), what is left — text the server does not have yet — must not stay readable by the next person at
 * the EPM's computer:
 * - each copy of the person's is encrypted (AES-GCM, Web Crypto) with a key the server gives only to her
 *   signed-in pages (never stored on the device), and the copy in clear is removed;
 * - without Web Crypto (a page not served over HTTPS), the copy is removed: nothing stays at all.
 * When she signs in again on this device, her pages decrypt her copies, and the editor finds them as it
 * always did (window.ticketnetDeviceCopies.ready).
 */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="ticketnet-device-copies"]');
  var ready = Promise.resolve();
  window.ticketnetDeviceCopies = { ready: ready };
  if (!meta) { return; }
  var owner = meta.dataset.owner;
  var CLEAR = "ticketnet.journal." + owner + ".";
  var SEALED = "ticketnet.sealed." + owner + ".";
  var subtle = window.crypto && window.crypto.subtle;
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }
  if (!store) { return; }

  function bytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i += 1) { out[i] = text.charCodeAt(i); }
    return out;
  }

  function base64(buffer) {
    var view = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < view.length; i += 1) { text += String.fromCharCode(view[i]); }
    return btoa(text);
  }

  function keysStarting(prefix) {
    var found = [];
    for (var i = 0; i < store.length; i += 1) {
      var name = store.key(i);
      if (name && name.indexOf(prefix) === 0) { found.push(name); }
    }
    return found;
  }

  var key = subtle ? subtle.importKey("raw", bytes(meta.content), { name: "AES-GCM" }, false,
                                      ["encrypt", "decrypt"]).catch(function () { return null; })
                   : Promise.resolve(null);

  function seal() {
    var names = keysStarting(CLEAR);
    if (!names.length) { return Promise.resolve(); }
    return key.then(function (aes) {
      return Promise.all(names.map(function (name) {
        var text = store.getItem(name) || "";
        store.removeItem(name);  // never left in clear, whatever happens next
        if (!aes) { return null; }
        var iv = window.crypto.getRandomValues(new Uint8Array(12));
        return subtle.encrypt({ name: "AES-GCM", iv: iv }, aes, new TextEncoder().encode(text)).then(function (data) {
          store.setItem(SEALED + name.slice(CLEAR.length), JSON.stringify({ iv: base64(iv), data: base64(data) }));
        });
      }));
    }).catch(function () {
      keysStarting(CLEAR).forEach(function (name) { store.removeItem(name); });
    });
  }

  function unseal() {
    var names = keysStarting(SEALED);
    if (!names.length) { return Promise.resolve(); }
    return key.then(function (aes) {
      if (!aes) { return null; }
      return Promise.all(names.map(function (name) {
        var sealed;
        try { sealed = JSON.parse(store.getItem(name) || "null"); } catch (e) { sealed = null; }
        if (!sealed) { store.removeItem(name); return null; }
        return subtle.decrypt({ name: "AES-GCM", iv: bytes(sealed.iv) }, aes, bytes(sealed.data)).then(function (plain) {
          var clearName = CLEAR + name.slice(SEALED.length);
          var text = new TextDecoder().decode(plain);
          var current = null;
          try { current = JSON.parse(store.getItem(clearName) || "null"); } catch (e) { current = null; }
          var kept = null;
          try { kept = JSON.parse(text); } catch (e) { kept = null; }
          if (kept && (!current || (kept.savedAt || 0) > (current.savedAt || 0))) { store.setItem(clearName, text); }
          store.removeItem(name);
        }).catch(function () { return null; });  // another key (the site's secret changed): left as it is
      }));
    });
  }

  window.ticketnetDeviceCopies.ready = unseal().catch(function () { return null; });
  window.ticketnetDeviceCopies.seal = seal;

  // The sign-out buttons: seal, then sign out.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-signs-out]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sealed === "yes") { return; }
      event.preventDefault();
      seal().then(function () {
        form.dataset.sealed = "yes";
        form.submit();
      });
    });
  });
  // The page said that the session is over (static/js/session.js): seal now, the person may have gone.
  document.addEventListener("ticketnet:signed-out", function () { seal(); });
}());
