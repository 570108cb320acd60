// Touch-up brush: strokes painted over the source (remove = background, keep = product), kept in
// SOURCE pixels (the panel's data-width/height: the source as processed, whatever size the browser
// shows it at), undo/clear, and sent as JSON with the CSRF token in X-CSRFToken. Every word shown
// comes from the template's data-msg-* attributes (translated there).
(function () {
  "use strict";
  const panel = document.getElementById("touchup");
  if (!panel) return;
  const canvas = document.getElementById("tu-canvas");
  const img = document.getElementById("tu-source");
  const size = document.getElementById("tu-size");
  const sizeOut = document.getElementById("tu-size-out");
  const status = document.getElementById("tu-status");
  const buttons = { undo: "tu-undo", clear: "tu-clear", send: "tu-send" };
  Object.keys(buttons).forEach(function (k) { buttons[k] = document.getElementById(buttons[k]); });
  const W = Number(panel.dataset.width), H = Number(panel.dataset.height);
  const MAX_STROKES = 200, MAX_POINTS = 2000, MIN_STEP = 2;  // MIN_STEP: screen px between points
  const strokes = JSON.parse(panel.dataset.strokes || "[]");
  const g = canvas.getContext("2d");
  let kind = "remove", current = null, sending = false;

  function msg(name) { return panel.dataset["msg" + name] || ""; }
  function say(text) { status.textContent = text; }
  function round(v) { return Math.round(v * 100) / 100; }
  function sourcePx() { return W / (canvas.getBoundingClientRect().width || W); }

  function refresh() {
    buttons.undo.disabled = sending || !strokes.length;
    buttons.clear.disabled = sending || !strokes.length;
    buttons.send.disabled = sending || !strokes.length;
    if (!sending) say(strokes.length ? msg("Count").replace("{n}", strokes.length) : "");
  }
  function paint(s) {
    g.strokeStyle = g.fillStyle = s.kind === "remove" ? "rgba(220, 38, 38, .55)" : "rgba(22, 163, 74, .55)";
    g.lineWidth = s.width;
    g.lineCap = g.lineJoin = "round";
    g.beginPath();
    if (s.points.length === 1) {
      g.arc(s.points[0][0], s.points[0][1], s.width / 2, 0, 2 * Math.PI);
      g.fill();
      return;
    }
    s.points.forEach(function (p, i) { if (i) g.lineTo(p[0], p[1]); else g.moveTo(p[0], p[1]); });
    g.stroke();
  }
  function draw() {
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.setTransform(canvas.width / W, 0, 0, canvas.height / H, 0, 0);  // draw in source pixels
    strokes.forEach(paint);
  }
  function fitCanvas() {
    const r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(r.width * dpr));
    canvas.height = Math.max(1, Math.round(r.height * dpr));
    draw();
  }
  function at(e) {
    const r = canvas.getBoundingClientRect();
    const x = Math.min(W, Math.max(0, (e.clientX - r.left) * W / r.width));
    const y = Math.min(H, Math.max(0, (e.clientY - r.top) * H / r.height));
    return [round(x), round(y)];
  }
  function begin(point) {
    if (strokes.length >= MAX_STROKES) { say(msg("Full")); return null; }
    const width = round(Math.min(1000, Math.max(1, Number(size.value) * sourcePx())));
    const s = { kind: kind, width: width, points: [point] };
    strokes.push(s);
    return s;
  }

  canvas.addEventListener("pointerdown", function (e) {
    if (sending || e.button > 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    current = begin(at(e));
    draw();
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!current) return;
    const p = at(e), last = current.points[current.points.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) < MIN_STEP * sourcePx()) return;
    if (current.points.length >= MAX_POINTS) {  // a very long stroke goes on as a new one
      current = begin(last);
      if (!current) return;
    }
    current.points.push(p);
    draw();
  });
  function end() { if (current) { current = null; refresh(); } }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  panel.querySelectorAll("[data-tu-kind]").forEach(function (b) {
    b.addEventListener("click", function () {
      kind = b.dataset.tuKind;
      panel.querySelectorAll("[data-tu-kind]").forEach(function (o) {
        o.classList.toggle("on", o === b);
        o.setAttribute("aria-pressed", String(o === b));
      });
    });
  });
  size.addEventListener("input", function () { sizeOut.value = size.value; });
  const showCut = document.getElementById("tu-show-cut"), cut = document.getElementById("tu-cut");
  if (showCut && cut) showCut.addEventListener("change", function () { cut.hidden = !showCut.checked; });
  if (cut) cut.addEventListener("error", function () { cut.hidden = true; if (showCut) showCut.disabled = true; });
  function undo() { strokes.pop(); draw(); refresh(); }
  buttons.undo.addEventListener("click", undo);
  buttons.clear.addEventListener("click", function () { strokes.length = 0; draw(); refresh(); });
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "z" && strokes.length && !sending) { e.preventDefault(); undo(); }
  });

  buttons.send.addEventListener("click", function () {
    if (!strokes.length) { say(msg("Empty")); return; }
    sending = true;
    refresh();
    say(msg("Sending"));
    fetch(panel.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": panel.dataset.csrf },
      body: JSON.stringify({ fingerprint: panel.dataset.fp, strokes: strokes }),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          panel.dataset.sent = "1";
          say(body.message || "");
          return;  // the row is being cut again: this page shows an old picture from now on
        }
        sending = false;
        refresh();
        say(msg("Failed") + " " + (body.error || response.status));
      });
    }).catch(function () { sending = false; refresh(); say(msg("Offline")); });
  });

  if (img.complete) fitCanvas(); else img.addEventListener("load", fitCanvas);
  window.addEventListener("resize", fitCanvas);
  refresh();
})();
