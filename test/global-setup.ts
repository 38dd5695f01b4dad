// Runs once in the main vitest process before any worker starts.
export function setup(): void {}
