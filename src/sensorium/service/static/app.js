// Sensorium's page: search by text, image (picker, drop, paste), sound (file, microphone);
// a result grid that says what matched; details with players that start at a moment;
// ingest jobs with progress. The query lives in the URL, so it can be shared and the back
// button works. Every text from the data is set as textContent, never as HTML.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const state = { image: null, audio: null, results: [], recorder: null, page: null, loading: false };
const TOKEN_KEY = "sensorium_token";

// -- the API ----------------------------------------------------------------------------

function authHeaders() {
  const token = localStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  if (res.status === 401) {
    const token = prompt("This server needs an access token:");
    if (token) {
      localStorage.setItem(TOKEN_KEY, token);
      document.cookie = `${TOKEN_KEY}=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
      return api(path, options);
    }
  }
  const body = await res.json().catch(() => ({ detail: res.statusText }));
  if (!res.ok) throw new Error(body.detail || `HTTP ${res.status}`);
  return body;
}

function setStatus(text, error = false) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function fmtTime(s) {
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  const sec = Number.isInteger(Math.round(rest * 10) / 10) ? String(Math.round(rest)).padStart(2, "0")
    : rest.toFixed(1).padStart(4, "0");
  return `${m}:${sec}`;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : /(s|sh|ch|x)$/.test(word) ? "es" : "s"}`;
}

function basename(path) {
  return path.split(/[\\/]/).pop();
}

// -- the query and the URL -----------------------------------------------------------------

function paramsFromForm() {
  const p = new URLSearchParams();
  const q = $("#q").value.trim();
  if (q) p.set("q", q);
  for (const name of ["type", "in", "path", "sort"]) {
    const v = $(`#${name}`).value.trim();
    if (v) p.set(name, v);
  }
  if ($("#k").value !== "20") p.set("k", $("#k").value);
  if (Number($("#min").value) > 0) p.set("min", $("#min").value);
  if (p.get("sort") === "relevance") p.delete("sort");
  return p;
}

function formFromParams(p) {
  $("#q").value = p.get("q") || "";
  $("#type").value = p.get("type") || "";
  $("#in").value = p.get("in") || "";
  $("#path").value = p.get("path") || "";
  $("#sort").value = p.get("sort") || "relevance";
  $("#k").value = p.get("k") || "20";
  $("#min").value = p.get("min") || "0";
  $("#min-out").value = Number($("#min").value).toFixed(2);
}

function pushUrl(p) {
  const url = p.toString() ? `/?${p}` : "/";
  if (url !== location.pathname + location.search) history.pushState(null, "", url);
}

async function runFromUrl() {
  const p = new URLSearchParams(location.search);
  formFromParams(p);
  if (p.get("similar")) return similar(p.get("similar"), false);
  if (p.get("item")) openItem(p.get("item"), Number(p.get("t") || 0));
  if (p.get("q")) return search(false);
  showResults([]);
}

// One page of the search (the first, or the next by the page before's cursor, which pins
// the ranking while files are added).
async function fetchPage(p, cursor) {
  if (state.image || state.audio) {
    const form = new FormData();
    for (const [k, v] of p) if (k !== "min") form.set(k, v);
    form.set("k", $("#k").value);
    if (cursor) form.set("cursor", cursor);
    if (state.image) form.set("image", state.image, state.image.name || "image.png");
    if (state.audio) form.set("audio", state.audio, state.audio.name || "sound.webm");
    const w = weightsSpec();
    if (w) form.set("weights", w);
    return api("/api/search", { method: "POST", body: form });
  }
  const q = withoutMin(p);
  if (cursor) q.set("cursor", cursor);
  return api(`/api/search?${q}`);
}

async function search(push = true) {
  const p = paramsFromForm();
  const hasMedia = state.image || state.audio;
  if (!p.get("q") && !hasMedia) {
    setStatus("Type something to look for, or add an image or a sound.");
    return;
  }
  if (push && !hasMedia) pushUrl(p);
  setStatus("Searching…");
  $("#search-btn").disabled = true;
  state.loading = true;
  try {
    const body = await fetchPage(p);
    state.page = { params: p, ...body };
    renderChips(body.query);
    showResults(body.results, body.seconds);
  } catch (e) {
    state.page = null;
    renderChips(null);
    setStatus(e.message, true);
  } finally {
    $("#search-btn").disabled = false;
    state.loading = false;
  }
}

// Scrolled to the bottom: the next page of the same ranking, added below.
async function loadMore() {
  const page = state.page;
  if (!page || !page.cursor || state.loading) return;
  state.loading = true;
  $("#more").textContent = "Loading more…";
  try {
    const body = await fetchPage(page.params, page.cursor);
    if (state.page !== page) return; // a new search began meanwhile
    state.page = { ...page, ...body, results: [...page.results, ...body.results] };
    showResults(state.page.results, body.seconds);
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    state.loading = false;
  }
}

// The parts of the query string as the server read them: each a chip that removes its
// token from the query and searches again.
function renderChips(query) {
  const box = $("#chips");
  box.replaceChildren();
  if (!query) return;
  const names = { not: "without", phrase: "exactly", type: "type", after: "taken after",
    before: "taken before", person: "person" };
  for (const chip of query.chips) {
    const remove = el("button", { type: "button", className: "x", textContent: "×",
      title: "Remove this part and search again" });
    remove.setAttribute("aria-label", `Remove ${chip.key} ${chip.value}`);
    remove.addEventListener("click", () => {
      const q = $("#q").value;
      $("#q").value = `${q.slice(0, chip.start)} ${q.slice(chip.end)}`.replace(/\s+/g, " ").trim();
      search();
    });
    const node = el("span", { className: `chip ${chip.key}` },
      el("span", { className: "key", textContent: names[chip.key] || chip.key }),
      el("span", { className: "value", textContent: chip.value }), remove);
    node.dataset.key = chip.key;
    box.append(node);
  }
}

function withoutMin(p) {
  const q = new URLSearchParams(p);
  q.delete("min");
  q.set("k", $("#k").value);
  return q;
}

async function similar(id, push = true) {
  if (push) pushUrl(new URLSearchParams({ similar: id }));
  state.page = null;
  renderChips(null);
  setStatus("Finding more like this…");
  try {
    const body = await api(`/api/items/${encodeURIComponent(id)}/similar?k=${$("#k").value}`);
    showResults(body.results, body.seconds, "more like this");
  } catch (e) {
    setStatus(e.message, true);
  }
}

// -- weights when several query parts are given ----------------------------------------------

function weightsSpec() {
  return [...document.querySelectorAll("#weights input")].map((i) => `${i.name}=${i.value}`).join(",");
}

function renderWeights() {
  const parts = [];
  if ($("#q").value.trim()) parts.push("text");
  if (state.image) parts.push("image");
  if (state.audio) parts.push("audio");
  const box = $("#weights");
  const old = Object.fromEntries([...box.querySelectorAll("input")].map((i) => [i.name, i.value]));
  box.replaceChildren();
  box.hidden = parts.length < 2;
  if (box.hidden) return;
  for (const name of parts) {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), {
      type: "range", min: "0", max: "2", step: "0.1", name, value: old[name] || "1",
    });
    const out = document.createElement("output");
    out.value = Number(input.value).toFixed(1);
    input.addEventListener("input", () => (out.value = Number(input.value).toFixed(1)));
    label.append(`${name} weight`, input, out);
    box.append(label);
  }
}

