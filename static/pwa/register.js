// Registers the service worker (installable app, offline notice). A file, not an inline script,
// so that the Content-Security-Policy can forbid inline scripts.
(function () {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
      /* no service worker: the site works as before, only without the offline notice */
    });
  });
})();
