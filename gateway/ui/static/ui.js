// edigate ops UI: the only script (the CSP forbids inline ones). Builds DOM nodes with
// textContent only: partner data is never parsed as HTML.
"use strict";

function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function badge(td, text, kind) {
  if (!text) return;
  const span = document.createElement("span");
  span.className = kind === "status" ? "status st-" + text.toLowerCase() : "ack ack-" + text.toLowerCase();
  span.textContent = text;
  td.appendChild(span);
}

function logRow(item) {
  const tr = document.createElement("tr");
  tr.dataset.id = item.id;
  tr.className = "fresh";
  const time = document.createElement("td");
  time.className = "time";
  const link = document.createElement("a");
  link.href = "/ui/messages/" + encodeURIComponent(item.id);
  link.textContent = item.received_at;
  time.appendChild(link);
  tr.appendChild(time);
  const id = cell(tr, "", "mono msg-id");
  id.title = item.id;
  const idLink = document.createElement("a");
  idLink.href = link.href;
  idLink.textContent = item.short_id;
  id.appendChild(idLink);
  cell(tr, item.partner_id);
  cell(tr, item.direction);
  cell(tr, item.transport);
  cell(tr, item.standard + " " + item.types);
  cell(tr, item.control, "mono");
  cell(tr, item.number, "mono");
  const orders = cell(tr, "", "mono order-cell");
  (item.orders || []).forEach(function (po, i) {
    if (i) orders.appendChild(document.createTextNode(", "));
    const a = document.createElement("a");
    a.href = "/ui/orders/" + encodeURIComponent(item.partner_id) + "/" + encodeURIComponent(po);
    a.textContent = po;
    orders.appendChild(a);
  });
  badge(cell(tr, "", "st-cell"), item.status, "status");
  badge(cell(tr, "", "ack-cell"), item.ack_status, "ack");
  return tr;
}

function setBadge(td, text, kind) {
  if (!td) return;
  const current = td.firstElementChild ? td.firstElementChild.textContent : "";
  if (current === text) return;
  td.replaceChildren();
  badge(td, text, kind);
}

// The rows' statuses, refreshed in place: a message moves from RECEIVED to its final
// status (or back, when reprocessed) while the page is open. One small request for the
// ids shown, whatever the page (older pages and the partner view included).
function liveStatuses(table) {
  const url = table.dataset.statuses;
  if (!url) return;
  const tbody = table.tBodies[0];
  async function poll() {
    const rows = Array.from(tbody.querySelectorAll("tr[data-id]")).slice(0, 50);
    if (rows.length) {
      const query = rows.map((tr) => "id=" + encodeURIComponent(tr.dataset.id)).join("&");
      try {
        const response = await fetch(url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (response.ok) {
          const items = (await response.json()).items || {};
          for (const tr of rows) {
            const item = items[tr.dataset.id];
            if (!item) continue;
            setBadge(tr.querySelector("td.st-cell"), item.status, "status");
            setBadge(tr.querySelector("td.ack-cell"), item.ack_status, "ack");
          }
        }
      } catch (e) { /* offline for a moment: try again at the next tick */ }
    }
    setTimeout(poll, 3000);
  }
  setTimeout(poll, 3000);
}

function liveLog(table) {
  const base = table.dataset.updates;
  if (!base) return;
  const live = document.getElementById("live");
  if (live) live.hidden = false;
  const tbody = table.tBodies[0];
  async function poll() {
    const after = table.dataset.after || new Date(0).toISOString();
    const url = base + (base.includes("?") ? "&" : "?") + "after=" +
      encodeURIComponent(after) + "&after_id=" + encodeURIComponent(table.dataset.afterId || "");
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        const items = data.items || [];
        for (let i = items.length - 1; i >= 0; i--) {
          if (tbody.querySelector('tr[data-id="' + CSS.escape(items[i].id) + '"]')) continue;
          tbody.insertBefore(logRow(items[i]), tbody.firstChild);
        }
        if (items.length) {
          table.dataset.after = items[0].received_iso;
          table.dataset.afterId = items[0].id;
        }
      }
    } catch (e) { /* offline for a moment: try again at the next tick */ }
    setTimeout(poll, 3000);
  }
  setTimeout(poll, 3000);
}

function watchStatus(facts) {
  const url = facts.dataset.statusUrl;
  if (!url) return;
  async function poll() {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok && (await response.json()).final) {
        window.location.replace(window.location.pathname);
        return;
      }
    } catch (e) { /* retry */ }
    setTimeout(poll, 1500);
  }
  setTimeout(poll, 1500);
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("log");
  if (table) liveLog(table);
  for (const log of document.querySelectorAll("table[data-statuses]")) liveStatuses(log);
  const facts = document.getElementById("facts");
  if (facts) watchStatus(facts);
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
