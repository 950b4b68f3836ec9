// The portal's only script (CSP: script-src 'self'): the Activate Token countdown and the
// test sign-in's answer, polled as it arrives.
"use strict";
(function () {
  const countdown = document.getElementById("countdown");
  if (countdown) {
    const expires = Number(countdown.dataset.expires);
    const tick = function () {
      const left = Math.max(0, expires - Math.floor(Date.now() / 1000));
      countdown.textContent = left > 0 ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : "expired";
      if (left > 0) setTimeout(tick, 1000);
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
})();
