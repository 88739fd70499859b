/**
 * The console's one script, served as /static/console.js (the CSP allows no inline script):
 * the honeypot's live tail over server-sent events. Pages work without it.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  var table = document.querySelector('[data-live-tail]');
  if (!table || !window.EventSource) return;
  var body = table.querySelector('tbody');
  var url = table.getAttribute('data-live-tail') + '?after=' + (table.getAttribute('data-last-id') || '0');
  var source = new EventSource(url);
  source.addEventListener('honeypot', function (m) {
    var e = JSON.parse(m.data);
    var row = document.createElement('tr');
    [e.time, e.eventid, e.srcIp, String(e.dstPort), e.summary].forEach(function (text) {
      var cell = document.createElement('td');
      cell.textContent = text;
      row.appendChild(cell);
    });
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
    table.setAttribute('data-last-id', m.lastEventId);
  });
})();
`;
