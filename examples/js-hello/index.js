/// <reference types="@fastly/js-compute" />
// Smallest useful Compute program: answers every request with "hello".
addEventListener("fetch", (event) => event.respondWith(new Response("hello")));
