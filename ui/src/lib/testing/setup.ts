// Vitest setup: jsdom lacks a few browser APIs the components use.
if (!Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = function () {};
