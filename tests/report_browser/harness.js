// Test harness of the report's browser tests (driver.rs), injected at the end of the body
// of a copy of index.html (never shipped). After the page's own load handler it
// measures the page at the window's width, clicks a header of the full
// table twice and types into its filter box, then writes the results as
// JSON into a pre element with id kd-test for `chromium --dump-dom` to carry out.
window.addEventListener('load', function () {
  var r = { innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth };
  var imgs = Array.prototype.slice.call(document.images);
  r.images = imgs.length;
  r.broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
    .map(function (i) { return i.getAttribute('src'); });
  // Every element must end inside the viewport, except inside a box that
  // clips or scrolls horizontally (that box itself must fit).
  function clipped(e) {
    for (var a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      var o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  }
  r.wide = [];
  Array.prototype.forEach.call(document.querySelectorAll('body *'), function (e) {
    if (clipped(e)) return;
    var b = e.getBoundingClientRect();
    if (b.width > 0 && (b.right > window.innerWidth + 0.5 || b.left < -0.5)) {
      r.wide.push(e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') +
        ' right=' + Math.round(b.right));
    }
  });
  // Rendered width per map panel in the gallery.
  r.maps = Array.prototype.map.call(document.querySelectorAll('#explanations img'), function (i) {
    return i.getBoundingClientRect().width / Number(i.getAttribute('data-panels') || 1);
  });
  r.finding_configs = Array.prototype.map.call(
    document.querySelectorAll('#finding-table tbody tr[data-config]'),
    function (tr) { return tr.getAttribute('data-config'); });
  r.finding_text = (document.getElementById('finding') || document.body).textContent;
  var table = document.getElementById('full-table');
  function order() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (tr) {
      return tr.getAttribute('data-config');
    });
  }
  if (table) {
    var th = table.querySelector('th[data-col="accuracy"]');
    r.sort_column = Array.prototype.indexOf.call(th.parentElement.cells, th);
    r.before = order();
    th.click();
    r.ascending = order();
    r.aria = th.getAttribute('aria-sort');
    th.click();
    r.descending = order();
    var box = document.querySelector('input[data-filter="full-table"]');
    box.value = 'control';
    box.dispatchEvent(new Event('input'));
    r.filtered = Array.prototype.filter.call(table.tBodies[0].rows, function (tr) {
      return !tr.hidden;
    }).map(function (tr) { return tr.getAttribute('data-config'); });
  }
  var pre = document.createElement('pre');
  pre.id = 'kd-test';
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
});
