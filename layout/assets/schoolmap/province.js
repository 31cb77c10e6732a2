/* Province overview map helpers (part of this project, MIT licence); needs schoolmap.js.
 *
 * One clickable polygon per prefecture (popup: its totals per level and links to its own map and
 * workbook) and, per level, one proportional circle per prefecture labelled "before→after".
 * Every user string goes in with textContent. Exposes, for tests, window.__prefectureCount,
 * window.__prefectureLinks and window.__aggregateCounts (level -> circles drawn).
 */
(function (SM) {
  "use strict";
  var el = SM.el;
  window.__prefectureCount = 0;
  window.__prefectureLinks = [];
  window.__aggregateCounts = {};

  function fmt(value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (typeof value === "number") { return value.toLocaleString("zh-CN"); }
    return String(value);
  }

  function pct(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
  }

  function link(href, text) {
    var a = el("a", "sm-link", text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }

  /* rows: [[level label, before, after, closed, new, seats added, utilisation], ...] */
  function levelTable(heads, rows) {
    var table = el("table", "sm-grid");
    var head = el("tr");
    heads.forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    rows.forEach(function (r) {
      var tr = el("tr");
      r.forEach(function (v, i) {
        var text = i === 0 ? v : (i === r.length - 1 ? pct(v) : fmt(v));
        tr.appendChild(el("td", i === 0 ? null : "sm-num", text));
      });
      table.appendChild(tr);
    });
    return table;
  }

  /* geojson properties: code, name, counties, map, book, rows; config: {heads, style} */
  SM.prefectureLayer = function (group, geojson, config) {
    var layer = L.geoJSON(geojson, {
      style: function () { return config.style; },
      onEachFeature: function (feature, lyr) {
        var p = feature.properties;
        lyr.bindTooltip(function () { return el("b", null, p.name); }, { sticky: true });
        lyr.bindPopup(function () {
          var box = el("div", "sm-facts");
          var title = p.name === p.code ? p.code : p.name + "（" + p.code + "）";
          box.appendChild(el("div", "sm-title", title + " · " + p.counties + " 个县区"));
          box.appendChild(levelTable(config.heads, p.rows));
          var links = el("div", "sm-links");
          if (p.map) { links.appendChild(link(p.map, "打开本市州地图")); }
          if (p.book) { links.appendChild(link(p.book, "本市州工作簿 layout.xlsx")); }
          box.appendChild(links);
          return box;
        }, { maxWidth: 520 });
        lyr.on("mouseover", function () { lyr.setStyle({ weight: config.style.weight + 1.5 }); });
        lyr.on("mouseout", function () { lyr.setStyle({ weight: config.style.weight }); });
        window.__prefectureLinks.push(p.map || null);
      }
    });
    group.addLayer(layer);
    window.__prefectureCount += geojson.features.length;
    return layer;
  };

  /* data: {level, label, cols, rows, maxAfter, colors: {fewer, more, same}} */
  SM.aggregateLayer = function (group, data) {
    var c = {};
    data.cols.forEach(function (name, i) { c[name] = i; });
    data.rows.forEach(function (r) {
      var before = r[c.schools_before], after = r[c.schools_after];
      var share = data.maxAfter > 0 ? Math.sqrt(after / data.maxAfter) : 0;
      var color = after < before ? data.colors.fewer
        : (after > before ? data.colors.more : data.colors.same);
      var marker = L.circleMarker([r[c.lat], r[c.lon]], {
        radius: 5 + 25 * share, color: "#333333", weight: 1, fillColor: color,
        fillOpacity: 0.75, className: "sm-agg sm-agg-" + data.level
      });
      marker.bindTooltip(fmt(before) + "→" + fmt(after), {
        permanent: true, direction: "center", className: "sm-agg-label"
      });
      marker.bindPopup(function () {
        return SM.factTable(r[c.prefecture_name] + " · " + data.label, [
          ["规划前学校数", before], ["规划后学校数", after], ["撤并", r[c.closed]],
          ["新建", r[c.new]], ["扩建", r[c.expanded]], ["新增学位", r[c.seats_added]],
          ["学位使用率", pct(r[c.utilization])], ["市州代码", r[c.prefecture_code]]
        ]);
      }, { maxWidth: 320 });
      group.addLayer(marker);
    });
    window.__aggregateCounts[data.level] = data.rows.length;
    return group;
  };

  /* config: {title, lines: [text], colors: {fewer, more, same}, labels: {...}, note} */
  SM.addProvinceLegend = function (map, config) {
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var box = el("div", "sm-legend");
        box.appendChild(el("div", "sm-title", config.title));
        ["fewer", "same", "more"].forEach(function (key) {
          var row = el("div", "sm-row");
          var sw = el("span", "sm-dot");
          sw.style.background = config.colors[key];
          row.appendChild(sw);
          row.appendChild(el("span", null, config.labels[key]));
          box.appendChild(row);
        });
        config.lines.forEach(function (text) { box.appendChild(el("div", null, text)); });
        if (config.note) { box.appendChild(el("div", "sm-note", config.note)); }
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    map.addControl(new Legend());
  };
})(window.SchoolMap);
