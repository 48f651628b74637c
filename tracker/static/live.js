/* Live updates: poll the page's JSON endpoint and update text, tables, links and the chart in place.
   Data is only ever written with textContent and setAttribute, never parsed as HTML.
   No words of its own: what it says comes from the page (data-say-* on <body>) and the times
   from the server (the JSON's "stamp"), both in the reader's language and time zone. */
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var MAX_DELAY = 60000;
  var body = document.body;
  var url = body.dataset.live;
  if (!url) { return; }
  var base = Number(body.dataset.poll) || 3000;
  var idle = base * 5;
  var stopped = false;
  var state = document.querySelector("[data-live-state]");

  /* A sentence of the page's, {name} placeholders filled in. */
  function words(key, values) {
    var text = body.dataset[key] || "";
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }

  function say(text, cls) {
    if (!state) { return; }
    state.textContent = text;
    state.className = "live" + (cls ? " " + cls : "");
  }

  function setText(el, value) {
    if (value !== null && typeof value === "object") {
      el.textContent = value.t;
      if (value.cls) { el.className = value.cls; } else { el.removeAttribute("class"); }
    } else {
      el.textContent = value === null || value === undefined ? "" : String(value);
    }
  }

  function makeCell(c) {
    var td = document.createElement("td");
    var inner;
    if (c.pre) {
      inner = document.createElement("pre");
    } else if (c.href) {
      inner = document.createElement("a");
      inner.setAttribute("href", c.href);
    } else if (c.cls) {
      inner = document.createElement("span");
    }
    if (!inner) {
      td.textContent = c.t;
      return td;
    }
    inner.textContent = c.t;
    if (c.cls) { inner.className = c.cls; }
    if (c.title) { inner.setAttribute("title", c.title); }
    td.appendChild(inner);
    return td;
  }

  function fillTable(table, rows) {
    var tbody = table.tBodies[0];
    var out = [];
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (c) { tr.appendChild(makeCell(c)); });
      out.push(tr);
    });
    if (!out.length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      tr.className = "empty";
      td.colSpan = Number(table.dataset.cols) || 1;
      td.textContent = table.dataset.empty || "";
      tr.appendChild(td);
      out.push(tr);
    }
    tbody.replaceChildren.apply(tbody, out);
  }

  function svgEl(name, attrs, text) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { el.textContent = text; }
    return el;
  }

  function drawChart(svg, ch) {
    var grid = svgEl("g", {"class": "grid-lines"});
    ch.grid.forEach(function (g) {
      grid.appendChild(svgEl("line", {x1: ch.left, x2: ch.right, y1: g.y, y2: g.y}));
      grid.appendChild(svgEl("text", {"class": "axis", x: ch.left - 6, y: g.y + 4, "text-anchor": "end"}, g.t));
    });
    var bars = svgEl("g", {"class": "bars"});
    ch.bars.forEach(function (b) {
      var rect = svgEl("rect", {"class": b.cls, x: b.x, y: b.y, width: b.w, height: b.h});
      rect.appendChild(svgEl("title", {}, b.title));
      bars.appendChild(rect);
    });
    var labels = svgEl("g", {"class": "x-labels"});
    ch.labels.forEach(function (l) {
      labels.appendChild(svgEl("text", {"class": "axis", x: l.x, y: l.y, "text-anchor": "middle"}, l.t));
    });
    svg.setAttribute("viewBox", "0 0 " + ch.w + " " + ch.h);
    svg.replaceChildren(grid, bars, labels);
    var empty = document.querySelector("[data-chart-empty]");
    if (empty) { empty.hidden = !ch.empty; }
  }

  /* A one-line stacked bar (an upload's progress): one rect per status group. */
  function drawBar(svg, segments) {
    var height = svg.viewBox.baseVal ? svg.viewBox.baseVal.height : 20;
    svg.replaceChildren.apply(svg, segments.map(function (s) {
      var rect = svgEl("rect", {"class": s.cls, x: s.x, y: 0, width: s.w, height: height});
      rect.appendChild(svgEl("title", {}, s.title));
      return rect;
    }));
  }

  function apply(data) {
    var text = data.text || {};
    document.querySelectorAll("[data-text]").forEach(function (el) {
      var key = el.dataset.text;
      if (Object.prototype.hasOwnProperty.call(text, key)) { setText(el, text[key]); }
    });
    var tables = data.tables || {};
    document.querySelectorAll("table[data-table]").forEach(function (table) {
      var rows = tables[table.dataset.table];
      if (Array.isArray(rows)) { fillTable(table, rows); }
    });
    var links = data.links || {};
    document.querySelectorAll("[data-link]").forEach(function (a) {
      var href = links[a.dataset.link];
      if (href) { a.setAttribute("href", href); a.hidden = false; } else { a.hidden = true; }
    });
    var svg = document.querySelector("svg[data-chart]");
    if (svg && data.chart) { drawChart(svg, data.chart); }
    var bar = document.querySelector("svg[data-bar]");
    if (bar && Array.isArray(data.bar)) { drawBar(bar, data.bar); }
  }

  /* One polling loop per endpoint: the page's live data every few seconds, and for long
     ranges its heavier details at most twice a minute. */
  function poller(endpoint, fast, slow, counted) {
    var delay = fast;
    var timer = null;
    var busy = false;

    function schedule(ms) {
      clearTimeout(timer);
      if (!stopped && document.visibilityState === "visible") { timer = setTimeout(tick, ms); }
    }

    function tick() {
      if (busy) { return; }
      busy = true;
      var started = performance.now();
      fetch(endpoint, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
        .then(function (resp) {
          if (resp.status === 401) {
            stopped = true;
            say(words("saySignedOut"), "failing");
            return null;
          }
          if (!resp.ok) { throw new Error("HTTP " + resp.status); }
          return resp.json();
        })
        .then(function (data) {
          if (!data) { return; }
          apply(data);
          var took = performance.now() - started;
          // A slow answer means a busy server: wait several times as long before asking again.
          delay = Math.min(MAX_DELAY, Math.max(data.active === false ? slow : fast, took * 5));
          if (counted) {
            body.dataset.liveUpdates = String(Number(body.dataset.liveUpdates || 0) + 1);
            say(words("sayUpdated", {time: data.stamp || ""}));
          }
        })
        .catch(function () {
          delay = Math.min(MAX_DELAY, Math.max(delay, fast) * 2);
          say(words("sayFailed", {seconds: Math.round(delay / 1000)}), "failing");
        })
        .then(function () {
          busy = false;
          schedule(delay);
        });
    }

    return {
      start: function (ms) { schedule(ms); },
      stop: function () { clearTimeout(timer); }
    };
  }

  var loops = [poller(url, base, idle, true)];
  if (body.dataset.details) { loops.push(poller(body.dataset.details, 30000, 30000, false)); }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      say(words("sayOn"));
      loops.forEach(function (loop) { loop.start(0); });
    } else {
      loops.forEach(function (loop) { loop.stop(); });
      say(words("sayPaused"), "paused");
    }
  });
  loops[0].start(base);
  if (loops[1]) { loops[1].start(0); }
}());
