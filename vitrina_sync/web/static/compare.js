// Compare page: one zoom/pan state shared by every image layer (so source and output move
// together), slider overlay, tap-to-switch (phones: one picture, a tap shows the other), mask
// edge / halo band toggles, variants, keyboard shortcuts.
(function () {
  "use strict";
  const stage = document.getElementById("stage");
  if (!stage) return;
  const layers = Array.from(stage.querySelectorAll(".layer"));
  const viewports = Array.from(stage.querySelectorAll(".viewport"));
  const output = document.getElementById("output");
  const slider = document.getElementById("slider");
  const view = { s: 1, x: 0, y: 0 };

  function apply() {
    const t = "translate(" + view.x + "px," + view.y + "px) scale(" + view.s + ")";
    layers.forEach(function (l) { l.style.transform = t; });
  }
  function zoomAt(factor, cx, cy) {
    const s = Math.min(64, Math.max(0.2, view.s * factor));
    factor = s / view.s;
    view.x = cx - (cx - view.x) * factor;
    view.y = cy - (cy - view.y) * factor;
    view.s = s;
    apply();
  }
  function centre() {
    const r = viewports[viewports.length - 1].getBoundingClientRect();
    return [r.width / 2, r.height / 2];
  }
  function fit() { view.s = 1; view.x = 0; view.y = 0; apply(); }
  function oneToOne() {
    // The layer shows the output "contained" in the viewport; 1:1 = undo that scale.
    if (!output || !output.naturalWidth) return;
    const r = output.parentElement.parentElement.getBoundingClientRect();
    const contain = Math.min(r.width / output.naturalWidth, r.height / output.naturalHeight);
    fit();
    const c = centre();
    zoomAt(1 / contain, c[0], c[1]);
  }
  function zoom(kind) {
    const c = centre();
    if (kind === "in") zoomAt(1.5, c[0], c[1]);
    else if (kind === "out") zoomAt(1 / 1.5, c[0], c[1]);
    else if (kind === "one") oneToOne();
    else fit();
  }

  viewports.forEach(function (vp) {
    vp.addEventListener("wheel", function (e) {
      e.preventDefault();
      const r = vp.getBoundingClientRect();
      zoomAt(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    let drag = null;
    vp.addEventListener("pointerdown", function (e) {
      drag = { x: e.clientX - view.x, y: e.clientY - view.y, x0: e.clientX, y0: e.clientY };
      vp.setPointerCapture(e.pointerId);
      vp.classList.add("dragging");
    });
    vp.addEventListener("pointermove", function (e) {
      if (!drag) return;
      view.x = e.clientX - drag.x;
      view.y = e.clientY - drag.y;
      apply();
    });
    function end() { drag = null; vp.classList.remove("dragging"); }
    vp.addEventListener("pointerup", function (e) {
      // a tap (no drag) in tap mode shows the other picture
      const still = drag && Math.abs(e.clientX - drag.x0) < 8 && Math.abs(e.clientY - drag.y0) < 8;
      end();
      if (still && stage.dataset.mode === "tap") swapTap();
    });
    vp.addEventListener("pointercancel", end);
    vp.addEventListener("dblclick", fit);
  });

  // Slider: the source under the output, the output clipped from the left edge to the handle.
  const caption = document.getElementById("output-caption");
  let showingSource = false;
  function swapTap(toSource) {
    showingSource = toSource === undefined ? !showingSource : toSource;
    if (output) output.hidden = showingSource;
    const name = showingSource ? stage.dataset.source : stage.dataset.output;
    if (caption) caption.textContent = stage.dataset.mode === "tap" ? name + " · " + stage.dataset.tap : stage.dataset.output;
  }
  function setMode(mode) {
    stage.dataset.mode = mode;
    const under = stage.querySelector("img.under");
    if (under) under.hidden = mode === "side";
    slider.hidden = mode !== "slider";
    if (output) output.style.clipPath = mode === "slider" ? "inset(0 0 0 " + slider.value + "%)" : "";
    swapTap(false);
    document.querySelectorAll("[data-view]").forEach(function (b) {
      b.classList.toggle("on", b.dataset.view === mode);
    });
  }
  slider.addEventListener("input", function () { setMode("slider"); });
  document.querySelectorAll("[data-view]").forEach(function (b) {
    b.addEventListener("click", function () { setMode(b.dataset.view); });
  });
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () { zoom(b.dataset.zoom); });
  });

  // Overlays are fetched only when first shown: most reviews never open them.
  function toggle(id, on) {
    const img = document.getElementById(id);
    if (!img) return;
    if (on && !img.getAttribute("src")) img.src = img.dataset.src;
    img.hidden = !on;
  }
  [["t-edge", "ov-edge"], ["t-halo", "ov-halo"]].forEach(function (pair) {
    const box = document.getElementById(pair[0]);
    if (box) box.addEventListener("change", function () { toggle(pair[1], box.checked); });
  });
  function flip(boxId) {
    const box = document.getElementById(boxId);
    if (box && !box.disabled) { box.checked = !box.checked; box.dispatchEvent(new Event("change")); }
  }

  const variantSelect = document.getElementById("variant");
  document.querySelectorAll("[data-variant]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (output) output.src = b.dataset.full;
      if (variantSelect) variantSelect.value = b.dataset.variant;
      document.querySelectorAll("[data-variant]").forEach(function (o) { o.classList.toggle("on", o === b); });
    });
  });

  function submit(id) {
    const form = document.getElementById(id);
    if (form) form.requestSubmit();
  }
  // The decision bar's Reject (phones) submits the same form: ask for a reason first there too.
  const rejectForm = document.getElementById("f-reject");
  if (rejectForm) rejectForm.addEventListener("submit", function (e) {
    const reason = document.getElementById("reason");
    const note = document.getElementById("note");
    if (!reason.value && !note.value.trim()) {
      e.preventDefault();
      reason.scrollIntoView({ block: "center" });
      reason.focus();
    }
  });
  if (window.matchMedia && window.matchMedia("(max-width: 600px)").matches) setMode("tap");
  function reject() {
    const reason = document.getElementById("reason");
    const note = document.getElementById("note");
    if (reason.value || note.value.trim()) submit("f-reject");
    else reason.focus();  // a rejection needs a reason: ask for it first
  }
  function go(id) {
    const link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }
  const keys = {
    a: function () { submit("f-approve"); }, r: reject, g: function () { submit("f-regen"); },
    ArrowLeft: function () { go("prev"); }, ArrowRight: function () { go("next"); },
    "+": function () { zoom("in"); }, "=": function () { zoom("in"); }, "-": function () { zoom("out"); },
    "0": fit, s: function () { setMode(stage.dataset.mode === "slider" ? "side" : "slider"); },
    e: function () { flip("t-edge"); }, h: function () { flip("t-halo"); },
  };
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" && e.target.type !== "checkbox" && e.target.type !== "range" || tag === "textarea" || tag === "select") {
      if (e.key === "Escape") e.target.blur();
      if (e.key === "Enter" && tag === "select" && e.target.id === "reason") { e.preventDefault(); reject(); }
      return;
    }
    const action = keys[e.key];
    if (action) { e.preventDefault(); action(); }
  });
})();
