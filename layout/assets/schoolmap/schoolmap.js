/* School layout map helpers (part of this project, MIT licence).
 *
 * Every user-provided string (school, township, county names, reasons) is put into the page with
 * textContent, never innerHTML, so markup or ${...} in a name shows as text.
 * Exposes window.SchoolMap and, for tests and benchmarks, window.__schoolFeatureCount,
 * window.__schoolLayerCounts and window.__mapReady.
 */
(function () {
  "use strict";
  var SM = { schoolLayers: [] };
  window.SchoolMap = SM;
  window.__schoolFeatureCount = 0;
  window.__schoolLayerCounts = {};
  window.__mapReady = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  SM.el = el;

  function fmt(value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (typeof value === "number") {
      return Number.isInteger(value) ? value.toLocaleString("zh-CN")
        : value.toLocaleString("zh-CN", { maximumFractionDigits: 1 });
    }
    return String(value);
  }

  /* A two-column table of [label, value] pairs, built with textContent only. */
  function factTable(title, pairs) {
    var box = el("div", "sm-facts");
    box.appendChild(el("div", "sm-title", title));
    var table = el("table");
    pairs.forEach(function (pair) {
      var row = el("tr");
      row.appendChild(el("th", null, pair[0]));
      row.appendChild(el("td", null, fmt(pair[1])));
      table.appendChild(row);
    });
    box.appendChild(table);
    return box;
  }
  SM.factTable = factTable;

  function radius(cap) {
    var r = 3 + Math.sqrt(Math.max(cap || 0, 0)) / 6;
    return Math.max(3, Math.min(12, r));
  }

  /* data: {level, label, cols, rows, reasons, merge} ; config: {actions: {key: {label, color}}} */
  SM.schoolLayer = function (group, data, config) {
    var c = {};
    data.cols.forEach(function (name, i) { c[name] = i; });
    var features = data.rows.map(function (r) {
      var props = {};
      data.cols.forEach(function (name, i) { props[name] = r[i]; });
      props.reason = data.reasons[r[c.reason]];
      return { type: "Feature", geometry: { type: "Point", coordinates: [r[c.lon], r[c.lat]] },
        properties: props };
    });
    var actions = config.actions;
    var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        var a = actions[p.action] || { color: "#666666" };
        var closing = p.action === "close" || p.action === "merge";
        return L.circleMarker(latlng, {
          radius: radius(closing ? p.capacity_base : p.capacity_after),
          color: p.action === "new" ? "#222222" : a.color,
          weight: 1, fillColor: a.color, fillOpacity: closing ? 0.45 : 0.85,
          dashArray: closing ? "2,2" : null, className: "sm-school sm-school-" + data.level
        });
      },
      onEachFeature: function (feature, lyr) {
        var p = feature.properties;
        var label = (actions[p.action] || { label: p.action }).label;
        lyr.bindTooltip(function () {
          var box = el("div", "sm-tip");
          box.appendChild(el("b", null, p.name));
          box.appendChild(el("span", null, " · " + data.label + " · " + label));
          return box;
        }, { sticky: true });
        lyr.bindPopup(function () {
          var target = p.merge_into ? (p.merge_name ? p.merge_name + "（" + p.merge_into + "）"
            : p.merge_into) : "";
          return factTable(p.name, [
            ["名称", p.name], ["学段", data.label], ["措施", label], ["并入", target],
            ["现有学位", p.capacity_base], ["规划学位", p.capacity_after],
            ["在校生", p.enrollment_base], ["目标年需求", p.demand_target],
            ["寄宿生", p.boarders], ["原因", p.reason], ["学校代码", p.school_id]
          ]);
        }, { maxWidth: 360 });
      }
    });
    group.addLayer(layer);
    SM.schoolLayers.push(layer);
    if (data.merge.length) {
      var lines = [];
      for (var i = 0; i < data.merge.length; i += 4) {
        lines.push([[data.merge[i + 1], data.merge[i]], [data.merge[i + 3], data.merge[i + 2]]]);
      }
      group.addLayer(L.polyline(lines, { color: config.mergeColor, weight: 2, opacity: 0.9,
        dashArray: "6,4", interactive: false }));
    }
    window.__schoolFeatureCount += features.length;
    window.__schoolLayerCounts[data.level] = features.length;
    return layer;
  };

  /* flat: [lon1, lat1, lon2, lat2, ...] -> one multi-polyline (cheap for many lines). */
  SM.lineLayer = function (group, flat, style) {
    var lines = [];
    for (var i = 0; i < flat.length; i += 4) {
      lines.push([[flat[i + 1], flat[i]], [flat[i + 3], flat[i + 2]]]);
    }
    if (lines.length) { group.addLayer(L.polyline(lines, style)); }
  };

  SM.boundaryLayer = function (group, geojson, style) {
    group.addLayer(L.geoJSON(geojson, {
      style: function () { return style; },
      onEachFeature: function (feature, lyr) {
        lyr.bindTooltip(function () { return el("span", null, feature.properties.name); },
          { sticky: true });
      }
    }));
  };

  function binColor(value, bins) {
    if (value === null || value === undefined || Number.isNaN(value)) { return bins.missing; }
    for (var i = 0; i < bins.edges.length; i += 1) {
      if (value < bins.edges[i]) { return bins.colors[i]; }
    }
    return bins.colors[bins.colors.length - 1];
  }

  /* data: {labels (one per year), geojson (properties: code, name, pop[], chg[]), bins} */
  SM.choroplethLayer = function (group, data) {
    var state = { index: data.labels.length - 1 };
    var layer = L.geoJSON(data.geojson, {
      style: function (feature) {
        return { color: "#7a7a7a", weight: 0.6, fillOpacity: 0.6,
          fillColor: binColor(feature.properties.chg[state.index], data.bins) };
      },
      onEachFeature: function (feature, lyr) {
        lyr.bindTooltip(function () {
          var p = feature.properties;
          var pct = p.chg[state.index];
          return factTable(p.name, [
            ["年份", data.labels[state.index]],
            ["学龄人口", p.pop[state.index]],
            ["较" + data.labels[0] + "变化", pct === null ? null : (pct * 100).toFixed(1) + "%"]
          ]);
        }, { sticky: true });
      }
    });
    group.addLayer(layer);
    state.setYear = function (index) {
      state.index = index;
      layer.setStyle(function (feature) {
        return { fillColor: binColor(feature.properties.chg[index], data.bins) };
      });
    };
    state.layer = layer;
    return state;
  };

  // A year slider driving state.setYear(i); options: title, aria, className, global (the
  // window property the tests read; default "__yearSlider", null for none).
  SM.addSlider = function (map, state, labels, options) {
    var o = options || {};
    var title = o.title || "学龄人口变化";
    var global = o.global === undefined ? "__yearSlider" : o.global;
    if (labels.length < 2) { return null; }
    if (global) { window[global] = state; }
    var Slider = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        var box = el("div", o.className || "sm-slider leaflet-bar");
        var label = el("div", "sm-slider-label", title + " · " + labels[state.index]);
        var input = el("input");
        input.type = "range"; input.min = "0"; input.max = String(labels.length - 1);
        input.step = "1"; input.value = String(state.index);
        input.setAttribute("aria-label", o.aria || "预测年份");
        input.addEventListener("input", function () {
          var idx = parseInt(input.value, 10);
          state.setYear(idx);
          label.textContent = title + " · " + labels[idx];
        });
        box.appendChild(label);
        box.appendChild(input);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    var control = new Slider();
    map.addControl(control);
    return control;
  };

  /* config: {title, actions: {key: {label, color}}, mergeColor, bins (optional), synthetic} */
  SM.addLegend = function (map, config) {
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var box = el("div", "sm-legend");
        box.appendChild(el("div", "sm-title", config.title));
        Object.keys(config.actions).forEach(function (key) {
          var row = el("div", "sm-row");
          var sw = el("span", "sm-dot");
          sw.style.background = config.actions[key].color;
          row.appendChild(sw);
          row.appendChild(el("span", null, config.actions[key].label));
          box.appendChild(row);
        });
        var mrow = el("div", "sm-row");
        var line = el("span", "sm-line");
        line.style.borderTopColor = config.mergeColor;
        mrow.appendChild(line);
        mrow.appendChild(el("span", null, "撤并去向"));
        box.appendChild(mrow);
        if (config.bins) {
          box.appendChild(el("div", "sm-title", "学龄人口变化率"));
          config.bins.labels.forEach(function (text, i) {
            var row = el("div", "sm-row");
            var sw = el("span", "sm-box");
            sw.style.background = config.bins.colors[i];
            row.appendChild(sw);
            row.appendChild(el("span", null, text));
            box.appendChild(row);
          });
        }
        if (config.note) { box.appendChild(el("div", "sm-note", config.note)); }
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    map.addControl(new Legend());
  };

  SM.ready = function (map) {
    window.__schoolMap = map;
    window.__mapReady = true;
    window.__mapReadyAt = window.performance ? window.performance.now() : null;
  };
})();
