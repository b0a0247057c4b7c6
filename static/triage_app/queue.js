// Live priority queue. Every complaint field is inserted with textContent, never as
// HTML, so a complaint containing <script> or <img onerror> shows as text.
(function () {
  "use strict";
  const me = JSON.parse(document.getElementById("me").textContent);
  // The page's strings in the staff member's language (views.staff_queue_page).
  const t = JSON.parse(document.getElementById("queue-strings").textContent);
  const list = document.getElementById("queue");
  const empty = document.getElementById("queue-empty");
  const template = document.getElementById("queue-item-template");
  const liveStatus = document.getElementById("live-status");
  const message = document.getElementById("queue-message");
  const filters = document.getElementById("filters");
  const items = new Map();
  let selectedId = null;
  let socket = null;
  let retryMs = 500;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function currentFilters() {
    const data = new FormData(filters);
    const f = {};
    for (const name of ["status", "category", "model", "team", "assignee"]) f[name] = data.get(name) || "";
    return f;
  }

  // Whose it is, as the server's filter reads `team` and `assignee` (selectors.teams).
  function holderMatches(f, item) {
    if (f.team === "mine" ? !me.teams.includes(item.team_id)
      : f.team === "none" ? item.team_id !== null
        : f.team && String(item.team_id) !== f.team) return false;
    if (f.assignee === "me" ? item.claimed_by_id !== me.id
      : f.assignee === "none" ? item.claimed_by_id !== null
        : f.assignee && String(item.claimed_by_id) !== f.assignee) return false;
    return true;
  }

  function visible(item) {
    const f = currentFilters();
    if (!item.score) return false;
    if (f.status ? item.status !== f.status : item.status === "resolved") return false;
    if (f.category && item.score.category !== f.category) return false;
    if (f.model && item.score.model_name !== f.model) return false;
    return holderMatches(f, item);
  }

  // The server's order (triage_core.sla): its rank, highest first, then oldest, then most negative.
  function compare(a, b) {
    if (a.rank !== b.rank) return b.rank - a.rank;
    if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
    return a.score.compound - b.score.compound;
  }

  function escalated(item) {
    return item.score.escalated || (item.sla && item.sla.state === "breached");
  }

  function duration(ms) {
    const minutes = Math.max(0, Math.floor(ms / 60000));  // what is left, never rounded up
    if (minutes < 60) return minutes + " " + t.min;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " " + t.h + " " + (minutes % 60) + " " + t.min;
    return Math.floor(hours / 24) + " " + t.d + " " + (hours % 24) + " " + t.h;
  }

  // The clock that matters now: the first reply until there is one, then the resolution.
  function slaText(item) {
    const s = item.sla;
    if (!s || !s.state) return "";
    if (s.state === "breached") return s.reason || t.sla_breached;
    const due = !s.first_reply_at && s.first_reply_due ? s.first_reply_due : s.resolution_due;
    const which = !s.first_reply_at && s.first_reply_due ? t.first_reply_due : t.resolution_due;
    if (!due) return "";
    const left = Date.parse(due) - Date.now();
    const text = left > 0 ? which.replace("%(time)s", duration(left)) : t.sla_breached;
    return s.state === "at_risk" ? t.sla_at_risk + ": " + text : text;
  }

  function whyText(score) {
    const parts = [];
    if (score.needs_person) parts.push(score.needs_person);
    if (score.complaint_probability !== null && score.complaint_probability !== undefined) {
      parts.push("complaint " + Math.round(score.complaint_probability * 100) + "%");
    }
    parts.push("sentiment " + (score.compound >= 0 ? "+" : "") + score.compound.toFixed(2) + " (" + score.label + ")");
    if (score.category) parts.push("category " + score.category);
    const evidence = Object.entries(score.signals || {})
      .filter(([, words]) => words && words.length)
      .map(([name, words]) => name + ": " + [].concat(words).join(", "));
    if (evidence.length) parts.push("signals " + evidence.join("; "));
    parts.push("model " + score.model_name + " " + score.model_version + " (arm " + score.arm + ")");
    if (score.reasons && score.reasons.length) parts.push("escalated because " + score.reasons.join(" and "));
    return parts.join(" · ");
  }

  function render() {
    const shown = Array.from(items.values()).filter(visible).sort(compare);
    const nodes = shown.map(renderItem);
    list.replaceChildren(...nodes);
    empty.hidden = shown.length > 0;
    if (selectedId && !shown.some((i) => i.id === selectedId)) selectedId = null;
    highlight();
  }

  function renderItem(item) {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.id = item.id;
    node.classList.toggle("is-escalated", escalated(item));
    node.querySelector(".priority").textContent = item.score.priority.toFixed(1);
    node.querySelector(".escalated").hidden = !escalated(item);
    const slaNode = node.querySelector(".sla");
    slaNode.textContent = slaText(item);
    slaNode.dataset.state = (item.sla && item.sla.state) || "";
    node.querySelector(".status").textContent = t.statuses[item.status] || item.status.replace("_", " ");
    node.querySelector(".text").textContent = item.text;
    const repeats = item.sla && item.sla.repeat_contacts;
    node.querySelector(".why").textContent = whyText(item.score)
      + (repeats ? " · " + t.repeat_contacts.replace("%(count)s", repeats) : "");
    const open = node.querySelector(".open");
    open.href = "/staff/complaints/" + encodeURIComponent(item.id) + "/";
    const claim = node.querySelector(".claim");
    const release = node.querySelector(".release");
    const mine = item.claimed_by_id === me.id;
    claim.hidden = Boolean(item.claimed_by_id) || item.status === "resolved";
    release.hidden = !mine || item.status === "resolved";
    claim.addEventListener("click", () => act(item.id, "claim"));
    release.addEventListener("click", () => act(item.id, "release"));
    const holder = item.claimed_by ? t.claimed_by.replace("%(name)s", mine ? t.you : item.claimed_by) : "";
    node.querySelector(".claimed-by").textContent = [item.team ? t.team.replace("%(name)s", item.team) : "", holder]
      .filter(Boolean).join(" · ");
    node.addEventListener("click", (event) => { if (event.target === node) select(item.id); });
    return node;
  }

  function highlight() {
    for (const node of list.children) {
      const on = node.dataset.id === selectedId;
      node.classList.toggle("selected", on);
      node.setAttribute("aria-current", on ? "true" : "false");
    }
  }

  function select(id) {
    selectedId = id;
    highlight();
    const node = list.querySelector('[data-id="' + CSS.escape(id) + '"]');
    if (node) node.focus();
  }

  function showMessage(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  async function act(id, action) {
    showMessage("");
    let response;
    try {
      response = await fetch("/api/staff/complaints/" + encodeURIComponent(id) + "/" + action + "/", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json" },
        body: "{}",
      });
    } catch (e) {
      showMessage(t.action_unreachable);
      return;
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) {
      showMessage(data.detail || t.action_failed.replace("%(status)s", response.status));
      return;
    }
    upsert([data]);
  }

  // Live items that arrive while a full load is in flight: the load's snapshot may be
  // older than they are, so they are applied again on top of it.
  let loadSeq = 0;
  let pushedDuringLoad = null;

  function upsert(newItems) {
    for (const item of newItems) items.set(item.id, item);
    if (pushedDuringLoad) pushedDuringLoad.push(...newItems);
    render();
  }

  async function load() {
    const seq = ++loadSeq;
    pushedDuringLoad = [];
    const params = new URLSearchParams(currentFilters());
    let response;
    try {
      response = await fetch("/api/queue/?" + params.toString(), { credentials: "same-origin" });
    } catch (e) {
      if (seq === loadSeq) pushedDuringLoad = null;
      showMessage(t.load_unreachable);
      return;
    }
    if (seq !== loadSeq) return;  // a newer load (filter change, refresh) owns the list
    if (!response.ok) { pushedDuringLoad = null; showMessage(t.load_failed.replace("%(status)s", response.status)); return; }
    const data = await response.json();
    if (seq !== loadSeq) return;
    const pushed = pushedDuringLoad;
    pushedDuringLoad = null;
    items.clear();
    for (const item of data.results) items.set(item.id, item);
    upsert(pushed);
  }

  // Refreshes come once per big micro-batch while a backlog drains: those that arrive
  // within RELOAD_COALESCE_MS of each other cost one reload.
  const RELOAD_COALESCE_MS = 250;
  let reloadTimer = null;
  function reloadSoon() {
    if (reloadTimer !== null) return;
    reloadTimer = setTimeout(() => { reloadTimer = null; load(); }, RELOAD_COALESCE_MS);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/queue/");
    socket.addEventListener("open", () => {
      retryMs = 500;
      liveStatus.textContent = t.live;
      liveStatus.dataset.state = "live";
      load();  // catch up on anything pushed while disconnected
    });
    socket.addEventListener("message", (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "items") upsert(data.items);
      else if (data.type === "gone") { for (const id of data.ids) items.delete(id); render(); }
      else if (data.type === "refresh") reloadSoon();
    });
    socket.addEventListener("close", () => {
      liveStatus.textContent = t.reconnecting;
      liveStatus.dataset.state = "down";
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  filters.addEventListener("change", load);

  document.addEventListener("keydown", (event) => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
    const nodes = Array.from(list.children);
    const index = nodes.findIndex((n) => n.dataset.id === selectedId);
    if (event.key === "j" || event.key === "ArrowDown" && index >= 0) {
      const next = nodes[Math.min(nodes.length - 1, index + 1)];
      if (next) { select(next.dataset.id); event.preventDefault(); }
    } else if (event.key === "k" || event.key === "ArrowUp" && index >= 0) {
      const prev = nodes[Math.max(0, index - 1)];
      if (prev) { select(prev.dataset.id); event.preventDefault(); }
    } else if (event.key === "Enter" && selectedId && event.target.tagName !== "BUTTON" && event.target.tagName !== "A") {
      location.href = "/staff/complaints/" + encodeURIComponent(selectedId) + "/";
    } else if (event.key === "c" && selectedId) {
      act(selectedId, "claim");
    } else if (event.key === "r" && selectedId) {
      act(selectedId, "release");
    }
  });

  // The countdowns move on by themselves; the order changes when the SLA worker says so (a refresh).
  setInterval(() => {
    for (const node of list.children) {
      const item = items.get(node.dataset.id);
      if (item) node.querySelector(".sla").textContent = slaText(item);
    }
  }, 30000);

  connect();
})();
