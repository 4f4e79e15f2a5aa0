// Conveyor's web page: plain JavaScript over the HTTP API (no build step, nothing fetched from
// elsewhere). The token lives in this browser's localStorage; live updates come from the
// server-sent event streams, read with fetch so that the token travels in a header.
"use strict";

const state = { token: localStorage.getItem("conveyor.token") || "", me: null, streams: [] };
const $ = (selector) => document.querySelector(selector);
const terminal = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

// ---- API ------------------------------------------------------------------------------------

class Problem extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : "HTTP " + status);
    this.status = status;
    this.errors = (body && body.errors) || [];
  }
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Authorization: "Bearer " + state.token, ...headers } };
  if (body !== undefined) {
    if (body instanceof Blob) {
      init.body = body;
    } else {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers["Content-Type"] = init.headers["Content-Type"] || "application/json";
    }
  }
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  const payload = type.includes("json") ? await response.json() : await response.text();
  if (response.status === 401 && path !== "/api/v1/me") signOut("Your token is no longer accepted; sign in again.");
  if (!response.ok) throw new Problem(response.status, typeof payload === "object" ? payload : { detail: payload });
  return payload;
}

// Reads a server-sent event stream until it ends or `signal` aborts; calls onEvent per event.
async function follow(path, onEvent, signal, lastEventId) {
  const headers = { Authorization: "Bearer " + state.token, Accept: "text/event-stream" };
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const response = await fetch(path, { headers, signal });
  if (!response.ok) throw new Problem(response.status, await response.json().catch(() => null));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { name: "message", id: null, data: [] };
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") event.name = text;
        else if (field === "id") event.id = text;
        else if (field === "data") event.data.push(text);
      }
      if (event.data.length) onEvent({ name: event.name, id: event.id, data: event.data.join("\n") });
    }
  }
}

// Keeps a stream open for as long as the current view lives, resuming after a drop.
function keepFollowing(path, onEvent) {
  const controller = new AbortController();
  state.streams.push(controller);
  let last = null;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        await follow(path, (event) => { if (event.id) last = event.id; onEvent(event); }, controller.signal, last);
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  })();
}

function stopStreams() {
  for (const controller of state.streams) controller.abort();
  state.streams = [];
}

// ---- helpers --------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const lower = (id) => String(id || "").toLowerCase();

function showProblems(list, error) {
  list.replaceChildren();
  for (const problem of error.errors || []) {
    list.append(el("li", {}, el("code", { text: problem.field }), " " + problem.reason));
  }
}

