/**
 * The cluster page's script (`/cluster.js`, issue 17), served by
 * qpy-multiuser itself: plain JavaScript, no build step. It listens to the
 * page's event stream (`/events`) and puts in the tables (`tables`) and
 * the plots (`plots`) the server renders again when they change; the
 * browser reconnects by itself when the stream breaks.
 */
export const CLUSTER_SCRIPT = `'use strict';
(function () {
  var note = document.getElementById('live-note');
  var es = new EventSource('/events');
  function put(id) {
    return function (e) {
      var el = document.getElementById(id);
      if (el) el.innerHTML = JSON.parse(e.data);
    };
  }
  es.addEventListener('tables', put('live'));
  es.addEventListener('plots', put('plots'));
  es.onopen = function () { if (note) note.textContent = 'Live: the tables update by themselves.'; };
  es.onerror = function () { if (note) note.textContent = 'Connection lost: reconnecting…'; };
})();
`;