// -- attachments: image and sound ------------------------------------------------------------

function renderAttachments() {
  const box = $("#attachments");
  box.replaceChildren();
  for (const kind of ["image", "audio"]) {
    const file = state[kind];
    if (!file) continue;
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.dataset.kind = kind;
    const url = URL.createObjectURL(file);
    if (kind === "image") {
      const img = Object.assign(document.createElement("img"), { src: url, alt: "" });
      chip.append(img);
    } else {
      const dot = Object.assign(document.createElement("span"), { className: "dot", textContent: "♪" });
      const player = Object.assign(document.createElement("audio"), { src: url, controls: true });
      chip.append(dot, player);
    }
    chip.append(file.name || kind);
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "×", title: "Remove" });
    remove.addEventListener("click", () => {
      state[kind] = null;
      renderAttachments();
    });
    chip.append(remove);
    box.append(chip);
  }
  renderWeights();
}

function attach(file) {
  if (!file) return;
  const kind = file.type.startsWith("image/") ? "image" : "audio";
  state[kind] = file;
  renderAttachments();
  search();
}

async function toggleMic() {
  const btn = $("#mic-btn");
  if (state.recorder) {
    state.recorder.stop();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    setStatus(`The microphone is not available: ${e.message}`, true);
    return;
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.addEventListener("dataavailable", (ev) => ev.data.size && chunks.push(ev.data));
  recorder.addEventListener("stop", () => {
    stream.getTracks().forEach((t) => t.stop());
    state.recorder = null;
    btn.classList.remove("recording");
    const type = recorder.mimeType || "audio/webm";
    attach(new File(chunks, `recording.${type.includes("ogg") ? "ogg" : "webm"}`, { type }));
  });
  recorder.start();
  state.recorder = recorder;
  btn.classList.add("recording");
  setStatus("Recording… click the microphone again to stop (10 s at most).");
  setTimeout(() => state.recorder === recorder && recorder.stop(), 10000);
}

// -- results ---------------------------------------------------------------------------------

// The explanation's own lines, as the server says them (the CLI prints the same): each
// "<tag> <text>", its tag a word the card styles. The moment is the card's own badge, and
// where a photo was taken (GPS) comes first.
function explanationLines(r) {
  const e = r.explanation || {};
  const lines = [];
  if (r.place) lines.push(["place", r.place.label]);
  for (const line of e.lines || []) {
    const cut = line.indexOf(" ");
    const [tag, text] = cut > 0 ? [line.slice(0, cut), line.slice(cut + 1)] : ["matched", line];
    if (tag !== "moment" || r.start === null || r.start === undefined) lines.push([tag, text]);
  }
  return lines.slice(0, 4);
}

function showResults(results, seconds, what = "results") {
  state.results = results;
  const min = Number($("#min").value);
  const shown = results.filter((r) => r.score >= min && !r.weak);
  const weak = results.filter((r) => r.score >= min && r.weak);
  $("#results").replaceChildren(...shown.map(card));
  // results that are no good match, folded away with their count (of the whole ranking)
  const page = what === "results" ? state.page : null;
  const weakTotal = page ? page.weak : weak.length;
  $("#weak").hidden = weakTotal === 0;
  $("#weak-summary").textContent = `${plural(weakTotal, "weak result")}: no good match`;
  $("#weak-results").replaceChildren(...weak.map(card));
  const more = page && page.cursor;
  $("#more").textContent = more ? `${results.length} of ${page.total}: scroll for more` : "";
  $("#empty").hidden = results.length > 0 || Boolean($("#q").value || state.image || state.audio);
  if (!results.length && ($("#q").value || state.image || state.audio)) setStatus("Nothing found.");
  else if (results.length) {
    const hidden = results.length - shown.length - weak.length;
    const time = seconds !== undefined ? ` in ${(seconds * 1000).toFixed(0)} ms` : "";
    const good = page ? page.total - page.weak : shown.length;
    const head = !good && weakTotal ? "No good match" : `${plural(good, what === "results" ? "result" : "match")}`;
    setStatus(`${head}${time}${hidden ? ` (${hidden} under the minimum score)` : ""}`);
  } else setStatus("");
  if (more) requestAnimationFrame(fillScreen);
}

// The page scrolls on into the next page: load more while the bottom is in sight.
function fillScreen() {
  const rect = $("#more").getBoundingClientRect();
  if (rect.top < window.innerHeight + 200) loadMore();
}

function card(r) {
  const node = $("#card").content.firstElementChild.cloneNode(true);
  node.dataset.id = r.id;
  node.dataset.type = r.type;
  const img = $(".thumb", node);
  img.src = r.thumbnail_url;
  img.alt = basename(r.path);
  $(".badge", node).textContent = r.type;
  $(".title", node).textContent = basename(r.path);
  $(".title", node).title = r.path;
  $(".score b", node).textContent = r.score.toFixed(3);
  $(".score i", node).style.width = `${Math.max(4, Math.min(100, r.score * 100))}%`;
  for (const [tag, text] of explanationLines(r)) {
    const li = document.createElement("li");
    const t = Object.assign(document.createElement("span"), { className: `tag ${tag}`, textContent: tag });
    const x = Object.assign(document.createElement("span"), { className: "text", textContent: text });
    li.append(t, x);
    $(".why", node).append(li);
  }
  const moment = r.start !== null && r.start !== undefined && (r.type === "video" || r.type === "audio");
  if (moment) {
    const label = `${fmtTime(r.start)}–${fmtTime(r.end)}`;
    const when = $(".when", node);
    when.hidden = false;
    when.textContent = label;
    const link = $(".moment-link", node);
    link.hidden = false;
    link.textContent = `▶ Play from ${fmtTime(r.start)}`;
    link.dataset.start = r.start;
    link.addEventListener("click", () => openItem(r.id, r.start));
  }
  node.querySelectorAll("[data-open]").forEach((b) => b.addEventListener("click", () => openItem(r.id, moment ? r.start : 0)));
  $("[data-similar]", node).addEventListener("click", () => {
    state.image = state.audio = null;
    renderAttachments();
    $("#q").value = "";
    similar(r.id);
  });
  return node;
}

// -- item details ----------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function player(item, start) {
  const tag = item.kind === "video" ? "video" : "audio";
  const media = el(tag, { id: "player", controls: true, preload: "metadata", src: item.media_url });
  if (tag === "video") media.poster = item.thumbnail_url;
  media.dataset.start = start;
  const seek = () => {
    media.currentTime = start;
    if (start > 0) media.play().catch(() => {});
  };
  if (start > 0) media.addEventListener("loadedmetadata", seek, { once: true });
  return media;
}

