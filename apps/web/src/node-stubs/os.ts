/**
 * `node:os` in the browser build: @meshplan/training's search asks how many cores it may
 * start worker threads on; in a page it starts none (the search already runs in a Web
 * Worker), so one.
 */
export const availableParallelism = (): number => 1
