/* "Écouter": reads a part of the page aloud with the browser's speech synthesis (templates/_read_aloud.html).
   - Only what is shown is read: folded details, hidden parts, text for screen readers only and the controls
     themselves are skipped; each block (a title, a paragraph, a line of a list) is one utterance, and the block
     being read is highlighted.
   - In the page's language (<html lang>), with a voice of that language; a little slower than usual, and slower
     still with "Plus lentement" (remembered on the device). Pause, resume, stop; Escape stops too.
   - The controls stay hidden until a voice of that language is found; where the device has none, the page says
     why (.read-aloud-missing). */
(function () {
  "use strict";
  var controls = Array.prototype.slice.call(document.querySelectorAll(".read-aloud[data-read-aloud]"));
  var missing = document.querySelector(".read-aloud-missing");
  if (!controls.length) { return; }
  var synth = window.speechSynthesis;
  var RATE = 0.9;
  var SLOW_RATE = 0.7;
  var SLOW_KEY = "ticketnet.readAloud.slow";
  var MAX_CHUNK = 220; // long utterances are cut off by some engines: long blocks are read sentence by sentence
  var lang = (document.documentElement.lang || "fr").toLowerCase().slice(0, 2);
  var SKIP = ".read-aloud, .read-aloud-missing, .visually-hidden, [aria-hidden='true'], script, style, noscript, " +
    "template, select, textarea, input, button";
  var BLOCK = /^(P|LI|H[1-6]|DT|DD|TD|TH|CAPTION|FIGCAPTION|SUMMARY|LEGEND|LABEL|BLOCKQUOTE|PRE|DIV|SECTION|ARTICLE|TR)$/;
  var voice = null;
  var current = null; // {control, target, highlighted}
  var paused = false;

  function frenchVoice() {
    var voices = synth ? synth.getVoices() : [];
    var own = voices.filter(function (v) { return (v.lang || "").toLowerCase().slice(0, 2) === lang; });
    var exact = own.filter(function (v) { return (v.lang || "").toLowerCase().replace("_", "-") === lang + "-fr"; });
    return exact[0] || own[0] || null;
  }

  function slow() {
    try { return window.localStorage.getItem(SLOW_KEY) === "1"; } catch (e) { return false; }
  }

  function visible(element) {
    if (typeof element.checkVisibility === "function") { return element.checkVisibility(); }
    return element.getClientRects().length > 0;
  }

  /* The blocks of text shown in ``root``, in reading order: [{element, text}]. */
  function blocks(root) {
    var found = [];
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var last = null;
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var parent = node.parentElement;
      var words = node.nodeValue.replace(/\s+/g, " ");
      if (!words.trim() || !parent || parent.closest(SKIP) || !visible(parent)) { continue; }
      var block = parent;
      while (block !== root && !BLOCK.test(block.tagName)) { block = block.parentElement; }
      if (last && last.element === block) {
        last.text += words;
      } else {
        last = {element: block, text: words};
        found.push(last);
      }
    }
    return found.map(function (b) { return {element: b.element, text: b.text.replace(/\s+/g, " ").trim()}; })
      .filter(function (b) { return b.text; });
  }

  /* A block cut into sentences small enough for every engine. */
  function pieces(text) {
    if (text.length <= MAX_CHUNK) { return [text]; }
    var sentences = text.match(/[^.!?;:]+[.!?;:]*\s*/g) || [text];
    var out = [];
    var piece = "";
    sentences.forEach(function (sentence) {
      if (piece && (piece + sentence).length > MAX_CHUNK) { out.push(piece.trim()); piece = ""; }
      piece += sentence;
    });
    if (piece.trim()) { out.push(piece.trim()); }
    return out;
  }

  function button(control, action) {
    return control.querySelector('[data-read-aloud-action="' + action + '"]');
  }

  function highlight(element) {
    if (!current) { return; }
    if (current.highlighted) { current.highlighted.classList.remove("is-read-aloud"); }
    current.highlighted = element;
    if (element) { element.classList.add("is-read-aloud"); }
  }

  function show(control, reading) {
    var pause = button(control, "pause");
    button(control, "play").hidden = reading;
    pause.hidden = !reading;
    button(control, "stop").hidden = !reading;
    pause.textContent = control.dataset.labelPause;
    pause.setAttribute("aria-pressed", "false");
  }

  function finished(control) {
    if (!current || current.control !== control) { return; }
    highlight(null);
    var focusedInside = control.contains(document.activeElement);
    current = null;
    paused = false;
    show(control, false);
    if (focusedInside) { button(control, "play").focus(); }
  }

  function stop() {
    if (!current) { return; }
    var control = current.control;
    synth.cancel();
    finished(control);
  }

  function play(control) {
    stop();
    var target = document.querySelector(control.dataset.readAloud);
    if (!target) { return; }
    var parts = [];
    blocks(target).forEach(function (block) {
      pieces(block.text).forEach(function (text) { parts.push({element: block.element, text: text}); });
    });
    if (!parts.length) { return; }
    current = {control: control, target: target, highlighted: null};
    paused = false;
    show(control, true);
    button(control, "pause").focus();
    var rate = slow() ? SLOW_RATE : RATE;
    parts.forEach(function (part, index) {
      var utterance = new window.SpeechSynthesisUtterance(part.text);
      utterance.lang = voice.lang || document.documentElement.lang;
      utterance.voice = voice;
      utterance.rate = rate;
      utterance.onstart = function () { if (current && current.control === control) { highlight(part.element); } };
      if (index === parts.length - 1) {
        utterance.onend = function () { finished(control); };
      }
      utterance.onerror = function (event) {
        if (event.error !== "interrupted" && event.error !== "canceled") { finished(control); }
      };
      synth.speak(utterance);
    });
  }

  function togglePause(control) {
    if (!current || current.control !== control) { return; }
    var pause = button(control, "pause");
    if (paused) {
      synth.resume();
      paused = false;
      pause.textContent = control.dataset.labelPause;
      pause.setAttribute("aria-pressed", "false");
    } else {
      synth.pause();
      paused = true;
      pause.textContent = control.dataset.labelResume;
      pause.setAttribute("aria-pressed", "true");
    }
  }

  /* Show the controls once a voice is found; say why not once the device has listed its voices (or after a wait:
     some list none until asked). */
  function ready(final) {
    voice = frenchVoice();
    if (!voice && !final) { return; }
    controls.forEach(function (control) { control.hidden = !voice; });
    if (missing) { missing.hidden = !!voice; }
  }

  if (!synth || typeof window.SpeechSynthesisUtterance !== "function") {
    if (missing) { missing.hidden = false; }
    return;
  }

  controls.forEach(function (control) {
    var checkbox = button(control, "slow");
    checkbox.checked = slow();
    checkbox.addEventListener("change", function () {
      try { window.localStorage.setItem(SLOW_KEY, checkbox.checked ? "1" : "0"); } catch (e) { /* this page only */ }
      controls.forEach(function (other) { button(other, "slow").checked = checkbox.checked; });
    });
    button(control, "play").addEventListener("click", function () { play(control); });
    button(control, "pause").addEventListener("click", function () { togglePause(control); });
    button(control, "stop").addEventListener("click", stop);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && current) { stop(); }
  });
  window.addEventListener("pagehide", function () { if (current) { synth.cancel(); } });

  // Voices often arrive a moment after the page: decide when they do, or after a short wait.
  ready(synth.getVoices().length > 0);
  if (!voice) {
    var listed = function () { ready(synth.getVoices().length > 0); };
    if (typeof synth.addEventListener === "function") {
      synth.addEventListener("voiceschanged", listed);
    } else {
      synth.onvoiceschanged = listed;
    }
    window.setTimeout(function () { ready(true); }, 1500);
  }
})();