function seekTo(t) {
  const media = $("#player");
  if (!media) return;
  media.currentTime = t;
  media.play().catch(() => {});
}

async function openItem(id, start = 0) {
  let item;
  try {
    item = await api(`/api/items/${encodeURIComponent(id)}`);
  } catch (e) {
    setStatus(e.message, true);
    return;
  }
  const viewer = el("div", { className: "viewer" });
  if (item.kind === "image") viewer.append(el("img", { src: item.media_url, alt: basename(item.path) }));
  else if (item.kind === "video") viewer.append(player(item, start || item.start || 0));
  else if (item.kind === "audio") {
    viewer.append(el("img", { className: "wave", src: item.thumbnail_url, alt: "" }), player(item, start || 0));
  } else viewer.append(el("pre", { textContent: item.text || "" }));

  const facts = [item.kind, `${(item.size / 1024).toFixed(0)} KB`];
  if (item.width) facts.push(`${item.width}×${item.height}`);
  if (item.duration) facts.push(`${item.duration.toFixed(1)} s`);
  const meta = el("div", { className: "meta" }, el("h3", { textContent: basename(item.path) }),
    el("div", { className: "facts", textContent: `${facts.join(" · ")} · ${item.path}` }));
  if (item.labels && item.labels.length) {
    meta.append(el("h4", { textContent: item.kind === "audio" ? "Heard" : "Seen" }),
      el("div", { className: "pills" }, ...item.labels.slice(0, 6).map(([l, s]) => el("span", { className: "pill", textContent: `${l} ${s.toFixed(2)}` }))));
  }
  if (item.text && item.kind !== "text") meta.append(el("h4", { textContent: "Written" }), el("p", { textContent: item.text }));
  const segs = item.segments || [];
  if (segs.length) meta.append(el("h4", { textContent: "Said" }), timeLines(segs.map((s) => [s.start, s.text])));
  if (item.people && item.people.length) meta.append(el("h4", { textContent: "People" }), facesRow(item.people));
  if (item.moments) {
    meta.append(el("h4", { textContent: "Moments" }), timeLines(item.moments.map((m) => [m.start,
      [m.seen.map((x) => x[0]).slice(0, 2).join(", "), m.heard.map((x) => x[0]).slice(0, 2).join(", "), m.said ? `“${m.said}”` : ""]
        .filter(Boolean).join(" · ")])));
  }
  meta.append(el("div", { className: "actions" }, el("button", {
    type: "button", className: "link", textContent: "More like this",
    onclick: () => { $("#details").close(); similar(id); },
  })));
  $("#details-body").replaceChildren(viewer, meta);
  const dialog = $("#details");
  if (!dialog.open) dialog.showModal();
}

