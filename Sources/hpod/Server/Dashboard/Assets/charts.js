// hpod's dashboard: interactive charts and brushing. Served at /assets/charts.js after uPlot
// (Assets/vendor, MIT). Each server-rendered chart figure with data-chart carries its data as
// JSON; this draws it with uPlot in place of the SVG: hover names the nearest trial (number,
// value, parameters), a click opens its run page, dragging zooms, shift and drag pans, ctrl (or
// cmd) and the wheel zoom around the pointer, a double click resets. On
// parallel coordinates, dragging along an axis brushes a range: the runs table then lists the
// trials inside every brushed range (the ranges live in the address, ?brush=...). Without
// JavaScript the SVGs and the table stay as the server drew them.
(function () {
  var palette = ['#2d5fd3', '#d1495b', '#1a7f37', '#b26b00', '#7b3fb5', '#0b7d8a', '#b8b8b8'];
  var charts = [];
  window.hpodCharts = charts;

  function json(script) {
    try { return script ? JSON.parse(script.textContent) : null; } catch (e) { return null; }
  }

  // The x values all series share: each distinct value as often as one series holds it (a
  // slice has many trials at one category); each series' y (and trial) at its own slots.
  function align(series) {
    var need = new Map();
    series.forEach(function (s) {
      var count = new Map();
      s.x.forEach(function (x) {
        var c = (count.get(x) || 0) + 1;
        count.set(x, c);
        if (c > (need.get(x) || 0)) need.set(x, c);
      });
    });
    var distinct = Array.from(need.keys()).sort(function (a, b) { return a - b; });
    var start = new Map(), xs = [];
    distinct.forEach(function (x) { start.set(x, xs.length); for (var i = 0; i < need.get(x); i++) xs.push(x); });
    var data = [xs], trials = [null];
    series.forEach(function (s) {
      var ys = new Array(xs.length).fill(null), ts = null, used = new Map();
      if (s.t || s.trial != null) ts = new Array(xs.length).fill(null);
      s.x.forEach(function (x, i) {
        var k = used.get(x) || 0, at = start.get(x) + k;
        used.set(x, k + 1);
        ys[at] = s.y[i];
        if (ts) ts[at] = s.t ? s.t[i] : s.trial;
      });
      data.push(ys);
      trials.push(ts);
    });
    return {data: data, trials: trials};
  }

  function lowerBound(xs, v) { var lo = 0, hi = xs.length; while (lo < hi) { var m = (lo + hi) >> 1; if (xs[m] < v) lo = m + 1; else hi = m; } return lo; }

  // The trial nearest the cursor (in pixels): a point within 12 px, or a curve passing within
  // 8 px of it.
  function nearest(u, chart, left, top) {
    if (left == null || left < 0) return null;
    var xs = u.data[0], radius = 12;
    var a = u.posToVal(left - radius, 'x'), b = u.posToVal(left + radius, 'x');
    var i0 = lowerBound(xs, Math.min(a, b)), i1 = lowerBound(xs, Math.max(a, b) + 1e-12);
    var cx = u.posToVal(left, 'x'), best = null, bestD = radius * radius;
    for (var s = 1; s < u.series.length; s++) {
      var ts = chart.trials[s], ys = u.data[s];
      if (!ts || !u.series[s].show) continue;
      if (chart.spec.series[s - 1].style === 'points') {
        for (var i = i0; i < i1; i++) {
          if (ys[i] == null) continue;
          var dx = u.valToPos(xs[i], 'x') - left, dy = u.valToPos(ys[i], 'y') - top, d = dx * dx + dy * dy;
          if (d < bestD) { bestD = d; best = {series: s, idx: i}; }
        }
      } else {
        // the points either side of the cursor on this curve
        var j = lowerBound(xs, cx), p = j - 1, n = j;
        while (p >= 0 && ys[p] == null) p--;
        while (n < xs.length && ys[n] == null) n++;
        var y;
        if (p >= 0 && n < xs.length) {
          var px = u.valToPos(xs[p], 'x'), nx = u.valToPos(xs[n], 'x'), py = u.valToPos(ys[p], 'y'), ny = u.valToPos(ys[n], 'y');
          y = chart.spec.series[s - 1].style === 'steps' ? py : nx === px ? py : py + (ny - py) * (left - px) / (nx - px);
        } else if (p >= 0 && Math.abs(u.valToPos(xs[p], 'x') - left) < radius) y = u.valToPos(ys[p], 'y');
        else if (n < xs.length && Math.abs(u.valToPos(xs[n], 'x') - left) < radius) y = u.valToPos(ys[n], 'y');
        else continue;
        var dd = (y - top) * (y - top);
        if (dd < Math.min(bestD, 64)) {
          bestD = dd;
          var k = p >= 0 && (n >= xs.length || Math.abs(u.valToPos(xs[p], 'x') - left) <= Math.abs(u.valToPos(xs[n], 'x') - left)) ? p : n;
          best = {series: s, idx: k};
        }
      }
    }
    return best;
  }

  function text(tag, className, content) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (content != null) el.textContent = content;
    return el;
  }

  function showTip(chart, hit) {
    var tip = chart.tip, u = chart.u, spec = chart.spec;
    if (!hit) { tip.hidden = true; chart.trial = null; return; }
    var trial = chart.trials[hit.series][hit.idx], row = chart.table && chart.table.trials[trial];
    chart.trial = trial;
    tip.textContent = '';
    tip.appendChild(text('strong', null, 'trial ' + trial));
    var series = spec.series[hit.series - 1];
    var x = u.data[0][hit.idx], y = u.data[hit.series][hit.idx];
    var xText = spec.categories ? spec.categories[x] : String(x);
    // a curve of its own is named by its trial; a series of many trials by what they are
    if (series.trial == null) tip.appendChild(text('div', 'tip-meta', series.name));
    tip.appendChild(text('div', null, spec.y + ' ' + format(y) + (spec.x === 'trial' ? '' : ' at ' + spec.x + ' ' + xText)));
    if (row) {
      if (chart.table.objective !== spec.y) tip.appendChild(text('div', null, chart.table.objective + ' ' + format(row[2])));
      tip.appendChild(text('div', 'tip-meta', row[0] + ' · ' + row[1]));
      var list = text('dl');
      chart.table.params.forEach(function (name, i) {
        if (row[3][i] == null) return;
        list.appendChild(text('dt', null, name));
        list.appendChild(text('dd', null, row[3][i]));
      });
      tip.appendChild(list);
    }
    tip.hidden = false;
    var left = u.valToPos(x, 'x'), top = u.valToPos(y, 'y');
    var w = tip.offsetWidth, h = tip.offsetHeight, plotW = u.over.clientWidth;
    tip.style.left = (left + 14 + w > plotW ? left - 14 - w : left + 14) + 'px';
    tip.style.top = Math.max(0, top - h / 2) + 'px';
  }

  function format(v) {
    if (v == null) return '–';
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(+v.toPrecision(5));
  }

  var integerIncrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

  function draw(figure) {
    var spec = json(figure.querySelector('script.chart-data'));
    var svg = figure.querySelector('svg');
    if (!spec || !svg || !window.uPlot) return;
    var started = performance.now();
    var part = figure.closest('[data-part]') || document;
    var table = json(part.querySelector('script.trial-table'));
    var aligned = align(spec.series);
    var box = svg.viewBox.baseVal;
    var width = Math.min(box.width, Math.max(320, figure.clientWidth));
    var integerX = aligned.data[0].every(function (x) { return x === Math.round(x); });
    var xAxis = {label: spec.x, stroke: '#5b6474', grid: {stroke: '#eceff3'}};
    var xScale = {time: false};
    if (spec.categories) {
      var n = spec.categories.length;
      xScale.range = function () { return [-0.5, n - 0.5]; };
      xAxis.splits = function () { return spec.categories.map(function (_, i) { return i; }); };
      xAxis.values = function (u, splits) { return splits.map(function (v) { return spec.categories[v]; }); };
    } else if (spec.logX) {
      xScale.distr = 3;
      xScale.log = 10;
      // a label at each power of ten, the other grid lines unlabelled
      xAxis.values = function (u, splits) {
        return splits.map(function (v) { var e = Math.log10(v); if (Math.abs(e - Math.round(e)) > 1e-9) return '';
          return e >= -4 && e < 6 ? String(+v.toPrecision(1)) : '1e' + Math.round(e); });
      };
    } else if (integerX) {
      xAxis.incrs = integerIncrs;
    }
    var chart = {spec: spec, table: table, trials: aligned.trials, figure: figure, trial: null};
    var opts = {
      width: width,
      height: box.height,
      legend: {show: false},
      cursor: {points: {show: false}, drag: {x: true, y: true, uni: 30}},
      scales: {x: xScale, y: {}},
      axes: [xAxis, {label: spec.y, stroke: '#5b6474', grid: {stroke: '#eceff3'}, size: 60}],
      series: [{}].concat(spec.series.map(function (s) {
        var colour = palette[s.colour % palette.length], line = s.style !== 'points';
        return {
          label: s.name, stroke: colour, width: line ? (s.trial != null ? 1 : 2) : 0, spanGaps: true,
          alpha: s.trial != null && s.colour === 6 ? 0.6 : 1,
          paths: line ? (s.style === 'steps' ? uPlot.paths.stepped({align: 1}) : undefined) : function () { return null; },
          points: line ? {show: false} : {show: true, size: 5, width: 0, fill: colour, stroke: colour}
        };
      })),
      hooks: {
        setCursor: [function (u) { showTip(chart, nearest(u, chart, u.cursor.left, u.cursor.top)); }],
        draw: [function () {
          // how long the chart took to draw, and when it was drawn (bench/dashboard reads both)
          if (figure.dataset.drawMs) return;
          figure.dataset.drawMs = (performance.now() - started).toFixed(1);
          figure.dataset.drawnAt = performance.now().toFixed(1);
        }]
      }
    };
    var holder = text('div', 'uplot-holder');
    svg.style.display = 'none';
    svg.setAttribute('aria-hidden', 'true');
    figure.insertBefore(holder, svg);
    var u = new uPlot(opts, aligned.data, holder);
    chart.u = u;
    figure.uplot = u;
    chart.tip = text('div', 'chart-tip');
    chart.tip.hidden = true;
    chart.tip.setAttribute('role', 'tooltip');
    u.over.appendChild(chart.tip);
    var down = null, opening = null;
    u.over.addEventListener('mousedown', function (e) { down = [e.clientX, e.clientY]; });
    // A click on a trial opens its run, unless it is the first of a double click.
    u.over.addEventListener('click', function (e) {
      var moved = down && Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]) > 4;
      if (moved || chart.trial == null || e.detail > 1) return;
      var href = '/studies/' + spec.study + '/runs/' + chart.trial;
      clearTimeout(opening);
      opening = setTimeout(function () { location.href = href; }, 250);
    });
    // a double click shows everything again: x (uPlot resets it) and y
    u.over.addEventListener('dblclick', function () { clearTimeout(opening); u.setData(u.data, true); });
    u.over.style.cursor = 'crosshair';
    panAndWheel(u);
    figure.dataset.enhanced = 'uplot';
    charts.push(chart);
  }

  // A scale's values as the chart spaces them (log10 on a log axis), and back.
  function spaced(u, key) {
    var log = u.scales[key].distr === 3;
    return {to: log ? Math.log10 : function (v) { return v; }, from: log ? function (v) { return Math.pow(10, v); } : function (v) { return v; }};
  }

  // Shift and drag moves the view with the pointer (pan); ctrl (or cmd) and the wheel zoom x
  // and y around the pointer. Listened for in the capture phase on the chart's root, so
  // uPlot's own drag (which zooms) never sees a shifted press.
  function panAndWheel(u) {
    var pan = null;
    u.root.addEventListener('mousedown', function (e) {
      if (!e.shiftKey || !u.over.contains(e.target)) return;
      e.stopPropagation();
      e.preventDefault();
      pan = {x: e.clientX, y: e.clientY, sx: [u.scales.x.min, u.scales.x.max], sy: [u.scales.y.min, u.scales.y.max]};
    }, true);
    document.addEventListener('mousemove', function (e) {
      if (!pan) return;
      var fx = spaced(u, 'x'), fy = spaced(u, 'y');
      var x0 = fx.to(pan.sx[0]), x1 = fx.to(pan.sx[1]), y0 = fy.to(pan.sy[0]), y1 = fy.to(pan.sy[1]);
      var dx = (e.clientX - pan.x) / u.over.clientWidth * (x1 - x0);
      var dy = (e.clientY - pan.y) / u.over.clientHeight * (y1 - y0);
      u.batch(function () {
        u.setScale('x', {min: fx.from(x0 - dx), max: fx.from(x1 - dx)});
        u.setScale('y', {min: fy.from(y0 + dy), max: fy.from(y1 + dy)});
      });
    });
    document.addEventListener('mouseup', function () { pan = null; });
    u.over.addEventListener('wheel', function (e) {
      if (!e.ctrlKey && !e.metaKey) return;  // the wheel alone scrolls the page
      e.preventDefault();
      var factor = e.deltaY < 0 ? 0.8 : 1.25, r = u.over.getBoundingClientRect();
      var at = {x: (e.clientX - r.left) / r.width, y: 1 - (e.clientY - r.top) / r.height};
      u.batch(function () {
        ['x', 'y'].forEach(function (key) {
          var f = spaced(u, key), lo = f.to(u.scales[key].min), hi = f.to(u.scales[key].max);
          var pivot = lo + (hi - lo) * at[key];
          u.setScale(key, {min: f.from(pivot - (pivot - lo) * factor), max: f.from(pivot + (hi - pivot) * factor)});
        });
      });
    }, {passive: false});
  }

  function drawAll(root) {
    for (var i = charts.length - 1; i >= 0; i--) {
      if (!charts[i].figure.isConnected) { charts[i].u.destroy(); charts.splice(i, 1); }
    }
    (root || document).querySelectorAll('figure.chart[data-chart]').forEach(function (figure) {
      if (!figure.dataset.enhanced) draw(figure);
    });
  }

  // ---- Brushing on parallel coordinates ----

  function brushes() {
    var text = new URL(location.href).searchParams.get('brush') || '', out = {};
    text.split(';').forEach(function (entry) {
      var parts = entry.split(':');
      if (parts.length !== 3) return;
      out[decodeURIComponent(parts[0])] = [parseFloat(parts[1]), parseFloat(parts[2])];
    });
    return out;
  }

  function setBrushes(ranges) {
    var u = new URL(location.href), entries = Object.keys(ranges).map(function (name) {
      return encodeURIComponent(name) + ':' + ranges[name][0] + ':' + ranges[name][1];
    });
    if (entries.length) u.searchParams.set('brush', entries.join(';')); else u.searchParams.delete('brush');
    u.searchParams.delete('page');
    history.replaceState(null, '', u);
    if (window.hpodRefresh) window.hpodRefresh('runs');
  }

  // An axis keeps unit positions (0 at the bottom, 1 at the top) for a parameter, values for
  // the objective; both as the server reads ?brush.
  function axisRange(axis, y0, y1) {
    var top = +axis.dataset.top, bottom = +axis.dataset.bottom;
    var u0 = Math.min(1, Math.max(0, (bottom - Math.max(y0, y1)) / (bottom - top)));
    var u1 = Math.min(1, Math.max(0, (bottom - Math.min(y0, y1)) / (bottom - top)));
    if (axis.dataset.objective == null) return [+u0.toFixed(4), +u1.toFixed(4)];
    var low = +axis.dataset.low, high = +axis.dataset.high;
    var a = low + u0 * (high - low), b = low + u1 * (high - low);
    return [Math.min(a, b), Math.max(a, b)];
  }

  function rangeY(axis, range) {
    var top = +axis.dataset.top, bottom = +axis.dataset.bottom, u0 = range[0], u1 = range[1];
    if (axis.dataset.objective != null) {
      var low = +axis.dataset.low, high = +axis.dataset.high, span = high - low || 1;
      u0 = (range[0] - low) / span; u1 = (range[1] - low) / span;
    }
    var a = bottom - u0 * (bottom - top), b = bottom - u1 * (bottom - top);
    return [Math.min(a, b), Math.max(a, b)];
  }

  function paintBrushes(figure) {
    var svg = figure.querySelector('svg'), ranges = brushes(), ns = 'http://www.w3.org/2000/svg';
    svg.querySelectorAll('.pc-brush').forEach(function (r) { r.remove(); });
    var axes = Array.prototype.slice.call(svg.querySelectorAll('line.pc-axis'));
    var bands = [];
    axes.forEach(function (axis, index) {
      var range = ranges[axis.dataset.name];
      if (!range) return;
      var ys = rangeY(axis, range), rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('class', 'pc-brush');
      rect.setAttribute('x', +axis.getAttribute('x1') - 7);
      rect.setAttribute('width', 14);
      rect.setAttribute('y', ys[0]);
      rect.setAttribute('height', Math.max(1, ys[1] - ys[0]));
      svg.appendChild(rect);
      bands.push([index, ys[0] - 0.05, ys[1] + 0.05]);
    });
    var inside = 0;
    svg.querySelectorAll('path.pc-line').forEach(function (path) {
      if (!path._ys) path._ys = (path.getAttribute('d').match(/[ML][^ML]+/g) || []).map(function (p) { return +p.trim().split(/\s+/)[1]; });
      var ok = bands.every(function (band) { var y = path._ys[band[0]]; return y >= band[1] && y <= band[2]; });
      path.classList.toggle('pc-out', !ok);
      if (ok) inside++;
    });
    figure.dataset.brushed = bands.length ? String(inside) : '';
  }

  function brushable(figure) {
    var svg = figure.querySelector('svg');
    if (!svg || figure.dataset.brushable) return;
    figure.dataset.brushable = '1';
    var drag = null, ns = 'http://www.w3.org/2000/svg';
    function point(e) { var p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY; return p.matrixTransform(svg.getScreenCTM().inverse()); }
    svg.addEventListener('pointerdown', function (e) {
      var p = point(e), axis = null, distance = 16;
      svg.querySelectorAll('line.pc-axis').forEach(function (line) {
        var d = Math.abs(+line.getAttribute('x1') - p.x);
        if (d < distance) { distance = d; axis = line; }
      });
      if (!axis) return;
      e.preventDefault();
      svg.setPointerCapture(e.pointerId);
      var rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('class', 'pc-brush pc-brushing');
      rect.setAttribute('x', +axis.getAttribute('x1') - 7);
      rect.setAttribute('width', 14);
      svg.appendChild(rect);
      drag = {axis: axis, y0: p.y, rect: rect};
    });
    svg.addEventListener('pointermove', function (e) {
      if (!drag) return;
      var y = point(e).y, top = +drag.axis.dataset.top, bottom = +drag.axis.dataset.bottom;
      y = Math.min(bottom, Math.max(top, y));
      drag.rect.setAttribute('y', Math.min(drag.y0, y));
      drag.rect.setAttribute('height', Math.abs(y - drag.y0));
    });
    svg.addEventListener('pointerup', function (e) {
      if (!drag) return;
      var d = drag, y = point(e).y, ranges = brushes();
      drag = null;
      d.rect.remove();
      // a click on an axis clears its range
      if (Math.abs(y - d.y0) < 3) delete ranges[d.axis.dataset.name];
      else ranges[d.axis.dataset.name] = axisRange(d.axis, d.y0, y);
      setBrushes(ranges);
      paintBrushes(figure);
    });
    paintBrushes(figure);
  }

  function brushAll(root) {
    (root || document).querySelectorAll('figure.parallel').forEach(function (figure) {
      brushable(figure);
      paintBrushes(figure);
    });
  }

  drawAll(document);
  brushAll(document);
  document.addEventListener('hpod:part', function (e) {
    var root = document.querySelector('[data-part="' + e.detail + '"]');
    if (!root) return;
    drawAll(root);
    // a new table or a cleared range: the brushes drawn follow the address
    brushAll(document);
  });
})();
