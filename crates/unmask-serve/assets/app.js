// unmask's web page: photos in, faces found and unmasked by the server (POST /api/unmask),
// each face's mask shown and editable with a brush, per-face on/off, before/after compare,
// PNG download. No framework and no build step: the server embeds this file.
"use strict";

const $ = (id) => document.getElementById(id);
const view = $("view");
const ctx = view.getContext("2d");

const photos = [];   // every photo dropped or chosen, in order
let current = null;  // the photo on the stage
let selected = null; // the index of the face being edited, or null
let comparing = false;
let tool = "brush";
let nextId = 1;
let busy = false;    // a request is in flight (one at a time: the server runs one photo at a time anyway)

// ---- photos in -------------------------------------------------------------------------

$("files").addEventListener("change", (e) => { addFiles(e.target.files); e.target.value = ""; });
document.addEventListener("dragover", (e) => { e.preventDefault(); document.body.classList.add("dragging"); });
document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) document.body.classList.remove("dragging"); });
document.addEventListener("drop", (e) => {
  e.preventDefault();
  document.body.classList.remove("dragging");
  addFiles(e.dataTransfer.files);
});

function addFiles(files) {
  for (const file of files) {
    const photo = {
      id: nextId++, file, name: file.name, state: "waiting", error: null,
      original: null, result: null, resultImage: null,
      masks: [],            // per face: {canvas, x, y} over its crop's part of the photo, white = fill
      autoMasks: [],        // per face: the segmenter's mask (to undo edits)
      retries: 0,
      edited: new Set(),    // faces whose mask the user changed
      choices: new Map(),   // face -> "on" | "off"
      dirty: true,          // needs a (re-)run
    };
    photos.push(photo);
    loadImage(URL.createObjectURL(file)).then((img) => { photo.original = img; renderList(); if (photo === current) draw(); })
      .catch(() => { photo.original = null; });
    if (!current) show(photo);
  }
  renderList();
  pump();
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the browser cannot show this image"));
    img.src = src;
  });
}

// ---- talking to the server -------------------------------------------------------------

// Runs the next photo that needs it, one at a time.
async function pump() {
  if (busy) return;
  const photo = photos.find((p) => p.dirty);
  if (!photo) { setStatus(photos.length ? "Ready." : "Drop photos anywhere, or choose them."); return; }
  busy = true;
  photo.dirty = false;
  photo.state = "running";
  renderList();
  updateToolbar();
  try {
    await run(photo);
    photo.state = "done";
    setStatus(`${photo.name}: ${summary(photo.result)}`);
    photo.retries = 0;
  } catch (err) {
    photo.state = "error";
    photo.error = err.message;
    setStatus(`${photo.name}: ${err.message}`, true);
    // A full server (another client) is worth a few more tries; the user can click to retry.
    if (err.status === 503 && photo.retries < 5) {
      photo.retries += 1;
      setTimeout(() => { photo.dirty = true; pump(); }, 1500 * photo.retries);
    }
  } finally {
    busy = false;
    $("progress").hidden = true;
    renderList();
    if (photo === current) { renderFaces(); draw(); }
    updateToolbar();
    pump();
  }
}

function summary(result) {
  const n = result.faces_found;
  if (n === 0) return "no face found; the photo is unchanged.";
  return `${n} face${n > 1 ? "s" : ""} found, ${result.faces_unmasked} unmasked.`;
}