function timeLines(rows) {
  return el("ul", { className: "lines" }, ...rows.map(([t, text]) => el("li", {},
    el("button", { type: "button", className: "link t", textContent: fmtTime(t), onclick: () => seekTo(t) }),
    el("span", { textContent: text }))));
}

// -- ingest ----------------------------------------------------------------------------------

async function ingest() {
  const paths = $("#ingest-paths").value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (!paths.length) return;
  try {
    const job = await api("/api/ingest", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ paths }),
    });
    watchJob(job);
  } catch (e) {
    $("#jobs").prepend(el("div", { className: "job fail", textContent: e.message }));
  }
}

function watchJob(job) {
  const bar = el("i");
  const text = el("div");
  const fails = el("ul", { className: "fail" });
  const box = el("div", { className: "job", id: `job-${job.id}` }, text, el("div", { className: "progress" }, bar), fails);
  $("#jobs").prepend(box);
  const render = (j) => {
    const total = j.total ?? "?";
    bar.style.width = j.total ? `${(100 * j.done) / j.total}%` : j.state === "done" ? "100%" : "0";
    const extra = j.report ? ` · added ${j.report.added}, updated ${j.report.updated}, unchanged ${j.report.unchanged}` : "";
    text.textContent = `${j.state}: ${j.done} of ${total} files${j.failed.length ? `, ${j.failed.length} failed` : ""}${extra}${j.error ? ` · ${j.error}` : ""}`;
    fails.replaceChildren(...j.failed.slice(0, 20).map((f) => el("li", { textContent: `${basename(f.path)}: ${f.error}` })));
  };
  render(job);
  const poll = async () => {
    const j = await api(`/api/jobs/${job.id}`).catch(() => null);
    if (!j) return;
    render(j);
    if (j.state === "queued" || j.state === "running") setTimeout(poll, 800);
    else loadStats();
  };
  setTimeout(poll, 500);
}

