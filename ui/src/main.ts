import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { AppState } from './lib/shell/app.svelte';
import { useApi } from './lib/shell/api';

async function start() {
  const target = document.getElementById('app')!;
  // Outside the Tauri shell (a plain browser with ?demo) the screens run over sample data.
  if (!('__TAURI_INTERNALS__' in window) && location.search.includes('demo')) {
    const { demoNode } = await import('./lib/testing/demo');
    const node = location.search.includes('demo=first') ? new (await import('./lib/testing/fake')).FakeNode() : await demoNode();
    useApi(node.api());
    return mount(App, { target, props: { app: new AppState(node.api()) } });
  }
  return mount(App, { target });
}

// A window that cannot start says why instead of staying blank.
start().catch((e: unknown) => {
  const target = document.getElementById('app');
  if (target) target.textContent = `Commonplace could not open its window: ${String((e as Error)?.stack ?? e)}`;
  console.error(e);
});
