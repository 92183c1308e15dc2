// "Notify me": the one script on Varde's public pages, and only an addition. Without it (or in a browser without
// web push) the page and the e-mail form work as they are; with it, a button asks the browser for a push
// subscription and hands it to Varde with the area and tier chosen in the form.
(function () {
  var box = document.getElementById('push');
  if (!box || !('serviceWorker' in navigator) || !('PushManager' in window) || !window.fetch) return;
  var section = document.getElementById('subscribe-section');
  var form = document.getElementById('subscribe');
  var status = box.querySelector('[role=status]');
  section.hidden = false;
  box.hidden = false;

  function applicationServerKey(base64url) {
    var base64 = (base64url + '==='.slice((base64url.length + 3) % 4)).replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(base64);
    var key = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) key[i] = raw.charCodeAt(i);
    return key;
  }

  box.querySelector('button').addEventListener('click', function () {
    var fylker = Array.prototype.map.call(form.querySelectorAll('input[name=fylke]:checked'), function (input) {
      return input.value;
    });
    var tier = form.querySelector('input[name=min_tier]:checked');
    navigator.serviceWorker.register('/sw.js')
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: applicationServerKey(box.getAttribute('data-key'))
        });
      })
      .then(function (subscription) {
        var json = subscription.toJSON();
        return fetch('/api/v1/subscriptions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            channel: 'push', endpoint: json.endpoint, keys: json.keys, fylker: fylker,
            min_tier: tier ? tier.value : 'warning', lang: document.documentElement.lang
          })
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        status.textContent = box.getAttribute('data-done');
      })
      .catch(function () {
        status.textContent = box.getAttribute('data-failed');
      });
  });
})();
