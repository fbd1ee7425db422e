// One shared clock so relative dates ("2 minutes ago") stay true while the app is open.
class Clock {
  value = $state(Date.now());
  #timer: ReturnType<typeof setInterval> | null = null;

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => (this.value = Date.now()), 30_000);
  }
}

export const now = new Clock();
