// Vitest setup: jsdom lacks a few browser APIs the components use.
if (!Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = function () {};

// jsdom has no matchMedia; uPlot asks it for the pixel ratio when it loads.
if (typeof window !== 'undefined' && !window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}