async function run(photo) {
  const form = new FormData();
  form.append("image", photo.file, photo.file.name);
  const job = `photo${photo.id}-${Date.now()}`;
  form.append("job", job);
  const on = [], off = [];
  photo.choices.forEach((choice, face) => (choice === "on" ? on : off).push(face));
  if (on.length) form.append("on", on.join(","));
  if (off.length) form.append("off", off.join(","));
  // Each edited face sends its own mask: in a group photo one face's crop takes in its
  // neighbours, whose strokes must not become its hole.
  for (const i of photo.edited) form.append(`face_mask_${i}`, await faceMask(photo, i), `face${i}.png`);
  setStatus(`${photo.name}: uploading…`);
  const poll = { finished: false };
  poll.timer = setInterval(() => showProgress(photo, job, poll), 250);
  let response, body;
  try {
    response = await fetch("/api/unmask", { method: "POST", body: form });
    body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  } finally {
    poll.finished = true;
    clearInterval(poll.timer);
  }
  if (!response.ok) {
    const err = new Error(body.error || `${response.status} ${response.statusText}`);
    err.status = response.status;
    throw err;
  }
  photo.result = body;
  photo.resultImage = await loadImage(body.image);
  await takeMasks(photo, body);
}

async function showProgress(photo, job, poll) {
  const response = await fetch(`/api/progress?job=${encodeURIComponent(job)}`).catch(() => null);
  if (!response || !response.ok || poll.finished) return;
  const s = await response.json();
  if (poll.finished) return; // the reply came first: its status stands
  const bar = $("progress");
  bar.hidden = false;
  if (s.state === "queued") {
    bar.removeAttribute("value");
    setStatus(`${photo.name}: waiting (${s.ahead} photo${s.ahead === 1 ? "" : "s"} ahead)…`);
  } else if (s.total) {
    bar.max = s.total;
    bar.value = s.done;
    setStatus(`${photo.name}: ${s.step}…`);
  }
}

// Keeps the user's edited masks; every other face takes the mask the server used.
// Each face's mask covers only the part of the photo its aligned crop does (all the server
// reads for it), so memory grows with the faces' size, not the photo's.
async function takeMasks(photo, body) {
  for (const face of body.faces) {
    const i = face.index;
    if (photo.edited.has(i) && photo.masks[i]) continue;
    if (!face.mask) { photo.masks[i] = null; continue; }
    const { x, y, width, height } = face.mask;
    const canvas = blankCanvas(width, height);
    paintMask(canvas, await loadImage(face.mask.image));
    photo.masks[i] = { canvas, x, y };
    if (face.mask_source === "segmenter") photo.autoMasks[i] = { canvas: copyCanvas(canvas), x, y };
  }
  photo.masks.length = body.faces.length;
}

function blankCanvas(w, h) {
  const c = document.createElement("canvas");
  c.width = w; c.height = h;
  return c;
}

function copyCanvas(src) {
  const c = blankCanvas(src.width, src.height);
  c.getContext("2d").drawImage(src, 0, 0);
  return c;
}

// A black-and-white mask image drawn as white on transparent.
function paintMask(canvas, img) {
  const tmp = blankCanvas(img.width, img.height);
  const t = tmp.getContext("2d");
  t.drawImage(img, 0, 0);
  const data = t.getImageData(0, 0, img.width, img.height);
  for (let k = 0; k < data.data.length; k += 4) {
    data.data[k + 3] = data.data[k];
    data.data[k] = data.data[k + 1] = data.data[k + 2] = 255;
  }
  t.putImageData(data, 0, 0);
  canvas.getContext("2d").drawImage(tmp, 0, 0);
}

