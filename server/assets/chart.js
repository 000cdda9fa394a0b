// Live chart of the collector's readings: loads the latest readings as JSON, then adds each new
// one from the server-sent event stream. Plain SVG, no libraries.
'use strict';
(function () {
  var MAX_POINTS = 2000;
  var W = 800, H = 400, M = { left: 50, right: 15, top: 15, bottom: 40 };
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  var SVG_NS = 'http://www.w3.org/2000/svg';

  var params = new URLSearchParams(location.search);
  var sensor = params.get('sensor');
  var filter = sensor ? '?sensor=' + encodeURIComponent(sensor) : '';
  var readings = [];
  var seen = {};
  var chart = document.getElementById('chart');
  var statusEl = document.getElementById('status');
  var legend = document.getElementById('legend');
  document.getElementById('json-link').href = 'readings' + filter;
  document.getElementById('csv-link').href = 'readings.csv' + filter;

  function add(r) {
    if (seen[r.id]) return;
    seen[r.id] = true;
    r.t = Date.parse(r.time);
    readings.push(r);
  }

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG_NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function round(c) { return +c.toFixed(2); }

  function seriesName(r) { return r.sensor || '(no sensor id)'; }

  function niceStep(span, count) {
    var raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * mag >= raw) return steps[i] * mag;
    return 10 * mag;
  }

  function timeLabel(t, span) {
    var d = new Date(t);
    var hms = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    if (span < 10000) hms += '.' + String(d.getMilliseconds()).padStart(3, '0');
    return span > 86400000 ? d.toLocaleDateString() + ' ' + hms : hms;
  }

  function draw() {
    while (chart.firstChild) chart.removeChild(chart.firstChild);
    while (legend.firstChild) legend.removeChild(legend.firstChild);
    if (readings.length === 0) {
      chart.appendChild(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'No readings yet'));
      return;
    }
    var t0 = readings[0].t, t1 = readings[readings.length - 1].t;
    var lo = Infinity, hi = -Infinity;
    readings.forEach(function (r) { lo = Math.min(lo, r.celsius); hi = Math.max(hi, r.celsius); });
    if (hi - lo < 1) { lo -= 0.5; hi += 0.5; }
    var pad = (hi - lo) * 0.08;
    lo -= pad; hi += pad;
    if (t1 === t0) { t0 -= 1000; t1 += 1000; }
    var x = function (t) { return M.left + (t - t0) / (t1 - t0) * (W - M.left - M.right); };
    var y = function (c) { return H - M.bottom - (c - lo) / (hi - lo) * (H - M.top - M.bottom); };

    var step = niceStep(hi - lo, 6);
    for (var v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      chart.appendChild(el('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: 'grid' }));
      chart.appendChild(el('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, +v.toFixed(2) + ' °C'));
    }
    for (var i = 0; i <= 4; i++) {
      var t = t0 + (t1 - t0) * i / 4;
      var anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
      chart.appendChild(el('text', { x: x(t), y: H - M.bottom + 18, 'text-anchor': anchor, class: 'tick' }, timeLabel(t, t1 - t0)));
    }
    chart.appendChild(el('line', { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: 'axis' }));
    chart.appendChild(el('line', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: 'axis' }));

    var series = {}, names = [];
    readings.forEach(function (r) {
      var n = seriesName(r);
      if (!series[n]) { series[n] = []; names.push(n); }
      series[n].push(r);
    });
    names.forEach(function (n, k) {
      var color = COLORS[k % COLORS.length];
      var pts = series[n].map(function (r) { return x(r.t).toFixed(1) + ',' + y(r.celsius).toFixed(1); });
      chart.appendChild(el('polyline', { points: pts.join(' '), class: 'line', stroke: color }));
      series[n].forEach(function (r) {
        var c = el('circle', { cx: x(r.t), cy: y(r.celsius), r: 3.5, fill: color, class: 'point',
          'data-id': r.id, 'data-celsius': r.celsius });
        c.appendChild(el('title', {}, round(r.celsius) + ' °C · ' + r.time + (r.sensor ? ' · ' + r.sensor : '') + ' · ' + r.client));
        chart.appendChild(c);
      });
      var li = document.createElement('li');
      var sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = color;
      li.appendChild(sw);
      li.appendChild(document.createTextNode(n + ' (' + series[n].length + ')'));
      legend.appendChild(li);
    });
  }

  function showStatus(extra) {
    var last = readings[readings.length - 1];
    var text = readings.length + ' reading' + (readings.length === 1 ? '' : 's');
    if (last) text += ', latest ' + round(last.celsius) + ' °C at ' + new Date(last.t).toLocaleTimeString();
    statusEl.textContent = text + (extra ? ' — ' + extra : '');
    statusEl.className = extra ? 'offline' : '';
  }

  function sortReadings() {
    readings.sort(function (a, b) { return a.t - b.t || a.id - b.id; });
    while (readings.length > MAX_POINTS) delete seen[readings.shift().id];
  }

  // (Re)loads the latest readings; merged with what the event stream already delivered, so no
  // reading posted while the page was loading or reconnecting is missed.
  function load() {
    fetch('readings' + (filter ? filter + '&' : '?') + 'limit=' + MAX_POINTS)
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (body) { body.readings.forEach(add); sortReadings(); draw(); showStatus(); })
      .catch(function (err) { showStatus('could not load readings: ' + err.message); });
  }

  var events = new EventSource('events' + filter);
  events.addEventListener('reading', function (e) {
    add(JSON.parse(e.data));
    sortReadings();
    draw();
    showStatus();
  });
  events.onopen = load;
  events.onerror = function () { showStatus('connection lost, retrying'); };
  draw();
})();
