// Charts of the A/B results page (Chart.js from npm, served from static/vendor).
(function () {
  "use strict";
  // Choosing a version shows it (no inline handler: the CSP allows scripts from files only).
  const select = document.getElementById("experiment-select");
  if (select) select.addEventListener("change", () => select.form.submit());
  const data = JSON.parse(document.getElementById("ab-data").textContent);
  if (typeof Chart === "undefined") return;
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
  const series = data.variants.map((v) => ({ name: v.arm + ": " + v.model_name + " " + v.model_version, v }))
    .concat(data.shadows.map((s) => ({ name: "shadow " + s.model_name + " " + s.model_version, v: s })));
  new Chart(document.getElementById("compound-chart"), {
    type: "bar",
    data: {
      labels: data.bins.map((b) => b.toFixed(1)),
      datasets: series.map((s, i) => ({
        label: s.name,
        data: s.v.count ? s.v.histogram.map((n) => n / s.v.count) : s.v.histogram,
        backgroundColor: palette[i % palette.length] + "99",
      })),
    },
    options: { animation: false, scales: { y: { title: { display: true, text: "share of complaints" } },
      x: { title: { display: true, text: "compound (bin start)" } } } },
  });
  new Chart(document.getElementById("escalation-chart"), {
    type: "bar",
    data: {
      labels: data.variants.map((v) => v.arm + ": " + v.model_name + " " + v.model_version),
      datasets: [{ label: "escalation rate", data: data.variants.map((v) => v.escalation_rate),
        backgroundColor: data.variants.map((_, i) => palette[i % palette.length]) }],
    },
    options: { animation: false, scales: { y: { min: 0, max: 1 } } },
  });
})();
