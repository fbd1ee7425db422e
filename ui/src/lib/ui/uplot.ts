// uPlot, loaded when the first chart is drawn. It formats numbers for `navigator.language` as
// it loads; a web view started under the C locale reports "C", which Intl refuses, so that
// case falls back to English number formats rather than losing the charts (or the window).
import type uPlotType from 'uplot';

let loading: Promise<typeof uPlotType | null> | null = null;

export function loadUplot(): Promise<typeof uPlotType | null> {
  loading ??= (async () => {
    try {
      new Intl.NumberFormat(navigator.language);
    } catch {
      try {
        Object.defineProperty(navigator, 'language', { value: 'en-US', configurable: true });
      } catch {
        /* the import below reports it */
      }
    }
    try {
      return (await import('uplot')).default;
    } catch (e) {
      console.error('charts unavailable:', e);
      return null;
    }
  })();
  return loading;
}
