/* TradeCRM service worker (served at /sw.js so that it controls the whole site).
   - Static files (/static/…: CSS, JS, icons; whitenoise gives them hashed names in production):
     cache first, filled as they are fetched.
   - Pages: always from the network (customer data is never cached on the phone); when the network
     is down, the offline notice (/offline/, cached at install) is shown instead.
   - Everything else (API, htmx partials, POSTs) passes through untouched. */
"use strict";
const VERSION = "tradecrm-v1";
const STATIC_CACHE = VERSION + "-static";
const OFFLINE_URL = "/offline/";
const PRECACHE = [OFFLINE_URL, "/static/pwa/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => !k.startsWith(VERSION)).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(() => caches.match(OFFLINE_URL).then((r) => r || Response.error()))
    );
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.open(STATIC_CACHE).then((cache) =>
        cache.match(request).then((hit) => {
          if (hit) return hit;
          return fetch(request).then((response) => {
            if (response.ok) cache.put(request, response.clone());
            return response;
          });
        })
      )
    );
  }
});
