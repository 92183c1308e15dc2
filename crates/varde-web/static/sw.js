// Varde's service worker: shows a warning pushed by the server (RFC 8030; the browser has already decrypted it)
// and opens the alert page when the notification is tapped. It caches nothing: the pages are always fresh.
self.addEventListener('push', function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { title: 'Varde', body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(self.registration.showNotification(data.title || 'Varde', {
    body: data.body || '',
    tag: data.tag,
    lang: data.lang,
    renotify: true,
    requireInteraction: data.tier === 'severe',
    data: { url: data.url || '/alerts' }
  }));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data.url));
});
