// Charts of the operational reports page (Chart.js from npm, served from static/vendor);
// the figures come from the page itself (json_script), as the tables show them.
(function () {
  "use strict";
  const element = document.getElementById("reports-data");
  if (!element || typeof Chart === "undefined") return;
  const data = JSON.parse(element.textContent);
  const s = data.strings;
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"];
  const colour = (i) => palette[i % palette.length];
  const categoryName = (c) => (c === "" ? s.no_category : c);
  const base = { animation: false, responsive: true };

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }

  const categories = Object.keys(data.volume_by_category).sort();
  const volume = categories.length
    ? categories.map((c, i) => ({ type: "bar", label: categoryName(c), data: data.volume_by_category[c],
      backgroundColor: colour(i), stack: "received" }))
    : [{ type: "bar", label: s.received, data: data.received, backgroundColor: colour(0), stack: "received" }];
  volume.push({ type: "line", label: s.resolved, data: data.resolved, borderColor: "#000", backgroundColor: "#000" });
  draw("reports-volume-chart", {
    data: { labels: data.labels, datasets: volume },
    options: { ...base, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
      title: { display: true, text: s.complaints } } } },
  });

  const times = ["first_reply_p50", "first_reply_p90", "resolution_p50", "resolution_p90"];
  draw("reports-times-chart", {
    type: "line",
    data: { labels: data.labels, datasets: times.map((name, i) => ({ label: s[name], data: data[name],
      borderColor: colour(i), backgroundColor: colour(i), borderDash: name.endsWith("p90") ? [6, 4] : [] })) },
    options: { ...base, scales: { y: { beginAtZero: true, title: { display: true, text: s.hours } } } },
  });

  draw("reports-sla-chart", {
    type: "line",
    data: { labels: data.labels, datasets: ["first_reply_sla", "resolution_sla"].map((name, i) => ({
      label: s[name], data: data[name], borderColor: colour(i + 2), backgroundColor: colour(i + 2) })) },
    options: { ...base, scales: { y: { min: 0, max: 1, title: { display: true, text: s.share } } } },
  });

  const backlog = Object.keys(data.backlog.by_category).sort();
  draw("reports-backlog-chart", {
    type: "bar",
    data: { labels: data.backlog.labels, datasets: backlog.map((c, i) => ({ label: categoryName(c),
      data: data.backlog.by_category[c], backgroundColor: colour(i) })) },
    options: { ...base, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
      title: { display: true, text: s.open } } } },
  });

  draw("reports-agents-chart", {
    type: "bar",
    data: { labels: data.agents.labels, datasets: [
      { label: s.open, data: data.agents.open, backgroundColor: colour(1) },
      { label: s.agent_resolved, data: data.agents.resolved, backgroundColor: colour(2) }] },
    options: { ...base, indexAxis: "y", scales: { x: { beginAtZero: true } } },
  });
})();
