import Foundation
import HPODAPI

/// The page shell every dashboard page shares: head, styles, header, and the small inline
/// script for live updates (server-sent events), part refreshes and the promote buttons.
struct Page {
  var title: String
  var crumbs: [(String, String?)] = []
  /// Parts by name, rendered lazily: `?part=NAME` returns one of them alone.
  var parts: [(name: String, render: () throws -> HTML)] = []
  /// The event stream that keeps the page live, and the parts each kind of event refreshes.
  var events: String?
  var liveParts: [String] = []
  var metricParts: [String] = []
  /// Markup around the parts: what comes before each named part.
  var layout: (_ part: (String) throws -> HTML) throws -> HTML

  func render() throws -> HTML {
    let content = try layout { name in try part(name) }
    let crumbs = self.crumbs.map { label, link -> HTML in
      if let link { return "<a href=\"\(link)\">\(label)</a>" }
      return "<span aria-current=\"page\">\(label)</span>"
    }
    let live: HTML =
      events == nil
      ? .empty
      : "<span id=\"live-status\" class=\"live\" role=\"status\" aria-live=\"polite\">live updates need JavaScript</span>"
    return """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(title) · hpod</title><style>\(HTML(raw: Self.css))</style></head>
      <body data-events="\(events ?? "")" data-live-parts="\(liveParts.joined(separator: " "))" data-metric-parts="\(metricParts.joined(separator: " "))">
      <header><nav aria-label="breadcrumbs"><a class="brand" href="/">hpod</a>\(crumbs.map { " / " + $0 })</nav>\(live)</header>
      <main>\(content)</main>
      <footer>hpod dashboard · <a href="/api/v1/studies">JSON API</a></footer>
      <script>\(HTML(raw: Self.script))</script>
      </body></html>
      """
  }

  func part(_ name: String) throws -> HTML {
    guard let part = parts.first(where: { $0.name == name }) else { return .empty }
    return "<div data-part=\"\(name)\">\(try part.render())</div>"
  }

  static let css = """
    :root{--ink:#1d2330;--muted:#5b6474;--line:#d8dde6;--bg:#f6f7f9;--card:#fff;--accent:#2d5fd3;--good:#1a7f37;--bad:#b42318}
    *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:var(--bg)}
    header{display:flex;justify-content:space-between;align-items:center;padding:10px 20px;background:#1d2330;color:#fff}
    header a{color:#fff;text-decoration:none}header .brand{font-weight:700}.live{font-size:12px;color:#b8c4d6}
    main{padding:16px 20px;max-width:1400px;margin:0 auto}footer{padding:12px 20px;color:var(--muted);font-size:12px}
    h1{font-size:22px;margin:4px 0 12px}h2{font-size:17px;margin:22px 0 8px}a{color:var(--accent)}
    section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:12px 0}
    .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px}
    .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
    .card h3{margin:0 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
    .card .big{font-size:24px;font-weight:650}.card dl{margin:6px 0 0;font-size:12px;display:grid;grid-template-columns:auto 1fr;gap:0 8px}
    .card dt{color:var(--muted)}.card dd{margin:0;overflow-wrap:anywhere}
    table{border-collapse:collapse;width:100%;font-size:13px}caption{text-align:left;color:var(--muted);padding:4px 0}
    th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;white-space:nowrap}th{background:#eef1f5;position:sticky;top:0}
    td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.scroll{overflow-x:auto;max-height:640px}
    th a{color:inherit;text-decoration:none}th[aria-sort] a::after{content:" ▲"}th[aria-sort=descending] a::after{content:" ▼"}
    .badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;background:#e8ebf0}
    .badge.completed{background:#dcf5e3;color:#135c2a}.badge.running{background:#dde8ff;color:#1d3f99}.badge.failed,.badge.timed_out{background:#fde2e0;color:#8a1c12}
    .badge.pruned{background:#fff1d6;color:#7a4b00}.badge.cancelled,.badge.interrupted{background:#eee;color:#444}
    .progress{height:8px;background:#e8ebf0;border-radius:4px;min-width:120px;overflow:hidden}.progress span{display:block;height:100%;background:var(--accent)}
    form.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:end;margin:6px 0 10px}form.controls label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
    select,input,button{font:inherit;padding:4px 6px;border:1px solid #b9c1cd;border-radius:5px;background:#fff}
    button{cursor:pointer;background:var(--accent);color:#fff;border-color:var(--accent)}button.secondary{background:#fff;color:var(--accent)}
    button:disabled{opacity:.6;cursor:default}
    .chart{margin:8px 0}.chart svg{max-width:100%;height:auto;background:#fff}.chart figcaption{font-size:12px;color:var(--muted)}
    .grid{stroke:#eceff3}.axis{stroke:#8a93a3}.tick{font-size:11px;fill:#5b6474}.label{font-size:12px;fill:#1d2330}
    .series{fill:none;stroke-width:2}.s0{stroke:#2d5fd3;fill:#2d5fd3}.s1{stroke:#d1495b;fill:#d1495b}.s2{stroke:#1a7f37;fill:#1a7f37}
    .s3{stroke:#b26b00;fill:#b26b00}.s4{stroke:#7b3fb5;fill:#7b3fb5}.s5{stroke:#0b7d8a;fill:#0b7d8a}path.series{fill:none}
    .points circle{opacity:.55}.legend{list-style:none;display:flex;gap:14px;padding:0;margin:4px 0;font-size:12px}
    .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:middle}.swatch.s0{background:#2d5fd3}
    .swatch.s1{background:#d1495b}.swatch.s2{background:#1a7f37}.swatch.s3{background:#b26b00}.swatch.s4{background:#7b3fb5}.swatch.s5{background:#0b7d8a}
    .cell{stroke:#fff}.cell.best{stroke:#111;stroke-width:3}.cell.registered{stroke:#d1495b;stroke-width:3}.cell-value{font-size:12px}
    .best-marker,.registered-marker{font-size:13px}.pc-line{fill:none;stroke-width:1.2;opacity:.45}.pc-line.best{stroke-width:3.5;opacity:1;stroke:#d1495b}
    .bar{height:12px;background:var(--accent);border-radius:3px}.differs{background:#fff6d6}.differs th{background:#ffeaa6}
    .better{color:var(--good)}.worse{color:var(--bad)}pre{background:#11151c;color:#e6e9ef;padding:10px;border-radius:6px;overflow:auto;max-height:360px;font-size:12px}
    .recommendation{font-size:16px;padding:12px;border-left:4px solid var(--accent);background:#eef3ff}.empty{color:var(--muted)}
    .visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
    .error{color:var(--bad);font-weight:600}
    .two{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}.message{color:var(--good);font-weight:600}
    """

  static let script = #"""
    (function () {
      var body = document.body, timer = null, pending = {};
      function partURL(name) { var u = new URL(location.href); u.searchParams.set('part', name); return u; }
      function refresh(name) {
        var el = document.querySelector('[data-part="' + name + '"]');
        if (!el) return;
        fetch(partURL(name), {credentials: 'same-origin'}).then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) el.outerHTML = html; });
      }
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
    """#
}

extension Page {
  /// A page with one block of content and no parts.
  static func simple(title: String, crumbs: [(String, String?)] = [], content: HTML) -> Page {
    Page(title: title, crumbs: crumbs, layout: { _ in content })
  }
}