// One face's mask as a PNG at the photo's size (white = fill).
function faceMask(photo, i) {
  const { width, height } = photo.result;
  const c = blankCanvas(width, height);
  const g = c.getContext("2d");
  g.fillStyle = "#000";
  g.fillRect(0, 0, width, height);
  const m = photo.masks[i];
  if (m) g.drawImage(m.canvas, m.x, m.y);
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

// ---- what is shown ---------------------------------------------------------------------

function setStatus(text, error = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", error);
}

function show(photo) {
  current = photo;
  selected = null;
  view.style.transform = "";
  updateCursor();
  renderList();
  renderFaces();
  updateToolbar();
  draw();
}

function renderList() {
  const list = $("photos");
  list.replaceChildren(...photos.map((p) => {
    const li = document.createElement("li");
    li.className = (p === current ? "current " : "") + p.state;
    li.dataset.photo = p.id;
    const img = document.createElement("img");
    img.alt = "";
    if (p.resultImage || p.original) img.src = (p.resultImage || p.original).src;
    const text = document.createElement("div");
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = p.name;
    const state = document.createElement("div");
    state.className = "state";
    state.textContent = p.state === "done" ? summary(p.result)
      : p.state === "error" ? `${p.error} (click to retry)` : p.state === "running" ? "working…" : "waiting";
    text.append(name, state);
    li.append(img, text);
    li.addEventListener("click", () => {
      show(p);
      if (p.state === "error") { p.retries = 0; p.dirty = true; p.state = "waiting"; renderList(); pump(); }
    });
    return li;
  }));
}

function renderFaces() {
  const list = $("faces");
  const faces = current && current.result ? current.result.faces : [];
  list.replaceChildren(...faces.map((face) => {
    const i = face.index;
    const li = document.createElement("li");
    li.dataset.face = i;
    if (i === selected) li.classList.add("selected");
    const head = document.createElement("div");
    head.className = "head";
    const title = document.createElement("span");
    title.textContent = `Face ${i + 1} · score ${face.score.toFixed(2)}`;
    const toggle = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = face.unmasked;
    box.className = "unmask-toggle";
    box.addEventListener("click", (e) => e.stopPropagation());
    box.addEventListener("change", () => {
      current.choices.set(i, box.checked ? "on" : "off");
      rerun();
    });
    toggle.append(box, " unmask");
    head.append(title, toggle);
    const reason = document.createElement("div");
    reason.className = "reason";
    reason.textContent = (face.unmasked ? "Unmasked: " : "Left alone: ") + face.reason;
    li.append(head, reason);
    if (current.edited.has(i)) {
      const edited = document.createElement("div");
      edited.className = "edited";
      edited.textContent = "mask edited by hand";
      li.append(edited);
    }
    li.addEventListener("click", () => select(i === selected ? null : i));
    return li;
  }));
}

function select(face) {
  selected = face;
  renderFaces();
  updateToolbar();
  zoomTo(face);
  updateCursor();
  draw();
}

// Picking a face zooms to it (faces are small in most photos); letting go zooms out. The
// canvas keeps the photo's resolution: only its CSS transform changes, and the pointer is
// mapped through its on-screen rectangle, so painting works at any zoom.
function zoomTo(face) {
  view.style.transform = "";
  const info = face === null || !current || !current.result ? null : current.result.faces[face];
  if (!info || view.hidden) return;
  const r = view.getBoundingClientRect();
  const stage = $("stage").getBoundingClientRect();
  const k = r.width / view.width; // CSS px per photo px, unzoomed
  const b = info.box;
  const side = 2.2 * Math.max(b.width, b.height) * k;
  const scale = Math.min(8, Math.max(1, 0.9 * Math.min(stage.width, stage.height) / side));
  if (scale <= 1) return;
  const cx = (b.x + b.width / 2) * k, cy = (b.y + b.height / 2) * k;
  const x = stage.left + stage.width / 2 - r.left - cx * scale;
  const y = stage.top + stage.height / 2 - r.top - cy * scale;
  view.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
}

// The pointer shows the brush's size while a face is picked.
function updateCursor() {
  if (selected === null) { view.style.cursor = "pointer"; return; }
  const d = Math.min(120, Math.max(4, Number($("brush-size").value)));
  const c = d / 2 + 1, size = d + 2;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">`
    + `<circle cx="${c}" cy="${c}" r="${d / 2}" fill="none" stroke="black" stroke-width="2"/>`
    + `<circle cx="${c}" cy="${c}" r="${d / 2}" fill="none" stroke="white" stroke-width="1"/></svg>`;
  view.style.cursor = `url("data:image/svg+xml,${encodeURIComponent(svg)}") ${c} ${c}, crosshair`;
}
$("brush-size").addEventListener("input", updateCursor);

function updateToolbar() {
  const ready = !!(current && current.result);
  $("compare").disabled = !ready;
  $("rerun").disabled = busy || !ready || selected === null;
  $("reset-mask").disabled = !ready || selected === null || !current.edited.has(selected);
  const link = $("download");
  link.classList.toggle("disabled", !ready);
  if (ready) {
    link.href = current.result.image;
    link.download = current.name.replace(/\.[^.]*$/, "") + "-unmasked.png";
  } else {
    link.removeAttribute("href");
  }
}

const COLOURS = { unmasked: [58, 99, 216], left: [230, 140, 0] };

// The stage: the result (or the original while comparing), masks and boxes on top.
function draw() {
  const photo = current;
  const base = photo && (comparing ? photo.original : photo.resultImage || photo.original);
  $("empty").hidden = !!base;
  view.hidden = !base;
  $("comparing").hidden = !comparing || !base;
  if (!base) return;
  if (view.width !== base.naturalWidth || view.height !== base.naturalHeight) {
    view.width = base.naturalWidth;
    view.height = base.naturalHeight;
  }
  ctx.globalAlpha = 1;
  ctx.drawImage(base, 0, 0);
  if (comparing || !photo.result || !$("show-masks").checked) return;
  const scale = view.width / Math.max(1, view.getBoundingClientRect().width);
  photo.result.faces.forEach((face) => {
    const colour = COLOURS[face.unmasked ? "unmasked" : "left"];
    const mask = photo.masks[face.index];
    if (mask) {
      ctx.globalAlpha = face.index === selected ? 0.5 : 0.25;
      ctx.drawImage(tinted(mask.canvas, colour), mask.x, mask.y);
    }
    ctx.globalAlpha = 1;
    const b = face.box;
    ctx.lineWidth = Math.max(2, 2 * scale);
    ctx.strokeStyle = `rgb(${colour})`;
        if (face.index === selected) ctx.setLineDash([8 * scale, 4 * scale]);
    ctx.strokeRect(b.x, b.y, b.width, b.height);
    ctx.setLineDash([]);
    if (face.index === selected) {
      // Where painting counts: the crop the models see.
      ctx.lineWidth = Math.max(1, scale);
      ctx.strokeStyle = "rgba(255,255,255,0.8)";
      ctx.setLineDash([3 * scale, 3 * scale]);
      ctx.beginPath();
      face.crop.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.font = `${Math.round(14 * scale)}px system-ui, sans-serif`;
    const label = `${face.index + 1}${face.unmasked ? " ✓" : ""}`;
    const tw = ctx.measureText(label).width + 8 * scale;
    ctx.fillStyle = `rgb(${colour})`;
    ctx.fillRect(b.x, b.y - 18 * scale, tw, 18 * scale);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, b.x + 4 * scale, b.y - 4 * scale);
  });
}

const tint = blankCanvas(1, 1);
function tinted(mask, [r, g, b]) {
  tint.width = mask.width;
  tint.height = mask.height;
  const t = tint.getContext("2d");
  t.drawImage(mask, 0, 0);
  t.globalCompositeOperation = "source-in";
  t.fillStyle = `rgb(${r},${g},${b})`;
  t.fillRect(0, 0, tint.width, tint.height);
  t.globalCompositeOperation = "source-over";
  return tint;
}

// ---- compare, download, rerun ----------------------------------------------------------

function setComparing(on) {
  if (comparing === on) return;
  comparing = on;
  draw();
}
const compare = $("compare");
compare.addEventListener("pointerdown", () => setComparing(true));
for (const ev of ["pointerup", "pointerleave", "pointercancel"]) compare.addEventListener(ev, () => setComparing(false));
document.addEventListener("keydown", (e) => {
  if (e.key === "Tab" && current && current.result) { e.preventDefault(); setComparing(true); }
  if (e.key === "Escape") select(null);
});
document.addEventListener("keyup", (e) => { if (e.key === "Tab") setComparing(false); });
window.addEventListener("blur", () => setComparing(false)); // a key-up lost with the focus
$("show-masks").addEventListener("change", draw);
window.addEventListener("resize", () => { zoomTo(selected); draw(); });

function rerun() {
  if (!current) return;
  current.dirty = true;
  current.state = "waiting";
  renderList();
  pump();
}
$("rerun").addEventListener("click", rerun);
$("reset-mask").addEventListener("click", () => {
  if (selected === null) return;
  const auto = current.autoMasks[selected];
  const now = current.masks[selected];
  if (auto) current.masks[selected] = { canvas: copyCanvas(auto.canvas), x: auto.x, y: auto.y };
  else if (now) now.canvas.getContext("2d").clearRect(0, 0, now.canvas.width, now.canvas.height);
  current.edited.delete(selected);
  renderFaces();
  updateToolbar();
  draw();
  rerun();
});

// ---- the brush -------------------------------------------------------------------------

for (const name of ["brush", "eraser"]) {
  $(name).addEventListener("click", () => {
    tool = name;
    $("brush").classList.toggle("active", name === "brush");
    $("eraser").classList.toggle("active", name === "eraser");
  });
}

function toPhoto(e) {
  const r = view.getBoundingClientRect();
  return [(e.clientX - r.left) * view.width / r.width, (e.clientY - r.top) * view.height / r.height];
}

function faceAt([x, y]) {
  if (!current || !current.result) return null;
  const hits = current.result.faces.filter((f) => x >= f.box.x && x <= f.box.x + f.box.width
    && y >= f.box.y && y <= f.box.y + f.box.height);
  hits.sort((a, b) => a.box.width * a.box.height - b.box.width * b.box.height);
  return hits.length ? hits[0].index : null;
}

let stroke = null;
view.addEventListener("pointerdown", (e) => {
  if (!current || !current.result || comparing) return;
  const p = toPhoto(e);
  if (selected === null) { select(faceAt(p)); return; }
  const mask = current.masks[selected];
  if (!mask) return; // its crop lies outside the photo
  view.setPointerCapture(e.pointerId);
  const g = mask.canvas.getContext("2d");
  const r = view.getBoundingClientRect();
  g.lineCap = g.lineJoin = "round";
  g.lineWidth = Number($("brush-size").value) * view.width / r.width;
  g.strokeStyle = g.fillStyle = "#fff";
  g.globalCompositeOperation = tool === "eraser" ? "destination-out" : "source-over";
    // The mask's canvas starts at (mask.x, mask.y) in the photo; paint lands only inside the
  // face's aligned crop, the part of the photo the models see.
  const at = ([x, y]) => [x - mask.x, y - mask.y];
  const crop = current.result.faces[selected].crop;
  g.save();
  g.beginPath();
  crop.forEach((corner, k) => { const [cx, cy] = at(corner); k ? g.lineTo(cx, cy) : g.moveTo(cx, cy); });
  g.closePath();
  g.clip();
  stroke = { g, at, last: at(p) };
  const q = at(p);
  g.beginPath();
  g.arc(q[0], q[1], g.lineWidth / 2, 0, 2 * Math.PI);
  g.fill();
  markEdited();
});
view.addEventListener("pointermove", (e) => {
  if (!stroke) return;
  const p = stroke.at(toPhoto(e));
  const { g, last } = stroke;
  g.beginPath();
  g.moveTo(last[0], last[1]);
  g.lineTo(p[0], p[1]);
  g.stroke();
  stroke.last = p;
  requestDraw();
});
for (const ev of ["pointerup", "pointercancel"]) {
  view.addEventListener(ev, () => {
        if (!stroke) return;
    stroke.g.restore();
    stroke.g.globalCompositeOperation = "source-over";
    stroke = null;
    draw();
  });
}

function markEdited() {
  if (!current.edited.has(selected)) {
    current.edited.add(selected);
    renderFaces();
  }
  updateToolbar();
  requestDraw();
}

let drawPending = false;
function requestDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; draw(); });
}
