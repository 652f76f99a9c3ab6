// Helpers shared by the ask page and the document view.
//
// Safety rule for the whole page: text from people or from articles only ever reaches the DOM
// as text nodes (textContent, createTextNode), never as HTML, so it cannot inject markup.

const STATUS_EVERY_MS = 10000;

/** An HTTP error carrying the API's one-line `detail`. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** Build an element: el("a", {href: "/", className: "x"}, "text", child, ...). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "className" || key === "id" || key === "hidden") node[key] = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** GET a JSON endpoint; non-2xx becomes an ApiError with the API's `detail`. */
export async function getJSON(url, signal) {
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: "application/json" } });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The service cannot be reached. Is it running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
    throw new ApiError(response.status, detail || `HTTP ${response.status}`);
  }
  return body;
}

/** The API path of a document; ids may hold "/" (kept as separators) or "?", "#", "%". */
export function documentApiUrl(docId) {
  return "/documents/" + docId.split("/").map(encodeURIComponent).join("/");
}

/** The document view of a citation, remembering the question to come back to. */
export function viewUrl(citation, question) {
  const params = new URLSearchParams({
    doc: citation.doc_id,
    start: String(citation.start),
    end: String(citation.end),
  });
  if (question) params.set("q", question);
  return "/view?" + params.toString();
}

/** `text` as nodes, with [start, end) wrapped in <mark>; plain text if the range is unusable. */
export function highlighted(text, start, end, markProps = {}) {
  const fragment = document.createDocumentFragment();
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end
        && end <= text.length)) {
    fragment.append(text);
    return fragment;
  }
  fragment.append(
    text.slice(0, start),
    el("mark", markProps, text.slice(start, end)),
    text.slice(end),
  );
  return fragment;
}

/** Show a message in the page's notice box: kind is "loading", "error" or "info". */
export function showNotice(kind, message) {
  const notice = document.getElementById("notice");
  notice.className = `notice ${kind}`;
  notice.replaceChildren();
  if (kind === "loading") notice.append(el("span", { className: "spinner", "aria-hidden": "true" }));
  notice.append(message);
  notice.hidden = false;
}

export function hideNotice() {
  const notice = document.getElementById("notice");
  notice.hidden = true;
  notice.replaceChildren();
}

function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function readyLine(ready) {
  const count = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
  return {
    ok: true,
    title: `generation ${ready.generation}, model ${ready.model}`,
    parts: [
      `${count(ready.documents, "document")} · ${count(ready.passages, "passage")} · updated `,
      el("time", { datetime: ready.built_at }, formatDate(ready.built_at)),
    ],
  };
}

function problemLine(error) {
  const why = error.status === 503 ? `Index not ready: ${error.message}` : error.message;
  return { ok: false, title: "", parts: [why] };
}

/** Show the live index's status now and every 10 s, so a reindex shows up without a reload. */
export function startStatus() {
  const target = document.getElementById("status");
  let shown = null;
  const poll = async () => {
    let line;
    try {
      line = readyLine(await getJSON("/ready"));
    } catch (error) {
      line = problemLine(error);
    }
    const dot = el("span", { className: "dot", "aria-hidden": "true" });
    const next = el("p", {}, dot, ...line.parts);
    // Touch the live region only on change, so screen readers do not repeat it every 10 s.
    const key = `${line.ok} ${line.title} ${next.textContent}`;
    if (key !== shown) {
      shown = key;
      target.className = line.ok ? "status ok" : "status bad";
      target.title = line.title;
      target.replaceChildren(...next.childNodes);
    }
    setTimeout(poll, STATUS_EVERY_MS);
  };
  poll();
}