// -- people: faces recognised across photos (a collection setting, off by default) ------------

// A person's query token: by name when they have one, else by id (person:7 finds them too).
function personToken(name, id) {
  return `person:${name ? `"${name.replace(/"/g, "")}"` : id}`;
}

function searchPerson(name, id) {
  $("#details").close();
  $("#q").value = personToken(name, id);
  search();
}

function facesRow(faces) {
  return el("div", { className: "people small" }, ...faces.map((f) => el("button", {
    type: "button", className: "person", title: "Photos of this person",
    onclick: () => searchPerson(f.name, f.person),
  }, el("img", { src: f.crop_url, alt: "", loading: "lazy" }),
  el("span", { className: "name", textContent: f.name || `Person ${f.person}` }))));
}

async function namePerson(p) {
  const name = prompt(`Name person ${p.id}:`, p.name || "");
  if (!name || !name.trim()) return;
  try {
    await api(`/api/people/${p.id}/name`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: name.trim() }) });
  } catch (e) {
    setStatus(e.message, true);
  }
  loadPeople();
}

async function loadPeople() {
  let data;
  try {
    data = await api("/api/people");
  } catch (e) {
    $("#people-note").textContent = e.message;
    return;
  }
  $("#people-note").textContent = data.people.length
    ? "Click a face for the photos they are in; name a person to search for them by name (person:Name)."
    : data.enabled ? "No faces found yet: add photos." : "Face recognition is off for this collection (sensorium people on).";
  $("#people").replaceChildren(...data.people.map((p) => el("div", { className: "person" },
    el("button", { type: "button", className: "face", title: "Photos of this person",
      onclick: () => searchPerson(p.name, p.id) }, el("img", { src: p.crop_url, alt: p.name || `Person ${p.id}`, loading: "lazy" })),
    el("span", { className: "name", textContent: p.name || `Person ${p.id}` }),
    el("span", { className: "muted", textContent: plural(p.files, "photo") }),
    el("button", { type: "button", className: "link", textContent: p.name ? "Rename" : "Name", onclick: () => namePerson(p) }))));
}

async function loadStats() {
  try {
    const s = await api("/api/stats");
    const names = { image: "image", audio: "sound", video: "video", text: "text" };
    const kinds = Object.entries(s.by_type).map(([k, n]) => plural(n, names[k] || k)).join(", ");
    $("#stats").textContent = `${plural(s.items, "file")}${kinds ? ` · ${kinds}` : ""}`;
  } catch (e) {
    $("#stats").textContent = "";
  }
}

// -- wiring ----------------------------------------------------------------------------------

function wire() {
  $("#search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });
  $("#q").addEventListener("input", renderWeights);
  $("#image-input").addEventListener("change", (ev) => attach(ev.target.files[0]));
  $("#audio-input").addEventListener("change", (ev) => attach(ev.target.files[0]));
  $("#mic-btn").addEventListener("click", toggleMic);
  $("#min").addEventListener("input", () => {
    $("#min-out").value = Number($("#min").value).toFixed(2);
    showResults(state.results);
  });
  for (const id of ["type", "in", "k", "sort"]) $(`#${id}`).addEventListener("change", () => state.results.length && search());
  window.addEventListener("scroll", fillScreen, { passive: true });
  const drop = $("#drop");
  drop.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    drop.classList.add("dragging");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("dragging");
    attach(ev.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (ev) => {
    const file = [...(ev.clipboardData?.files || [])].find((f) => f.type.startsWith("image/") || f.type.startsWith("audio/"));
    if (file) {
      ev.preventDefault();
      attach(file);
    }
  });
  $("#ingest-toggle").addEventListener("click", () => ($("#ingest-panel").hidden = !$("#ingest-panel").hidden));
  $("#people-toggle").addEventListener("click", () => {
    const panel = $("#people-panel");
    panel.hidden = !panel.hidden;
    if (!panel.hidden) loadPeople();
  });
  $("#ingest-btn").addEventListener("click", ingest);
  $("#home").addEventListener("click", (ev) => {
    ev.preventDefault();
    state.image = state.audio = null;
    renderAttachments();
    pushUrl(new URLSearchParams());
    runFromUrl();
  });
  $("#details").addEventListener("close", () => {
    const media = $("#player");
    if (media) media.pause();
  });
  window.addEventListener("popstate", runFromUrl);
}

wire();
loadStats();
runFromUrl();
