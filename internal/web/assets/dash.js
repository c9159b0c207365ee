// orgguard team dashboard: progressive enhancement. An element with
// data-deadline (an RFC 3339 time) counts down to it once a second:
// "4m05s" followed by data-left, then data-overdue followed by the time
// past it. Without JavaScript the server's text stays (correct when the
// page was loaded).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const fmt = (ms) => {
    const s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    if (h > 0) return `${h}h${two(m)}m`;
    if (m > 0) return `${m}m${two(sec)}s`;
    return `${sec}s`;
  };
  const els = document.querySelectorAll("[data-deadline]");
  if (els.length === 0) return;
  const tick = () => {
    for (const el of els) {
      const left = Date.parse(el.dataset.deadline) - Date.now();
      if (Number.isNaN(left)) continue;
      el.textContent = left >= 0 ? `${fmt(left)} ${el.dataset.left}` : `${el.dataset.overdue} ${fmt(left)}`;
      el.closest(".notice-clock")?.classList.toggle("overdue", left < 0);
    }
  };
  tick();
  setInterval(tick, 1000);
});
