// The portal's only script (CSP: script-src 'self'): the Activate Token countdown (and what the
// dialog shows once it runs out), the test sign-in's answer as it arrives, times in the viewer's
// time zone, and the https form of an online activation link. Every page works without it.
"use strict";
(function () {
  // Times: the server writes UTC; the viewer reads their own time zone.
  document.querySelectorAll("time[data-unix]").forEach(function (t) {
    const when = new Date(Number(t.dataset.unix) * 1000);
    t.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
    t.title = t.getAttribute("datetime");
  });

  const countdown = document.getElementById("countdown");
  if (countdown) {
    const expires = Number(countdown.dataset.expires);
    const announce = document.getElementById("countdown-announce");
    let lastMinute = -1;
    const tick = function () {
      const left = Math.max(0, expires - Math.floor(Date.now() / 1000));
      countdown.textContent = left > 0 ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : "expired";
      // Screen readers hear the time left once a minute, and the expiry, not every second.
      const minute = Math.ceil(left / 60);
      if (announce && left > 0 && minute !== lastMinute) {
        announce.textContent = minute + (minute === 1 ? " minute" : " minutes") + " left to activate";
        lastMinute = minute;
      }
      if (left > 0) {
        setTimeout(tick, 1000);
      } else {
        const live = document.getElementById("activation-live");
        if (live) live.hidden = true;
        const expired = document.getElementById("activation-expired");
        if (expired) expired.hidden = false;
        if (announce) announce.textContent = "The activation expired.";
      }
    };
    tick();
  }

  const state = document.getElementById("tx-state");
  if (state) {
    const poll = function () {
      fetch("/portal/transactions/" + encodeURIComponent(state.dataset.transaction), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (body.state) state.textContent = body.state;
          if (body.state === "pending") setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 1000);
  }

  // The https form of an online activation link (/activate#token=…): the token stays in the
  // fragment, which the browser never sends; this hands it to the app's softtoken:// link.
  const open = document.getElementById("open-app");
  if (open) {
    const token = (window.location.hash.match(/^#token=([0-9a-f]{32})$/) || [])[1];
    if (!token) {
      document.getElementById("open-app-missing").hidden = false;
    } else {
      const base = window.location.origin + window.location.pathname.replace(/\/activate$/, "");
      open.href = "softtoken://activate?base=" + encodeURIComponent(base) + "&token=" + token;
      open.hidden = false;
    }
  }
})();
