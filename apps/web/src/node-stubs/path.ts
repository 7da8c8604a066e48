/**
 * `node:path` in the browser build: @meshplan/training's search joins the path of its
 * worker-thread script, which the `node:fs` stub then reports missing.
 */
export const join = (...parts: ReadonlyArray<string>): string => parts.join('/')
