//! The page's inline CSS and JavaScript (no network, nothing vendored): the
//! layout that keeps every element inside the page (wide tables scroll in
//! their own box), sorting and filtering of `table.sortable`, and the
//! image check a headless browser reads.

pub(crate) const STYLE: &str = r#"
* { box-sizing: border-box; }
body { font-family: sans-serif; margin: 0 auto; padding: 1.5em 2em; color: #222; max-width: 1400px; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
.meta { color: #555; font-size: 0.9em; }
p.claim { font-size: 1.05em; max-width: 75em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; }
table.finding td.model { white-space: normal; min-width: 10em; }
table.finding .ci { display: block; color: #555; font-size: 0.85em; }
table.finding tr.group th { text-align: left; background: #e4ecf7; }
table.sortable th { cursor: pointer; white-space: nowrap; position: sticky; top: 0; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; }
table.sortable tr[hidden] { display: none; }
.tools input { font-size: 1em; padding: 0.2em 0.4em; width: 18em; max-width: 100%; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figure.wide img { width: 900px; }
.gallery { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 0.5em; margin-bottom: 0.5em; }
.gallery p.method { flex-basis: 100%; margin: 0.3em 0 0; font-weight: bold; }
.gallery figure.map { margin: 0; font-size: 0.8em; }
.gallery figure.map img { image-rendering: pixelated; }
.gallery figure.right figcaption { border-left: 4px solid #2a2; padding-left: 4px; }
.gallery figure.wrong figcaption { border-left: 4px solid #d22; padding-left: 4px; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; max-width: 100%; }
code { font-size: 0.9em; word-break: break-all; }
"#;

/// Sorting (a click on a header orders the rows by that column's `data-v`,
/// numerically when both values are numbers; missing values last; a second
/// click reverses), filtering (rows whose text contains every word of the
/// box) and, once loaded, `<body data-images-ok="<loaded>/<total>">`.
pub(crate) const SCRIPT: &str = r#"<script>
(function () {
  function val(row, col) {
    var c = row.cells[col];
    return c ? (c.getAttribute('data-v') || '') : '';
  }
  function compare(x, y) {
    if (x === y) return 0;
    if (x === '') return 1;
    if (y === '') return -1;
    var nx = Number(x), ny = Number(y);
    if (!isNaN(nx) && !isNaN(ny)) return nx - ny;
    return x.localeCompare(y);
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = val(a, col), y = val(b, col);
          if (x === '' || y === '') return compare(x, y);
          return asc ? compare(x, y) : compare(y, x);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('input[data-filter]'), function (box) {
    var id = box.getAttribute('data-filter');
    var table = document.getElementById(id);
    var count = document.querySelector('[data-count="' + id + '"]');
    box.addEventListener('input', function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var text = r.textContent.toLowerCase();
        r.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
        if (!r.hidden) shown++;
      });
      if (count) count.textContent = shown + ' rows';
    });
  });
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
    document.body.setAttribute('data-images-ok', ok + '/' + imgs.length);
  });
})();
</script>"#;
