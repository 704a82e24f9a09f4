// rstscope's service worker: keeps the app's own files so that the page works with no network
// after the first visit. It never touches a capture: it only answers requests for the app's
// files, from its cache first. The file list and the version are written into this file after
// each build (scripts/post_build.py), so every release gets a cache of its own and the old one
// is deleted when the new one takes over.
const VERSION = '__RSTSCOPE_VERSION__';
const FILES = __RSTSCOPE_FILES__;
const CACHE = `rstscope-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES.map((file) => new URL(file, self.registration.scope))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith('rstscope-') && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || !request.url.startsWith(self.registration.scope)) return;
  // Navigations (the page itself, at its folder's URL) are answered with the cached index.html.
  const key = request.mode === 'navigate' ? new URL('index.html', self.registration.scope) : request;
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(key, { ignoreSearch: true }).then((hit) => hit ?? fetch(request)),
    ),
  );
});
