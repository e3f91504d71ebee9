/* The animator's session grid (feuille de positionnement).

   Without JavaScript the grid is an ordinary form of selects with one "save" button. This script turns
   each select into a button: one click, Enter or Space moves the level (—, in progress, acquired, not yet),
   the keys 1, 2 and 3 choose a level directly, the arrow keys move from cell to cell (one tab stop for the
   whole grid). Every cell saves by itself to a JSON endpoint. Levels not saved yet are kept in
   localStorage and sent again, with a growing delay, until the server has them: a bad connection, a
   server error or an ended session never loses a level. */
(function () {
  "use strict";

  var form = document.getElementById("grid-form");
  if (!form || !window.fetch || !window.JSON) {
    return;
  }

  var CYCLE = { "": "in_progress", in_progress: "acquired", acquired: "not_yet", not_yet: "in_progress" };
  var KEYS = { "1": "not_yet", "2": "in_progress", "3": "acquired" };
  var DELAYS = [2, 4, 8, 15, 30];
  var labels = JSON.parse(form.getAttribute("data-labels"));
  var status = document.getElementById("grid-status");
  var retryButton = document.getElementById("grid-retry");
  var storageKey = form.getAttribute("data-storage-key");
  var saveUrl = form.getAttribute("data-save-url");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');

  var byKey = {};       // "learner:competence" -> td
  var rows = [];        // focusable buttons, row by row (the "all acquired" row last)
  var pending = {};     // "learner:competence" -> {learner, competence, level, seq}
  var seq = 0;
  var inFlight = false;
  var failures = 0;
  var signedOut = false;
  var timer = null;
  var lastMessage = "";
  var refusal = "";     // the server's reason for a refused cell, shown until the next change

  function key(learner, competence) {
    return learner + ":" + competence;
  }

  function message(name, values) {
    var text = status.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (k) {
      text = text.replace("{" + k + "}", values[k]);
    });
    return text;
  }

  // --- Storage: what is not saved yet survives a reload, a crash or a closed tab. ---

  function load() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(storageKey) || "{}");
      return stored && typeof stored === "object" ? stored : {};
    } catch (e) {
      return {};
    }
  }

  function store() {
    try {
      if (Object.keys(pending).length) {
        window.localStorage.setItem(storageKey, JSON.stringify(pending));
      } else {
        window.localStorage.removeItem(storageKey);
      }
    } catch (e) {
      /* private mode or full storage: the levels stay in memory for this page */
    }
  }

  // --- Cells ---

  function show(td, level) {
    var button = td.querySelector(".cell-button");
    var select = td.querySelector("select");
    button.setAttribute("data-level", level);
    button.querySelector(".cell-level").textContent = labels[level] || labels[""];
    if (level && !select.querySelector('option[value="' + level + '"]')) {
      return;
    }
    select.value = level;
  }

  function currentLevel(td) {
    return td.querySelector(".cell-button").getAttribute("data-level") || "";
  }

  function change(td, level) {
    var learner = td.getAttribute("data-learner");
    var competence = td.getAttribute("data-competence");
    var k = key(learner, competence);
    show(td, level);
    if (!pending[k] && level === td.getAttribute("data-level")) {
      return; // back to what the server has: nothing to send
    }
    seq += 1;
    refusal = "";
    pending[k] = { learner: Number(learner), competence: Number(competence), level: level, seq: seq };
    td.classList.add("is-pending");
    store();
    if (!failures && !signedOut) {
      report();
    }
    schedule(400);
  }

  function build() {
    form.querySelectorAll("tbody tr").forEach(function (tr) {
      var row = [];
      tr.querySelectorAll("td.grid-cell").forEach(function (td) {
        var select = td.querySelector("select");
        var button = document.createElement("button");
        var who = document.createElement("span");
        var level = document.createElement("span");
        button.type = "button";
        button.className = "cell-button";
        button.tabIndex = -1;
        who.className = "visually-hidden";
        who.textContent = select.getAttribute("aria-label") + " : ";
        level.className = "cell-level";
        button.appendChild(who);
        button.appendChild(level);
        select.hidden = true;
        select.tabIndex = -1;
        td.appendChild(button);
        byKey[key(td.getAttribute("data-learner"), td.getAttribute("data-competence"))] = td;
        show(td, td.getAttribute("data-level") || "");
        button.addEventListener("click", function () {
          change(td, CYCLE[currentLevel(td)]);
        });
        row.push(button);
      });
      rows.push(row);
    });
    var allRow = [];
    form.querySelectorAll("button.grid-all").forEach(function (button) {
      button.tabIndex = -1;
      button.addEventListener("click", function (event) {
        event.preventDefault();
        allAcquired(button.getAttribute("data-competence"), button);
      });
      allRow.push(button);
    });
    if (allRow.length) {
      rows.push(allRow);
    }
    if (rows.length && rows[0].length) {
      rows[0][0].tabIndex = 0;
    }
  }

  function allAcquired(competence, button) {
    form.querySelectorAll('td.grid-cell[data-competence="' + competence + '"]').forEach(function (td) {
      if (currentLevel(td) !== "acquired") {
        change(td, "acquired");
      }
    });
    say(message("all", { code: button.getAttribute("data-code") }));
  }

  // --- Keyboard: one tab stop, arrows between cells ---

  function positionOf(element) {
    for (var r = 0; r < rows.length; r += 1) {
      var c = rows[r].indexOf(element);
      if (c !== -1) {
        return { r: r, c: c };
      }
    }
    return null;
  }

  function focusAt(r, c) {
    r = Math.max(0, Math.min(rows.length - 1, r));
    c = Math.max(0, Math.min(rows[r].length - 1, c));
    var target = rows[r][c];
    rows.forEach(function (row) {
      row.forEach(function (button) {
        button.tabIndex = button === target ? 0 : -1;
      });
    });
    target.focus();
  }

  form.addEventListener("keydown", function (event) {
    var at = positionOf(event.target);
    if (!at || event.altKey || event.metaKey) {
      return;
    }
    var last = rows[at.r].length - 1;
    switch (event.key) {
      case "ArrowRight": focusAt(at.r, at.c + 1); break;
      case "ArrowLeft": focusAt(at.r, at.c - 1); break;
      case "ArrowDown": focusAt(at.r + 1, at.c); break;
      case "ArrowUp": focusAt(at.r - 1, at.c); break;
      case "Home": focusAt(event.ctrlKey ? 0 : at.r, 0); break;
      case "End": focusAt(event.ctrlKey ? rows.length - 1 : at.r, last); break;
      default:
        if (KEYS[event.key] && event.target.classList.contains("cell-button") && !event.ctrlKey) {
          change(event.target.closest("td"), KEYS[event.key]);
          break;
        }
        return;
    }
    event.preventDefault();
  });

  form.addEventListener("focusin", function (event) {
    if (positionOf(event.target)) {
      rows.forEach(function (row) {
        row.forEach(function (button) {
          button.tabIndex = button === event.target ? 0 : -1;
        });
      });
    }
  });

  // --- Saving, and retrying until saved ---

  function schedule(delayMs) {
    window.clearTimeout(timer);
    timer = window.setTimeout(flush, delayMs);
  }

  function say(text, problem) {
    status.classList.toggle("is-problem", Boolean(problem));
    if (text !== lastMessage) {
      status.textContent = text;
      lastMessage = text;
    }
  }

  function report(nextTry) {
    var waiting = Object.keys(pending).length;
    retryButton.hidden = !(waiting && (failures || signedOut));
    if (signedOut && waiting) {
      say(message("signed-out", { n: waiting }), true);
      var link = document.createElement("a");
      link.href = form.getAttribute("data-login-url");
      link.textContent = status.getAttribute("data-msg-login");
      status.appendChild(document.createTextNode(" "));
      status.appendChild(link);
      lastMessage = "";
    } else if (failures && waiting) {
      say(message("retry", { n: waiting, s: nextTry }), true);
    } else if (waiting || inFlight) {
      say(""); // the cells show what is on its way; "saved" is said once it is
    } else {
      say(refusal || message("saved"), Boolean(refusal));
    }
  }

  function refreshToken() {
    // A refused token usually means the session ended: fetch the page again for a fresh one.
    return fetch(window.location.href, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
      if (response.type === "opaqueredirect" || !response.ok) {
        signedOut = response.type === "opaqueredirect";
        return;
      }
      return response.text().then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector('meta[name="csrf-token"]');
        if (fresh && tokenMeta) {
          tokenMeta.setAttribute("content", fresh.getAttribute("content"));
        }
      });
    });
  }

  function settle(saved, refused, batch) {
    var sentSeq = {};
    batch.forEach(function (cell) {
      sentSeq[key(cell.learner, cell.competence)] = cell.seq;
    });
    saved.forEach(function (cell) {
      var k = key(cell.learner, cell.competence);
      var td = byKey[k];
      if (pending[k] && pending[k].seq === sentSeq[k]) {
        delete pending[k];
      }
      if (td) {
        td.setAttribute("data-level", cell.level);
        if (cell.here) {
          td.classList.add("is-here");
        }
        if (!pending[k]) {
          td.classList.remove("is-pending", "is-failed");
        }
      }
    });
    refused.forEach(function (cell) {
      var k = key(cell.learner, cell.competence);
      var td = byKey[k];
      if (pending[k] && pending[k].seq === sentSeq[k]) {
        delete pending[k];
      }
      if (td && !pending[k]) {
        show(td, td.getAttribute("data-level") || "");
        td.classList.remove("is-pending");
        td.classList.add("is-failed");
      }
    });
    if (refused.length) {
      refusal = message("refused", { message: refused[0].message });
    }
  }

  function flush() {
    if (inFlight) {
      return;
    }
    var batch = Object.keys(pending).map(function (k) {
      return pending[k];
    });
    if (!batch.length) {
      report();
      return;
    }
    inFlight = true;
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": tokenMeta ? tokenMeta.getAttribute("content") : ""
      },
      body: JSON.stringify({
        cells: batch.map(function (cell) {
          return { learner: cell.learner, competence: cell.competence, level: cell.level };
        })
      })
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401) {
        signedOut = true;
        throw new Error("signed out");
      }
      if (response.status === 400) {
        return refreshToken().then(function () {
          throw new Error("refused request");
        });
      }
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    }).then(function (data) {
      document.dispatchEvent(new Event("ticketnet:activity"));  // the server saw us: the session lives on
      failures = 0;
      signedOut = false;
      settle(data.saved || [], data.refused || [], batch);
      return 0;
    }).catch(function () {
      failures += 1;
      batch.forEach(function (cell) {
        var td = byKey[key(cell.learner, cell.competence)];
        if (td && pending[key(cell.learner, cell.competence)]) {
          td.classList.add("is-failed");
        }
      });
      return DELAYS[Math.min(failures, DELAYS.length) - 1];
    }).then(function (waitSeconds) {
      inFlight = false;
      store();
      if (Object.keys(pending).length) {
        schedule(waitSeconds * 1000);
      }
      report(waitSeconds);
    });
  }

  // --- Start ---

  build();
  document.querySelectorAll(".js-only").forEach(function (element) {
    element.hidden = false;
  });
  form.querySelector(".grid-submit-row").hidden = true;
  retryButton.addEventListener("click", function () {
    failures = 0;
    schedule(0);
  });
  window.addEventListener("online", function () {
    schedule(0);
  });
  window.addEventListener("beforeunload", function (event) {
    if (Object.keys(pending).length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Levels left unsaved by an earlier visit (same workshop, same person) come back and are sent again.
  pending = load();
  Object.keys(pending).forEach(function (k) {
    var cell = pending[k];
    seq = Math.max(seq, cell.seq || 0);
    if (byKey[k]) {
      show(byKey[k], cell.level);
      byKey[k].classList.add("is-pending");
    }
  });
  if (Object.keys(pending).length) {
    schedule(0);
  }
}());
