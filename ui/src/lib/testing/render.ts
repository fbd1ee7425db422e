// Rendering a component inside an app over a fake node.
import { render } from '@testing-library/svelte';
import type { Component } from 'svelte';
import { AppState } from '../shell/app.svelte';
import { APP_KEY } from '../shell/context';
import { FakeNode } from './fake';

export async function startApp(seed = true): Promise<{ node: FakeNode; app: AppState }> {
  const node = new FakeNode();
  if (seed) node.seed();
  const app = new AppState(node.api());
  await app.start();
  return { node, app };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function renderIn(app: AppState, component: Component<any>, props: Record<string, unknown> = {}) {
  const context = new Map<unknown, unknown>([[APP_KEY, app]]);
  return render(component, { props, context });
}

/** Lets promises and Svelte effects settle. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}
