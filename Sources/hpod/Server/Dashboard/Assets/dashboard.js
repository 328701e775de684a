// hpod's dashboard: live updates (server-sent events), part refreshes and the promote
// buttons. Served at /assets/dashboard.js; every page works without it.
(function () {
  var body = document.body, timer = null, pending = {};
  function partURL(name) { var u = new URL(location.href); u.searchParams.set('part', name); return u; }
  function refresh(name) {
    var el = document.querySelector('[data-part="' + name + '"]');
    if (!el) return;
    fetch(partURL(name), {credentials: 'same-origin'}).then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        el.outerHTML = html;
        // charts.js draws the part's charts anew
        document.dispatchEvent(new CustomEvent('hpod:part', {detail: name}));
      });
  }
  window.hpodRefresh = refresh;
  function schedule(names, delay) {
    names.forEach(function (n) { pending[n] = true; });
    if (timer) return;
    timer = setTimeout(function () { var n = Object.keys(pending); pending = {}; timer = null; n.forEach(refresh); }, delay);
  }
  function words(s) { return (s || '').split(' ').filter(Boolean); }
  var events = body.dataset.events;
  if (events && window.EventSource) {
    var status = document.getElementById('live-status');
    if (status) status.textContent = '○ connecting';
    var source = new EventSource(events);
    source.onopen = function () { if (status) status.textContent = '● live'; };
    source.onerror = function () { if (status) status.textContent = '○ reconnecting'; };
    ['study_started', 'trial_started', 'trial_finished', 'trial_pruned', 'trial_promoted', 'model_registered',
     'registration_skipped', 'promotion_judged', 'study_finished'].forEach(function (type) {
      source.addEventListener(type, function () { schedule(words(body.dataset.liveParts), 800); });
    });
    source.addEventListener('trial_metrics', function () { schedule(words(body.dataset.metricParts), 2500); });
  }
  function applyForm(form) {
    var u = new URL(location.href);
    new FormData(form).forEach(function (v, k) { if (v) u.searchParams.set(k, v); else u.searchParams.delete(k); });
    u.searchParams.delete('page');
    history.replaceState(null, '', u);
    words(form.dataset.refresh).forEach(refresh);
  }
  var typing = null;
  document.addEventListener('change', function (e) {
    var form = e.target.closest && e.target.closest('form[data-refresh]');
    if (form && e.target.type !== 'search') applyForm(form);
  });
  document.addEventListener('input', function (e) {
    var form = e.target.closest && e.target.closest('form[data-refresh]');
    if (form && e.target.type === 'search') { clearTimeout(typing); typing = setTimeout(function () { applyForm(form); }, 350); }
  });
  document.addEventListener('submit', function (e) {
    var form = e.target.closest('form[data-refresh]');
    if (form) { e.preventDefault(); applyForm(form); }
  });
  document.addEventListener('click', function (e) {
    var link = e.target.closest && e.target.closest('a[data-refresh]');
    if (link) { e.preventDefault(); history.replaceState(null, '', link.href); refresh(link.dataset.refresh); return; }
    var button = e.target.closest && e.target.closest('button[data-promote]');
    if (!button) return;
    e.preventDefault();
    button.disabled = true;
    var out = document.getElementById(button.dataset.output);
    fetch(button.dataset.promote, {method: 'POST', credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        var j = res[1], text = j.message || (j.error && j.error.message) || 'done';
        if (out) out.textContent = text;
        if (!res[0]) button.disabled = false;
      })
      .catch(function (err) { if (out) out.textContent = String(err); button.disabled = false; });
  });
})();
