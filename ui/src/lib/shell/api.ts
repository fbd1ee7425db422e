// Where the state modules get the backend from. The app uses the real one; unit tests install
// a fake with `useApi` before creating any state.
import { backend, onEvent, type AppEventName, type Backend, type NodeEvent } from '../backend';

export type Unsubscribe = () => void;
export type Subscribe = (name: AppEventName, handler: (payload: NodeEvent | null) => void) => Promise<Unsubscribe>;

export interface Api {
  backend: Backend;
  on: Subscribe;
}

let current: Api = { backend, on: onEvent };

export function api(): Api {
  return current;
}

export function useApi(next: Api): void {
  current = next;
}

/** Subscribes to several events at once; the returned function unsubscribes from all. */
export function listenAll(
  names: AppEventName[],
  handler: (name: AppEventName, payload: NodeEvent | null) => void,
  from: Api = current,
): Unsubscribe {
  const offs: Unsubscribe[] = [];
  let closed = false;
  for (const name of names) {
    from
      .on(name, (p) => handler(name, p))
      .then((off) => (closed ? off() : offs.push(off)))
      .catch(() => {});
  }
  return () => {
    closed = true;
    offs.splice(0).forEach((off) => off());
  };
}
