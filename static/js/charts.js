// Report charts: draws every `.chart[data-chart]` (templates/reports/_chart.html) with the vendored
// Apache ECharts (static/vendor/echarts/echarts.min.js, loaded before this file, both `defer`).
// The spec (lms.reports.tables.chart_spec): {"type": "bar"|"line"|"funnel"|"histogram", "unit": "%",
// "labels": [...], "series": [{"name", "values": [number|null, ...]}]}; `data-height` in px.
// CSP (script-src/style-src 'self'): nothing inline; the SVG renderer and the "richText" tooltip keep
// ECharts from writing HTML with style attributes (styles it sets through the DOM are allowed).
// The same data is always in the <details class="chart-data"> table beneath: opened for print, and
// left open when the chart cannot be drawn.
(function () {
  "use strict";

  var PALETTE = ["#0b6e4f", "#f0b429", "#2f6fb3", "#ba2525", "#7b5ea7", "#3c9d9b", "#e07b39", "#616e7c"];
  var drawn = [];

  function gap(value) { return value === null || value === undefined ? "-" : value; }  // "-": no point, a gap

  function withUnit(unit) {
    return function (value) { return unit ? value + unit : String(value); };
  }

  function highest(series) {
    var top = 0;
    series.forEach(function (one) {
      (one.values || []).forEach(function (value) { if (typeof value === "number" && value > top) top = value; });
    });
    return top;
  }

  function narrow() { return window.innerWidth < 600; }

  function cartesian(spec) {
    var unit = spec.unit || "";
    var series = spec.series || [];
    var histogram = spec.type === "histogram";
    var line = spec.type === "line";
    var many = series.length > 1;
    return {
      color: PALETTE,
      animation: false,
      tooltip: {trigger: "axis", renderMode: "richText", valueFormatter: withUnit(unit)},
      legend: many ? {type: "scroll", top: 0} : undefined,
      grid: {left: 8, right: 16, top: many ? 36 : 16, bottom: 8, containLabel: true},
      xAxis: {
        type: "category",
        data: spec.labels || [],
        axisTick: {alignWithLabel: !histogram},
        axisLabel: {hideOverlap: true, rotate: (narrow() && (spec.labels || []).length > 4) ? 40 : 0}
      },
      yAxis: {
        type: "value",
        axisLabel: {formatter: withUnit(unit)},
        max: unit === "%" && highest(series) <= 100 ? 100 : null  // a rate reads against the whole
      },
      series: series.map(function (one) {
        var options = {
          name: one.name,
          type: line ? "line" : "bar",
          data: (one.values || []).map(gap),
          connectNulls: false,
          emphasis: {focus: "series"}
        };
        if (histogram) {  // touching bars: the bins are contiguous
          options.barCategoryGap = "0%";
          options.barGap = "0%";
          options.itemStyle = {borderColor: "#fff", borderWidth: 1};
        } else if (!line) {
          options.barMaxWidth = 48;
        }
        return options;
      })
    };
  }

  function funnel(spec) {
    var unit = spec.unit || "";
    var first = (spec.series || [])[0] || {name: "", values: []};
    var labels = spec.labels || [];
    return {
      color: PALETTE,
      animation: false,
      tooltip: {trigger: "item", renderMode: "richText", valueFormatter: withUnit(unit)},
      series: [{
        name: first.name,
        type: "funnel",
        sort: "none",  // the stages in their order (lessons -> exams -> practicals -> promoted)
        minSize: "8%",
        left: "5%", right: "5%", top: 8, bottom: 8,
        label: {position: "inside", formatter: function (item) {
          return item.name + (item.value === null || item.value === undefined || item.value === "-" ? "" : " " + item.value + unit);
        }},
        data: labels.map(function (label, index) { return {name: label, value: gap(first.values[index])}; })
      }]
    };
  }

  function optionFor(spec) {
    if (spec.type === "funnel") return funnel(spec);
    if (["bar", "line", "histogram"].indexOf(spec.type) === -1) throw new Error("unknown chart type " + spec.type);
    return cartesian(spec);
  }

  function showTableInstead(element) {
    element.hidden = true;
    var details = element.parentNode && element.parentNode.querySelector("details.chart-data");
    if (details) details.open = true;
  }

  function draw(element) {
    var spec;
    try {
      spec = JSON.parse(element.getAttribute("data-chart"));
      element.style.height = (parseInt(element.getAttribute("data-height"), 10) || 280) + "px";
      var chart = window.echarts.init(element, null, {renderer: "svg"});
      var option = optionFor(spec);
      option.textStyle = {fontFamily: window.getComputedStyle(element).fontFamily};  // the page's CJK fonts
      chart.setOption(option);
      element.classList.add("chart-drawn");
      drawn.push(chart);
    } catch (error) {
      showTableInstead(element);
      if (window.console) window.console.warn("chart not drawn:", error);
    }
  }

  var elements = document.querySelectorAll(".chart[data-chart]");
  if (!elements.length) return;
  if (typeof window.echarts === "undefined") {
    Array.prototype.forEach.call(elements, showTableInstead);
    return;
  }
  Array.prototype.forEach.call(elements, draw);

  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      drawn.forEach(function (chart) { chart.resize(); });
    });
  });

  // Print: the tables stand in for the charts (print.css hides the charts); open them for the page
  // and close again the ones the reader had closed.
  var closedForPrint = [];
  window.addEventListener("beforeprint", function () {
    closedForPrint = Array.prototype.filter.call(document.querySelectorAll("details.chart-data"),
      function (details) { return !details.open; });
    closedForPrint.forEach(function (details) { details.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closedForPrint.forEach(function (details) { details.open = false; });
    closedForPrint = [];
  });
}());