async function download(path, name) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  if (!response.ok) throw new Problem(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- views ----------------------------------------------------------------------------------

const views = ["signin", "jobs", "job", "submit", "objects"];

function show(view) {
  for (const name of views) $("#" + name).hidden = name !== view;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.id === "nav-" + view || (view === "job" && link.id === "nav-jobs")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $("#main").focus();
}

function signOut(message) {
  state.token = "";
  state.me = null;
  localStorage.removeItem("conveyor.token");
  $("#signin-error").textContent = message || "";
  route();
}

async function signIn(token) {
  state.token = token;
  try {
    state.me = await api("GET", "/api/v1/me");
  } catch (error) {
    state.token = "";
    throw error;
  }
  localStorage.setItem("conveyor.token", token);
  $("#who").replaceChildren(
    `${state.me.name} (${state.me.role}) `,
    el("button", { type: "button", id: "signout", text: "Sign out", onclick: () => signOut() }));
}

function jobRow(job) {
  const id = lower(job.jobId);
  return el("tr", { "data-job": id },
    el("td", {}, el("a", { href: "#/jobs/" + id }, el("code", { text: id.slice(0, 8) }))),
    el("td", { text: job.jobType }),
    el("td", { class: "status status-" + job.status, text: job.status }),
    el("td", { text: job.owner }),
    el("td", { text: (job.submittedAt || "").replace("T", " ").slice(0, 19) }),
    el("td", { text: job.statusMessage || "" }));
}

async function jobsView(cursor) {
  show("jobs");
  const params = new URLSearchParams({ limit: "25" });
  if ($("#filter-status").value) params.set("status", $("#filter-status").value);
  if ($("#filter-type").value) params.set("jobType", $("#filter-type").value);
  if (cursor) params.set("cursor", cursor);
  const page = await api("GET", "/api/v1/jobs?" + params);
  const body = $("#job-table tbody");
  if (!cursor) body.replaceChildren();
  for (const job of page.jobs) body.append(jobRow(job));
  const more = $("#jobs-more");
  more.hidden = !page.nextCursor;
  more.onclick = () => jobsView(page.nextCursor);
  if (!cursor) {
    keepFollowing("/api/v1/events", async (event) => {
      if (event.name === "queue") {
        const queue = JSON.parse(event.data);
        const row = body.querySelector(`tr[data-job="${lower(queue.jobId)}"]`);
        if (row) row.lastChild.textContent = "waiting: " + queueText(queue);
        return;
      }
      if (event.name !== "job") return;
      const change = JSON.parse(event.data);
      const id = lower(change.jobId);
      $("#jobs-live").textContent = `job ${id.slice(0, 8)} is ${change.status}`;
      const row = body.querySelector(`tr[data-job="${id}"]`);
      if (row) {
        const cell = row.querySelector(".status");
        cell.textContent = change.status;
        cell.className = "status status-" + change.status;
        row.lastChild.textContent = change.message;
      } else if (!$("#filter-status").value && !$("#filter-type").value) {
        try { body.prepend(jobRow(await api("GET", "/api/v1/jobs/" + id))); } catch (error) { /* gone or not ours */ }
      }
    });
  }
}

// A `queue` event (or a job's `queue` section, where `ahead` is an object) in words.
function queueText(queue) {
  const start = queue.estimatedStartAt;
  const ahead = typeof queue.ahead === "object" ? queue.ahead.total : queue.ahead;
  return `position ${queue.position}` + (ahead !== undefined ? ` (${ahead} ahead)` : "")
    + (start ? `, estimated start ${start.replace("T", " ").slice(0, 19)}` : "")
    + (queue.waitingReason ? `, ${queue.waitingReason}` : "");
}

async function jobView(id) {
  show("job");
  $("#job-error").textContent = "";
  $("#job-log").textContent = "";
  $("#job-id").textContent = id;
  const render = async () => {
    const job = await api("GET", "/api/v1/jobs/" + id);
    $("#job-status").textContent = job.status;
    $("#job-status").className = "status-" + job.status;
    $("#job-message").textContent = job.statusMessage || "";
    $("#job-type").textContent = job.jobType;
    $("#job-owner").textContent = job.owner;
    $("#job-queue").textContent = job.queue ? queueText(job.queue) : "-";
    $("#job-history").replaceChildren(...(job.updates || []).map((update) =>
      el("li", {}, el("strong", { text: update.status }), ` ${update.at.replace("T", " ").slice(0, 23)} ${update.message}`)));
    $("#job-cancel").disabled = terminal.has(job.status);
    $("#job-rerun").disabled = !terminal.has(job.status);
    const outputs = Object.entries((job.result && job.result.outputs) || {});
    const list = $("#job-outputs");
    list.replaceChildren(...(outputs.length ? outputs.map(([name, output]) =>
      el("li", {}, `${name}: `, el("a", { href: "#/objects/" + lower(output.objectId) }, el("code", { text: lower(output.objectId) })), " ",
        el("button", { type: "button", text: "Download", onclick: () => download(`/api/v1/objects/${lower(output.objectId)}/content`, name).catch(fail) })))
      : [el("li", { text: "none yet" })]));
    try {
      const usage = await api("GET", `/api/v1/jobs/${id}/usage`);
      const used = usage.usage;
      $("#job-usage").textContent = used
        ? `peak memory ${Math.round((used.maxResidentKB || 0) / 1024)} MB, CPU ${((used.cpuUserSeconds || 0) + (used.cpuSystemSeconds || 0)).toFixed(2)} s, ${used.wallSeconds.toFixed(1)} s run`
        : "measured when an attempt ends";
    } catch (error) { $("#job-usage").textContent = "-"; }
    return job;
  };
  const fail = (error) => { $("#job-error").textContent = error.message; };
  $("#job-cancel").onclick = async () => {
    try { await api("POST", `/api/v1/jobs/${id}/cancel`, { reason: "from the web page" }); await render(); } catch (error) { fail(error); }
  };
  $("#job-rerun").onclick = async () => {
    try { const job = await api("POST", `/api/v1/jobs/${id}/rerun`); location.hash = "#/jobs/" + lower(job.jobId); } catch (error) { fail(error); }
  };
  await render();
  keepFollowing(`/api/v1/jobs/${id}/log/stream`, (event) => {
    const log = $("#job-log");
    if (event.name === "log") log.textContent += event.data + "\n";
    if (event.name === "attempt") log.textContent += `--- a new attempt ---\n`;
    log.scrollTop = log.scrollHeight;
  });
  keepFollowing("/api/v1/events", (event) => {
    const data = JSON.parse(event.data);
    if (lower(data.jobId) !== id) return;
    if (event.name === "job") render().catch(fail);
    // The queue's answer every few seconds while it waits: its place and expected start.
    if (event.name === "queue") $("#job-queue").textContent = queueText(data);
  });
}

function submitView() {
  show("submit");
}

async function sendDefinition(dryRun) {
  const result = $("#submit-result");
  const problems = $("#submit-problems");
  problems.replaceChildren();
  result.textContent = "";
  let text = $("#job-json").value;
  try { JSON.parse(text); } catch (error) { result.textContent = "The definition is not valid JSON: " + error.message; return; }
  try {
    if (dryRun) {
      await api("POST", "/api/v1/jobs/validate", text);
      result.textContent = "Valid: the job would be accepted.";
    } else {
      const job = await api("POST", "/api/v1/jobs", text);
      location.hash = "#/jobs/" + lower(job.jobId);
    }
  } catch (error) {
    result.textContent = error.message;
    showProblems(problems, error);
  }
}

function objectRow(object) {
  const id = lower(object.objectId);
  return el("tr", { "data-object": id },
    el("td", {}, el("a", { href: "#/objects/" + id }, el("code", { text: id.slice(0, 8) }))),
    el("td", { text: String(object.objectVersion) }),
    el("td", { text: object.objectType }),
    el("td", { text: object.owner || "-" }),
    el("td", { text: (object.sharedWith || []).map((team) => team === "*" ? "everyone" : team).join(", ") || "-" }),
    el("td", { text: (object.createdAt || "").replace("T", " ").slice(0, 19) }),
    el("td", {}, ["FILE", "DATA"].includes(object.objectType)
      ? el("button", { type: "button", text: "Download", onclick: () => download(`/api/v1/objects/${id}/content`, id).catch((error) => { $("#upload-result").textContent = error.message; }) })
      : ""));
}

// The latest objects listing asked for: an answer to an earlier one (an upload's refresh, a
// search typed meanwhile) arriving later must not replace it.
let objectsRequest = 0;

async function objectsView(id) {
  show("objects");
  const request = ++objectsRequest;
  const body = { limit: 50 };
  if ($("#search-type").value) body.objectType = $("#search-type").value;
  const name = $("#search-attr").value.trim();
  if (name) {
    let value = $("#search-value").value;
    try { value = JSON.parse(value); } catch (error) { /* a string */ }
    body.search = { term: { attrName: name, operator: "EQ", value } };
  }
  const table = $("#object-table tbody");
  if (id) {
    const object = await api("GET", "/api/v1/objects/" + id);
    if (request === objectsRequest) table.replaceChildren(objectRow(object));
    return;
  }
  const page = await api("POST", "/api/v1/search", body);
  if (request === objectsRequest) table.replaceChildren(...page.objects.map(objectRow));
}

async function upload(event) {
  event.preventDefault();
  const file = $("#upload-file").files[0];
  const result = $("#upload-result");
  const problems = $("#upload-problems");
  problems.replaceChildren();
  if (!file) return;
  const params = new URLSearchParams();
  let path = "/api/v1/files";
  if ($("#upload-kind").value === "DATA") {
    path = "/api/v1/data";
    if ($("#upload-schema").value) params.set("schemaId", $("#upload-schema").value.trim());
  } else {
    params.set("name", file.name);
  }
  try {
    const object = await api("POST", path + "?" + params, file, { "Content-Type": file.type || "application/octet-stream" });
    result.replaceChildren("Uploaded ", el("a", { href: "#/objects/" + lower(object.objectId), id: "uploaded" }, el("code", { text: lower(object.objectId) })));
    await objectsView();
  } catch (error) {
    result.textContent = error.message;
    showProblems(problems, error);
  }
}

// ---- routing --------------------------------------------------------------------------------

async function route() {
  stopStreams();
  if (!state.token) { show("signin"); $("#token").focus(); return; }
  const [, view, id] = (location.hash || "#/jobs").split("/");
  try {
    if (view === "jobs" && id) await jobView(lower(id));
    else if (view === "submit") submitView();
    else if (view === "objects") await objectsView(id && lower(id));
    else await jobsView();
  } catch (error) {
    if (error instanceof Problem && error.status === 401) return;
    const message = el("p", { class: "error", role: "alert", text: error.message });
    $("#main").querySelector("section:not([hidden])").append(message);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#signin-error").textContent = "";
    try {
      await signIn($("#token").value.trim());
      $("#token").value = "";
      route();
    } catch (error) {
      $("#signin-error").textContent = error.status === 401 ? "That token is not accepted." : error.message;
    }
  });
  $("#job-filters").addEventListener("submit", (event) => { event.preventDefault(); stopStreams(); jobsView(); });
  $("#job-validate").addEventListener("click", () => sendDefinition(true));
  $("#job-submit").addEventListener("click", () => sendDefinition(false));
  $("#run-form").addEventListener("submit", (event) => {
    event.preventDefault();
    let parameters = {};
    try { parameters = JSON.parse($("#run-params").value || "{}"); } catch (error) {
      $("#submit-result").textContent = "The parameters are not valid JSON: " + error.message;
      return;
    }
    const job = { jobType: "RUN_MODEL", runModel: { model: { objectId: $("#run-model").value.trim() }, parameters } };
    if ($("#run-email").value) job.notification = { email: [$("#run-email").value.trim()] };
    $("#job-json").value = JSON.stringify(job, null, 2);
  });
  $("#search-form").addEventListener("submit", (event) => { event.preventDefault(); objectsView().catch((error) => { $("#upload-result").textContent = error.message; }); });
  $("#upload-form").addEventListener("submit", upload);
  window.addEventListener("hashchange", route);
  if (state.token) {
    try { await signIn(state.token); } catch (error) { state.token = ""; }
  }
  route();
});
